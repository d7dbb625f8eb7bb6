"""What the indexes keep about a memory: its text with who said it and when, and the turns around it.

Measured on LoCoMo (real long conversations, ``bench memory``): embedding "Caroline: I went to a support
group" instead of the bare text took dense recall@10 from 0.33 to 0.57, because questions name the
person ("When did Caroline go…") while the turn itself says "I". Word search gains from the speaker too,
and from the turns before *and* after a memory (an answer like "Super good! Rich and creamy" is found by
the words of the turn it answers): 0.74 → 0.80.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from azera.db.models import Chat, ChatMessage, Memory, Persona
from azera.memory.records import Hit, IndexedMemory

CONTEXT_CHARS = 300  # of each neighbouring turn


def _epoch(moment: datetime) -> float:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _by_id(session: Session, table, ids) -> dict:
    ids = [i for i in set(ids) if i]
    if not ids:
        return {}
    return {row.id: row for row in session.exec(select(table).where(col(table.id).in_(ids)))}


def _speakers(session: Session, messages: dict[str, ChatMessage]) -> dict[str, str]:
    """Message id → who said it: the chat's user persona for the user's turns, its AI persona for the rest."""
    chats = _by_id(session, Chat, [m.chat_id for m in messages.values()])
    persona_ids = [p for chat in chats.values() for p in (chat.ai_persona_id, chat.user_persona_id)]
    names = {persona.id: persona.name for persona in _by_id(session, Persona, persona_ids).values()}
    speakers = {}
    for message in messages.values():
        chat = chats.get(message.chat_id)
        if chat is not None:
            speakers[message.id] = names.get(chat.user_persona_id if message.role == "user" else chat.ai_persona_id, "")
    return speakers


def speakers_of(session: Session, memories: list[Memory]) -> dict[str, str]:
    """Memory id → who said it ('' for memories that are not chat messages)."""
    messages = _by_id(session, ChatMessage, [m.message_id for m in memories])
    by_message = _speakers(session, messages)
    return {m.id: by_message.get(m.message_id or "", "") for m in memories}


def indexed_forms(session: Session, memory_ids: list[str]) -> list[tuple[Memory, IndexedMemory, str]]:
    """Each memory with its indexed form (speaker and neighbouring turns) and its message's role ('' if none)."""
    memories = list(session.exec(select(Memory).where(col(Memory.id).in_(memory_ids))))
    messages = _by_id(session, ChatMessage, [m.message_id for m in memories])
    parents = _by_id(session, ChatMessage, [m.parent_id for m in messages.values()])
    children: dict[str, ChatMessage] = {}
    if messages:
        query = (
            select(ChatMessage)
            .where(col(ChatMessage.parent_id).in_(list(messages)))
            .order_by(col(ChatMessage.created_at))
        )
        for child in session.exec(query):
            children.setdefault(child.parent_id or "", child)  # the first answer (other branches came later)
    speakers = _speakers(session, messages)
    forms = []
    for memory in memories:
        message = messages.get(memory.message_id or "")
        context = ""
        if message is not None:
            around = [parents.get(message.parent_id or ""), children.get(message.id)]
            context = "\n".join(turn.content[:CONTEXT_CHARS] for turn in around if turn is not None and turn.content)
        item = indexed_form(memory, context=context, speaker=speakers.get(memory.message_id or "", ""))
        forms.append((memory, item, message.role if message is not None else ""))
    return forms


def indexed_form(memory: Memory, context: str = "", speaker: str = "") -> IndexedMemory:
    """What the indexes keep about one memory row."""
    return IndexedMemory(
        id=memory.id,
        text=memory.text,
        persona_id=memory.persona_id,
        chat_id=memory.chat_id or "",
        kind=memory.kind,
        tier=memory.tier,
        created_at=_epoch(memory.created_at),
        context=context,
        speaker=speaker,
    )


def answered_memories(session: Session, memory_ids: list[str]) -> list[str]:
    """Indexed memories of the turns these memories answer: their word-search context gains the answer.

    A turn still waiting is left out: it will be read with its answer when its own turn comes. Only
    word search is rewritten for them (no embedding), a small cost even in a full re-index.
    """
    rows = session.exec(select(Memory.message_id).where(col(Memory.id).in_(memory_ids)))
    message_ids = [m for m in rows if m]
    if not message_ids:
        return []
    parent_ids = [
        p for p in session.exec(select(ChatMessage.parent_id).where(col(ChatMessage.id).in_(message_ids))) if p
    ]
    if not parent_ids:
        return []
    found = session.exec(
        select(Memory.id).where(col(Memory.message_id).in_(parent_ids), col(Memory.indexed_at).is_not(None))
    )
    own = set(memory_ids)
    return [memory_id for memory_id in found if memory_id not in own]


def memories_of_messages(session: Session, hits: list[Hit]) -> list[Hit]:
    """Chat-message search hits as the hits of those messages' memories (a message without one is dropped)."""
    if not hits:
        return []
    query = select(Memory.message_id, Memory.id).where(col(Memory.message_id).in_([h.id for h in hits]))
    by_message = {message_id: memory_id for message_id, memory_id in session.exec(query).all()}
    return [Hit(by_message[h.id], h.score) for h in hits if h.id in by_message]


def waiting_count(session: Session) -> int:
    """How many memories are not indexed yet."""
    return session.exec(select(func.count()).select_from(Memory).where(col(Memory.indexed_at).is_(None))).one()


def index_state(session: Session) -> tuple[int, int]:
    """(memories waiting to be indexed, all memories): the progress of a re-index."""
    return waiting_count(session), session.exec(select(func.count()).select_from(Memory)).one()


def has_indexed_memories(session: Session) -> bool:
    """Whether any memory was indexed already (by an older version, if the layout marker is missing)."""
    return session.exec(select(Memory.id).where(col(Memory.indexed_at).is_not(None)).limit(1)).first() is not None
