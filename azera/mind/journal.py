"""Journal: daily and on-demand reflections, and journal mode (silent drafts compiled into an article).

A reflection reads the persona's conversations (and dreams) of the last day and writes an entry with
a mood and a few insights. Journal mode turns a chat into a notebook: each message is kept as a
draft, and "done" compiles the drafts into one titled article. Both are stored as journal entries
and as memories, so the persona can recall them in a later chat.
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
from azera.db.models import Chat, ChatMessage, Dream, JournalDraft, JournalEntry, epoch, new_id, utcnow
from azera.errors import ServiceError
from azera.llm.base import BackendError, ChatBackend, complete
from azera.memory.service import MemoryService
from azera.mind.mood import infer_mood
from azera.mind.writing import Written, digest, usable
from azera.services.chats import get_chat

log = logging.getLogger(__name__)
MATERIAL_WINDOW_SECONDS = 24 * 3600
MATERIAL_MESSAGES = 30
ABANDONED_AFTER_SECONDS = 24 * 3600
MAX_DRAFT_CHARS = 20_000
MAX_DRAFTS = 500
SUMMARY_OVER_CHARS = 6000  # ~1,500 tokens: longer sessions get a model-written summary on top
MAX_INSIGHTS = 5
MAX_IMAGE_BYTES = 10_000_000
MEDIA_URL = "/api/media/"  # served by the API from the data folder's media/ directory
IMAGE_TYPES = {b"\x89PNG\r\n\x1a\n": "png", b"\xff\xd8\xff": "jpg", b"GIF87a": "gif", b"GIF89a": "gif"}


def should_reflect(now: float, hour: int, last_daily: float) -> bool:
    """Past today's reflection hour (local time) and no daily reflection since then: exactly once a day."""
    local = datetime.fromtimestamp(now).astimezone()
    due = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    return local >= due and last_daily < due.timestamp()


def last_daily_time(persona_id: str) -> float:
    """When the persona last wrote its daily reflection (epoch seconds, 0 if never)."""
    with session_scope() as session:
        entry = session.exec(
            select(JournalEntry)
            .where(JournalEntry.persona_id == persona_id, JournalEntry.source == "daily")
            .order_by(col(JournalEntry.created_at).desc())
        ).first()
    return epoch(entry.created_at) if entry else 0.0


def save_entry(
    session: Session,
    *,
    persona_id: str,
    title: str,
    content: str,
    mood: str,
    insights: list[str],
    kind: str,
    source: str,
    created_at: datetime | None = None,
) -> tuple[JournalEntry, str]:
    """Store a journal entry and the memory it becomes (same transaction); returns it and the memory id."""
    created_at = created_at or utcnow()
    entry = JournalEntry(
        persona_id=persona_id,
        title=title[:200],
        content=content,
        mood=mood[:32],
        insights=insights,
        kind=kind,
        source=source,
        digest=digest(persona_id, content),
        created_at=created_at,
    )
    session.add(entry)
    session.flush()
    text = f"{entry.title}\n\n{content}"
    if insights:
        text += "\n\nInsights: " + "; ".join(insights)
    memory = MemoryService.record(
        session,
        text=text[:20_000],
        persona_id=persona_id,
        kind="journal",
        source=f"journal {entry.id}",
        created_at=created_at,
    )
    return entry, memory.id


def recent_material(persona_id: str, since: float, limit: int = MATERIAL_MESSAGES) -> list[str]:
    """The persona's own conversation lines and dreams since ``since`` (oldest first)."""
    start = datetime.fromtimestamp(since, UTC)
    with session_scope() as session:
        rows = session.exec(
            select(ChatMessage.role, ChatMessage.content)
            .join(Chat, col(Chat.id) == col(ChatMessage.chat_id))
            .where(Chat.ai_persona_id == persona_id, ChatMessage.created_at >= start, ChatMessage.content != "")
            .order_by(col(ChatMessage.created_at).desc())
            .limit(limit)
        ).all()
        dreams = session.exec(
            select(Dream.content)
            .where(Dream.persona_id == persona_id, Dream.created_at >= start)
            .order_by(col(Dream.created_at).desc())
            .limit(3)
        ).all()
    lines = [f"{'I said' if role == 'assistant' else 'They said'}: {text[:300]}" for role, text in reversed(rows)]
    return lines + [f"I dreamt: {text[:300]}" for text in reversed(dreams)]


def parse_insights(answer: str) -> list[str]:
    """Bullet or numbered lines of a model's answer, cleaned; at most five."""
    found: list[str] = []
    for line in answer.splitlines():
        match = re.match(r"\s*(?:[-*•]|\d+[.)])\s+(.*)", line)
        text = match.group(1).strip().strip("*").strip() if match else ""
        if usable(text, min_chars=8) and text.lower() not in (f.lower() for f in found):
            found.append(text[:200])
    return found[:MAX_INSIGHTS]


def sentences(text: str) -> list[str]:
    """The sentences of a text (good enough for fallbacks)."""
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if len(s.split()) >= 5]


async def write_reflection(
    *,
    persona_id: str,
    persona_name: str,
    backend: ChatBackend,
    model: str,
    memory: MemoryService | None,
    source: str = "manual",
    now: float | None = None,
    fallback_mood: str = "",
) -> Written:
    """Reflect on the last day: write, store and index one entry; nothing is saved if the model fails."""
    now = datetime.now(UTC).timestamp() if now is None else now
    material = await asyncio.to_thread(recent_material, persona_id, now - MATERIAL_WINDOW_SECONDS)
    if not material:
        return Written(reason="nothing to reflect on yet (no conversations in the last day)", outcome="nothing")
    prompt = (
        f"You are {persona_name}, writing in your private journal tonight. In four to six sentences, "
        "in the first person, reflect on your recent conversations: what happened, how you feel about it, "
        "and what you learned.\n\n" + "\n".join(material) + "\n\nJournal entry:"
    )
    try:
        text = await complete(backend, model, prompt, temperature=0.7, max_tokens=260)
    except BackendError as error:
        return Written(reason=f"the model failed: {error}", outcome="failed")
    if not usable(text):
        log.info("%s's reflection came out empty or garbled; trying again later", persona_id)
        return Written(reason="the model wrote nothing usable", outcome="failed")
    insights: list[str] = []
    try:
        answer = await complete(
            backend,
            model,
            "List three short insights from this journal entry, one per line, each starting with '- '.\n\n"
            f"{text}\n\nInsights:\n- ",
            temperature=0.3,
            max_tokens=120,
        )
        insights = parse_insights("- " + answer)
    except BackendError as error:
        log.warning("insights for %s's reflection failed: %s", persona_id, error)
    insights = insights or [s[:200] for s in sentences(text)[1:4]]
    mood = await infer_mood(backend, model, text) or fallback_mood or "thoughtful"
    moment = datetime.fromtimestamp(now, UTC)
    title = f"Reflection, {datetime.fromtimestamp(now).astimezone():%A %d %B %Y}"

    def store() -> str:
        with session_scope() as session:
            entry, memory_id = save_entry(
                session,
                persona_id=persona_id,
                title=title,
                content=text,
                mood=mood,
                insights=insights,
                kind="reflection",
                source=source,
                created_at=moment,
            )
            entry_id = entry.id
        if memory is not None:
            memory.index([memory_id])
        return entry_id

    return Written(id=await asyncio.to_thread(store))


# --- journal mode -------------------------------------------------------------------------------


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
