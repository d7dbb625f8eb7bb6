"""What the indexes store about a memory, and what they answer."""

from __future__ import annotations

import dataclasses
import uuid


@dataclasses.dataclass(frozen=True)
class IndexedMemory:
    """The fields every index keeps (SQL holds the rest)."""

    id: str
    text: str
    persona_id: str
    chat_id: str
    kind: str
    tier: str
    created_at: float  # epoch seconds
    context: str = ""  # what came just before (the previous turn of a conversation): lexical search sees it

    @property
    def point_id(self) -> str:
        """The id as a UUID string (what Qdrant accepts)."""
        return str(uuid.UUID(hex=self.id))


@dataclasses.dataclass(frozen=True)
class Hit:
    """One search result: a memory id and the source's own score (higher is better)."""

    id: str
    score: float


@dataclasses.dataclass(frozen=True)
class SearchScope:
    """Who may recall what: one persona, not the current chat, nothing newer than ``before``."""

    persona_id: str
    exclude_chat_id: str = ""
    before: float | None = None
    kinds: tuple[str, ...] = ()
    tiers: tuple[str, ...] = ()
