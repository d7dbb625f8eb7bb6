"""Dreams: while idle or tired, a persona recombines its own recent memories into a short dream."""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import logging
import re

from sqlmodel import col, select

from azera.db.engine import session_scope
from azera.db.models import Dream, Memory
from azera.llm.base import BackendError, ChatBackend, ChatTurn
from azera.memory.lexical import STOPWORDS
from azera.memory.service import MemoryService
from azera.mind.mood import infer_mood
from azera.mind.state import MentalState

log = logging.getLogger(__name__)
LOW_ENERGY = 0.3
IDLE_SECONDS = 2 * 3600
COOLDOWN_SECONDS = 3600
FRAGMENTS = 8
MIN_DREAM_CHARS = 40


def should_dream(state: MentalState, now: float, last_dream: float) -> bool:
    """Tired (energy < 0.3) or left alone for 2 hours, and no dream in the last hour."""
    if now - last_dream < COOLDOWN_SECONDS:
        return False
    idle = state.last_interaction > 0 and now - state.last_interaction >= IDLE_SECONDS
    return state.energy < LOW_ENERGY or idle


def last_dream_time(persona_id: str) -> float:
    """When the persona last dreamt (epoch seconds, 0 if never)."""
    with session_scope() as session:
        dream = session.exec(
            select(Dream).where(Dream.persona_id == persona_id).order_by(col(Dream.created_at).desc())
        ).first()
    return dream.created_at.timestamp() if dream else 0.0


def recent_fragments(persona_id: str, limit: int = FRAGMENTS) -> list[str]:
    """The persona's own latest conversation memories and facts (never another persona's)."""
    with session_scope() as session:
        rows = session.exec(
            select(Memory.text)
            .where(Memory.persona_id == persona_id, col(Memory.kind).in_(["conversation", "fact"]))
            .order_by(col(Memory.created_at).desc())
            .limit(limit)
        ).all()
    return [text[:300] for text in rows]


def themes_of(text: str, count: int = 3) -> list[str]:
    """The most frequent meaningful words of a text."""
    words = [w for w in re.findall(r"[a-zA-Z]{4,}", text.lower()) if w not in STOPWORDS]
    return [word for word, _ in collections.Counter(words).most_common(count)]


def usable(text: str) -> bool:
    """Whether a model's dream is worth keeping (not empty, not garbage)."""
    letters = sum(ch.isalpha() for ch in text)
    return len(text.strip()) >= MIN_DREAM_CHARS and letters >= 0.6 * len(text.strip())


@dataclasses.dataclass
class DreamResult:
    """A dream that was written, or why not."""

    dream_id: str = ""
    reason: str = ""


async def write_dream(
    *, persona_id: str, persona_name: str, backend: ChatBackend, model: str, memory: MemoryService | None
) -> DreamResult:
    """Write, store and index one dream; nothing is saved when the model returns nothing usable."""
    fragments = await asyncio.to_thread(recent_fragments, persona_id)
    if not fragments:
        return DreamResult(reason="no memories to dream about yet")
    prompt = (
        f"You are {persona_name}, asleep and dreaming. Recombine these fragments of your recent memories "
        "into a short, strange, vivid dream of three to five sentences, told in the first person.\n\n"
        + "\n".join(f"- {fragment}" for fragment in fragments)
        + "\n\nThe dream:"
    )
    text = ""
    try:
        async for piece in backend.stream_chat(
            model, [ChatTurn(role="user", content=prompt)], temperature=0.9, max_tokens=220, stop=asyncio.Event()
        ):
            text += piece
    except BackendError as error:
        return DreamResult(reason=f"the model failed: {error}")
    text = text.strip()
    if not usable(text):
        log.info("%s's dream came out empty or garbled; trying again later", persona_id)
        return DreamResult(reason="the model wrote nothing usable")
    emotion = await infer_mood(backend, model, text) or "thoughtful"

    def store() -> str:
        with session_scope() as session:
            dream = Dream(
                persona_id=persona_id,
                title=text.split(".")[0][:80],
                content=text,
                emotion=emotion,
                themes=themes_of(text),
            )
            session.add(dream)
            session.flush()
            memory_id = MemoryService.record(
                session, text=text, persona_id=persona_id, kind="dream", source=f"dream {dream.id}"
            ).id
            dream_id = dream.id
        if memory is not None:
            memory.index([memory_id])
        return dream_id

    return DreamResult(dream_id=await asyncio.to_thread(store))
