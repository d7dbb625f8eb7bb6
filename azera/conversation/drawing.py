"""Pictures a persona draws in chat: ``[IMAGE_GEN: prompt]`` in a reply becomes a picture.

The model is told about the tag only when an image backend is configured. When the reply is saved, each
tag is taken out of the text and replaced by a "drawing…" line; the picture is queued with the persona's
``image_style`` before the prompt, and when it is done the line becomes the picture (a failure becomes a
short note). Without a backend a tag becomes a note saying so, never the raw tag.
"""

from __future__ import annotations

import logging
import re

from sqlmodel import Session

from azera.config import get_settings
from azera.db.engine import session_scope
from azera.db.models import ChatMessage, Persona
from azera.errors import ServiceError
from azera.images import jobs, store

log = logging.getLogger(__name__)
TAG = re.compile(r"\[IMAGE_GEN:\s*([^\]\n]{1,1000})\]", re.IGNORECASE)
MAX_PER_REPLY = 2


def chat_settings() -> dict[str, object]:
    """Size and steps of pictures drawn in chat (``AZERA_IMAGE_CHAT_SIZE``, ``AZERA_IMAGE_CHAT_STEPS``)."""
    settings = get_settings()
    side = settings.image_chat_size
    return {"width": side, "height": side, "steps": settings.image_chat_steps, "cfg": 7.0}


HINT = (
    "You can draw: when a picture would help, write [IMAGE_GEN: a short visual description] on its own line "
    "(at most one per reply); the picture appears in its place."
)


def pending_line(prompt: str, job_id: str) -> str:
    """What stands in the reply while its picture is drawn (found again by the job id)."""
    return f"[🎨 drawing: {prompt[:120]}…](#drawing-{job_id})"


def can_draw() -> bool:
    """An image backend is configured (the model may then be told about the tag)."""
    return bool(jobs.backends())


def prompt_hint() -> str:
    """The line for the system prompt ('' without a backend)."""
    return HINT if can_draw() else ""


def _finished(job: jobs.Job) -> None:
    """A chat picture is done (or failed): put it, or a note, where the drawing line is."""
    line = pending_line(job.label, job.id)
    if job.state == "done":
        new = "\n".join(f"![{job.label}]({store.image_url(image)})" for image in job.images)
    elif job.state == "cancelled":
        new = "*(the picture was cancelled)*"
    else:
        new = f"*(the picture could not be drawn: {job.error})*"
    with session_scope() as session:
        message = session.get(ChatMessage, job.message_id)
        if message is not None and line in message.content:
            message.content = message.content.replace(line, new)
            session.add(message)


def take_tags(
    session: Session, text: str, *, chat_id: str, message_id: str, persona_id: str
) -> tuple[str, list[jobs.Job]]:
    """A reply's text with its drawing tags replaced, and the drawings to queue once the reply is saved."""
    found = list(TAG.finditer(text))
    if not found:
        return text, []
    persona = session.get(Persona, persona_id)
    style = persona.image_style.strip() if persona is not None else ""
    pieces, drawings, last = [], [], 0
    for match in found:
        prompt = match.group(1).strip()
        pieces.append(text[last : match.start()])
        last = match.end()
        if len(drawings) >= MAX_PER_REPLY:
            continue
        if not can_draw():
            pieces.append(f"*(wanted to draw: {prompt} — no image backend is configured, see Canvas)*")
            continue
        try:
            job = jobs.prepare_drawing(
                {**chat_settings(), "prompt": f"{style}, {prompt}" if style else prompt},
                chat_id=chat_id,
                message_id=message_id,
            )
        except ServiceError as error:
            pieces.append(f"*(could not draw {prompt}: {error})*")
            continue
        job.label = prompt
        job.done_hooks.append(_finished)
        drawings.append(job)
        pieces.append(pending_line(prompt, job.id))
    pieces.append(text[last:])
    return "".join(pieces).strip(), drawings


def start(drawings: list[jobs.Job]) -> None:
    """Queue the drawings of a reply that is saved now (a full queue becomes a note in the reply)."""
    for job in drawings:
        try:
            jobs.image_queue().submit(job)
        except ServiceError as error:
            job.state, job.error = "failed", str(error)
            _finished(job)
