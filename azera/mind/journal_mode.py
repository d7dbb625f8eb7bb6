"""Journal mode: a chat becomes a notebook whose messages are kept as silent drafts.

"Done" compiles them into one titled article (a journal entry and a memory), "cancel" discards them, and
a session left open for 24 hours is compiled by the tick loop.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session, col, select

from azera.config import get_settings
from azera.db.engine import in_db, session_scope
from azera.db.models import Chat, JournalDraft, epoch, new_id, utcnow
from azera.errors import ServiceError
from azera.llm.base import BackendError, ChatBackend, complete
from azera.memory.service import MemoryService
from azera.mind.journal import save_entry
from azera.mind.mood import infer_mood
from azera.mind.writing import Written, usable
from azera.services.chats import get_chat

log = logging.getLogger(__name__)
ABANDONED_AFTER_SECONDS = 24 * 3600
MAX_DRAFT_CHARS = 20_000
MAX_DRAFTS = 500
SUMMARY_OVER_CHARS = 6000  # ~1,500 tokens: longer sessions get a model-written summary on top
MAX_IMAGE_BYTES = 10_000_000
MEDIA_URL = "/api/media/"  # served by the API from the data folder's media/ directory
IMAGE_TYPES = {b"\x89PNG\r\n\x1a\n": "png", b"\xff\xd8\xff": "jpg", b"GIF87a": "gif", b"GIF89a": "gif"}


def start_journal(session: Session, chat_id: str) -> Chat:
    """Put a chat in journal mode: its persona stops replying and messages become drafts."""
    chat = get_chat(session, chat_id)
    if not chat.journal_mode:
        chat.journal_mode, chat.journal_started_at = True, utcnow()
        session.add(chat)
    return chat


def _journal_chat(session: Session, chat_id: str) -> Chat:
    chat = get_chat(session, chat_id)
    if not chat.journal_mode:
        raise ServiceError("This chat is not in journal mode")
    return chat


def add_draft(session: Session, chat_id: str, text: str, *, kind: str = "text", media_path: str = "") -> JournalDraft:
    """Keep one journal-mode message (text, or an image with an optional caption) as a draft."""
    _journal_chat(session, chat_id)
    text = text.strip()
    if kind == "text" and not text:
        raise ServiceError("An empty message cannot be kept")
    if len(text) > MAX_DRAFT_CHARS:
        raise ServiceError(f"A journal message is at most {MAX_DRAFT_CHARS:,} characters (this one has {len(text):,})")
    count = len(session.exec(select(JournalDraft.id).where(JournalDraft.chat_id == chat_id)).all())
    if count >= MAX_DRAFTS:
        raise ServiceError(f"This journal session already holds {MAX_DRAFTS} drafts: finish it first")
    draft = JournalDraft(chat_id=chat_id, kind=kind, content=text, media_path=media_path)
    session.add(draft)
    session.flush()
    return draft


def media_dir() -> Path:
    """Where journal images live (inside the data folder)."""
    return get_settings().data_dir / "media"


def image_type(data: bytes) -> str:
    """The extension of a PNG, JPEG, GIF or WebP image (ServiceError for anything else or too big)."""
    if len(data) > MAX_IMAGE_BYTES:
        raise ServiceError(f"An image is at most {MAX_IMAGE_BYTES // 1_000_000} MB")
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    for magic, extension in IMAGE_TYPES.items():
        if data.startswith(magic):
            return extension
    raise ServiceError("That file is not a PNG, JPEG, GIF or WebP image")


def add_image_draft(session: Session, chat_id: str, data: bytes, caption: str = "") -> JournalDraft:
    """Keep an image (checked by its content) as a draft; the file goes to the data folder's media/."""
    _journal_chat(session, chat_id)
    relative = f"journal/{chat_id}/{new_id()}.{image_type(data)}"
    path = media_dir() / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return add_draft(session, chat_id, caption, kind="image", media_path=relative)


def list_drafts(session: Session, chat_id: str) -> list[JournalDraft]:
    """The chat's drafts, oldest first."""
    statement = select(JournalDraft).where(JournalDraft.chat_id == chat_id).order_by(col(JournalDraft.created_at))
    return list(session.exec(statement))


def _end_session(session: Session, chat: Chat, drafts: list[JournalDraft]) -> None:
    for draft in drafts:
        session.delete(draft)
    chat.journal_mode, chat.journal_started_at = False, None
    session.add(chat)


def cancel_journal(session: Session, chat_id: str) -> int:
    """Leave journal mode and discard its drafts (and their images); returns how many were discarded."""
    chat = _journal_chat(session, chat_id)
    drafts = list_drafts(session, chat_id)
    for draft in drafts:
        if draft.media_path:
            (media_dir() / draft.media_path).unlink(missing_ok=True)
    _end_session(session, chat, drafts)
    return len(drafts)


def abandoned_sessions(now: float) -> list[str]:
    """Chats left in journal mode for more than 24 hours."""
    cutoff = datetime.fromtimestamp(now - ABANDONED_AFTER_SECONDS, UTC)
    with session_scope() as session:
        statement = select(Chat.id).where(col(Chat.journal_mode).is_(True), col(Chat.journal_started_at) <= cutoff)
        return list(session.exec(statement))


def draft_markdown(drafts: list[JournalDraft]) -> str:
    """The drafts as the article's body, in the user's own words, each with its time."""
    parts = []
    for draft in drafts:
        stamp = f"**{datetime.fromtimestamp(epoch(draft.created_at)).astimezone():%H:%M}**"
        if draft.kind == "image":
            parts.append(f"{stamp} ![{draft.content or 'image'}]({MEDIA_URL}{draft.media_path})")
        else:
            parts.append(f"{stamp} {draft.content}")
    return "\n\n".join(parts)


def clean_title(answer: str) -> str:
    """A model's title answer cut to its first line, without quotes, markup or a 'Title:' prefix."""
    line = next((ln for ln in answer.splitlines() if ln.strip()), "")
    line = re.sub(r"^\s*(?:#+|title\s*:|\**\d{1,2}:\d{2}\**)\s*", "", line, flags=re.IGNORECASE).strip().strip("\"'*_ ")
    return line[:100] if usable(line, min_chars=3) else ""


_compiling: set[str] = set()


async def compile_journal(
    chat_id: str,
    *,
    backend: ChatBackend,
    model: str,
    memory: MemoryService | None,
    created_at: datetime | None = None,
) -> Written:
    """Turn a journal session's drafts into one titled article (entry + memory) and leave journal mode.

    The drafts are kept verbatim; the model only titles (and, for long sessions, summarises) them,
    so a failed or silly model never loses what the user wrote.
    """
    if chat_id in _compiling:
        return Written(reason="this journal is already being compiled", outcome="busy")
    _compiling.add(chat_id)
    try:

        def read(session: Session) -> tuple[str, list[JournalDraft]]:
            chat = _journal_chat(session, chat_id)
            return chat.ai_persona_id, list_drafts(session, chat_id)

        persona_id, drafts = await in_db(read)
        if not drafts:
            await in_db(lambda session: _end_session(session, get_chat(session, chat_id), []))
            return Written(reason="nothing was written in this journal session", outcome="nothing")
        body = draft_markdown(drafts)
        plain = "\n".join(d.content for d in drafts if d.content and d.kind == "text")
        words = plain.split()
        title = " ".join(words[:8]) or "Journal"
        summary = ""
        try:
            answer = await complete(
                backend,
                model,
                f"Give this journal entry a short title of at most eight words.\n\n{plain[:1500]}\n\nTitle:",
                temperature=0.3,
                max_tokens=16,
            )
            title = clean_title(answer) or title
            if len(body) > SUMMARY_OVER_CHARS:
                prompt = f"Summarise this journal in three sentences.\n\n{body[:6000]}"
                summary = await complete(backend, model, prompt, temperature=0.3, max_tokens=160)
        except BackendError as error:
            log.warning("journal %s: titling failed, using its first words: %s", chat_id, error)
        content = f"{summary}\n\n---\n\n{body}" if usable(summary) else body
        mood = await infer_mood(backend, model, " ".join(words)[:1500]) or ""
        draft_ids = [d.id for d in drafts]

        def store() -> str:
            with session_scope() as session:
                chat = _journal_chat(session, chat_id)
                current = [session.get(JournalDraft, draft_id) for draft_id in draft_ids]
                entry, memory_id = save_entry(
                    session,
                    persona_id=persona_id,
                    title=title,
                    content=content,
                    mood=mood,
                    insights=[],
                    kind="article",
                    source="journal mode",
                    created_at=created_at,
                )
                _end_session(session, chat, [d for d in current if d is not None])
                entry_id = entry.id
            if memory is not None:
                memory.index([memory_id])
            return entry_id

        return Written(id=await asyncio.to_thread(store))
    finally:
        _compiling.discard(chat_id)
