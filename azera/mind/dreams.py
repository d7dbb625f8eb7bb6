"""Dreams: while idle or tired, a persona recombines its own recent memories into a short dream."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from sqlmodel import Session, col, select

from azera.db.engine import session_scope
from azera.db.models import Dream, Memory, epoch, utcnow
from azera.llm.base import BackendError, ChatBackend, complete
from azera.memory.service import MemoryService
from azera.mind.mood import infer_mood
from azera.mind.state import MentalState
from azera.mind.writing import Written, copies, store_with_memory, themes_of, usable, whole_sentences

log = logging.getLogger(__name__)
LOW_ENERGY = 0.3
IDLE_SECONDS = 2 * 3600
COOLDOWN_SECONDS = 3600
FRAGMENTS = 8


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
    return epoch(dream.created_at) if dream else 0.0


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


def save_dream(
    session: Session,
    *,
    persona_id: str,
    title: str,
    content: str,
    emotion: str,
    themes: list[str],
    source: str = "generated",
    created_at: datetime | None = None,
) -> tuple[Dream, str]:
    """Store a dream and the memory it becomes (same transaction); returns the dream and the memory id."""
    dream = Dream(
        persona_id=persona_id,
        title=title[:200],
        content=content,
        emotion=emotion[:32],
        themes=themes,
        source=source,
        created_at=created_at or utcnow(),
    )
    return dream, store_with_memory(session, dream, kind="dream", memory_text=content)


async def write_dream(
    *,
    persona_id: str,
    persona_name: str,
    backend: ChatBackend,
    model: str,
    memory: MemoryService | None,
    created_at: datetime | None = None,
) -> Written:
    """Write, store and index one dream; nothing is saved when the model returns nothing usable."""
    fragments = await asyncio.to_thread(recent_fragments, persona_id)
    if not fragments:
        return Written(reason="no memories to dream about yet", outcome="nothing")
    prompt = (
        f"You are {persona_name}, asleep. These are fragments of things you heard and said recently:\n"
        + "\n".join(f"- {fragment}" for fragment in fragments)
        + "\n\nWrite the dream they turn into tonight: three to five sentences, first person, past tense, "
        'beginning "I dreamt". Make it strange and vivid - places that shift, things that transform - and '
        "use your own words: do not copy any sentence above. Write only the dream."
    )
    try:
        text = await complete(backend, model, prompt, temperature=0.9, max_tokens=220)
        text = whole_sentences(text)
    except BackendError as error:
        return Written(reason=f"the model failed: {error}", outcome="failed")
    if not usable(text):
        log.info("%s's dream came out empty or garbled; trying again later", persona_id)
        return Written(reason="the model wrote nothing usable", outcome="failed")
    if copies(text, fragments):
        log.info("%s's dream repeated its memories word for word; trying again later", persona_id)
        return Written(reason="the model copied its memories instead of dreaming", outcome="failed")
    emotion = await infer_mood(backend, model, text) or "thoughtful"

    def store() -> str:
        with session_scope() as session:
            dream, memory_id = save_dream(
                session,
                persona_id=persona_id,
                title=text.split(".")[0][:80],
                content=text,
                emotion=emotion,
                themes=themes_of(text),
                created_at=created_at,
            )
            dream_id = dream.id
        if memory is not None:
            memory.index([memory_id])
        return dream_id

    return Written(id=await asyncio.to_thread(store))
