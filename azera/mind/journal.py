"""Journal: daily and on-demand reflections (journal mode lives in ``journal_mode``).

A reflection reads the persona's conversations (and dreams) of the last day and writes an entry with
a mood and a few insights, stored as a journal entry and as a memory, so the persona can recall it in
a later chat.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import UTC, datetime

from sqlmodel import Session, col, select

from azera.db.engine import session_scope
from azera.db.models import Chat, ChatMessage, Dream, JournalEntry, epoch, utcnow
from azera.llm.base import BackendError, ChatBackend, complete
from azera.memory.service import MemoryService
from azera.mind.mood import infer_mood
from azera.mind.writing import Written, store_with_memory, usable, whole_sentences

log = logging.getLogger(__name__)
MATERIAL_WINDOW_SECONDS = 24 * 3600
MATERIAL_MESSAGES = 30
MAX_INSIGHTS = 5


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
    entry = JournalEntry(
        persona_id=persona_id,
        title=title[:200],
        content=content,
        mood=mood[:32],
        insights=insights,
        kind=kind,
        source=source,
        created_at=created_at or utcnow(),
    )
    text = f"{entry.title}\n\n{content}" + ("\n\nInsights: " + "; ".join(insights) if insights else "")
    return entry, store_with_memory(session, entry, kind="journal", memory_text=text)


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
        text = whole_sentences(text)
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
