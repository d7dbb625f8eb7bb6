"""What dreams and journal entries have in common: results, quality checks, themes, import digests."""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import re
from typing import Literal

from sqlmodel import Session

from azera.db.models import Dream, JournalEntry
from azera.memory.service import MAX_MEMORY_CHARS, MemoryService
from azera.memory.words import STOPWORDS

MIN_CHARS = 40


# Why nothing was written: one is being written already, there is nothing to write from, the persona
# keeps no journal (memory off), or the model failed.
Outcome = Literal["written", "busy", "nothing", "off", "failed"]


@dataclasses.dataclass
class Written:
    """Something the mind wrote (a dream, a journal entry), or why nothing was written."""

    id: str = ""
    reason: str = ""
    outcome: Outcome = "written"


def usable(text: str, min_chars: int = MIN_CHARS) -> bool:
    """Whether a model's text is worth keeping (not empty, not garbage)."""
    text = text.strip()
    letters = sum(ch.isalpha() for ch in text)
    return len(text) >= min_chars and letters >= 0.6 * len(text)


def whole_sentences(text: str) -> str:
    """``text`` without an unfinished last sentence (a reply cut by its token limit), when a full one precedes it."""
    text = text.strip()
    if not text or text[-1] in ".!?…\"'”)*":
        return text
    end = max(text.rfind(mark) for mark in (". ", "! ", "? ", ".\n", "!\n", "?\n"))
    return text[: end + 1] if end > 0 else text


def copies(text: str, sources: list[str], words: int = 8) -> bool:
    """Whether ``text`` repeats a run of ``words`` words from one of ``sources`` (an echo, not a recombination)."""

    def runs(value: str) -> set[tuple[str, ...]]:
        tokens = re.findall(r"[\w']+", value.lower())
        return {tuple(tokens[i : i + words]) for i in range(len(tokens) - words + 1)}

    seen = set().union(*(runs(source) for source in sources)) if sources else set()
    return bool(seen & runs(text))


def themes_of(text: str, count: int = 3) -> list[str]:
    """The most frequent meaningful words of a text."""
    words = [w for w in re.findall(r"[a-zA-Z]{4,}", text.lower()) if w not in STOPWORDS]
    return [word for word, _ in collections.Counter(words).most_common(count)]


def digest(persona_id: str, content: str) -> str:
    """What makes two dreams or entries the same one (imports are idempotent on it)."""
    normal = " ".join(content.split())
    return hashlib.sha256(f"{persona_id}\n{normal}".encode()).hexdigest()


def store_with_memory(session: Session, row: Dream | JournalEntry, *, kind: str, memory_text: str) -> str:
    """Add a dream or journal entry and the memory it becomes, in the caller's transaction; returns the memory id."""
    row.digest = digest(row.persona_id, row.content)
    session.add(row)
    session.flush()
    memory = MemoryService.record(
        session,
        text=memory_text[:MAX_MEMORY_CHARS],
        persona_id=row.persona_id,
        kind=kind,
        source=f"{kind} {row.id}",
        created_at=row.created_at,
    )
    return memory.id
