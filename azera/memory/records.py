"""What the indexes store about a memory, and what they answer."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime


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
    context: str = ""  # the turns around it (before and after, in a conversation): lexical search sees them
    speaker: str = ""  # who said it (the user persona's or the AI persona's name), '' for other kinds

    @property
    def labelled(self) -> str:
        """The text with its speaker, as both indexes see it: real questions name people."""
        return f"{self.speaker}: {self.text}" if self.speaker else self.text

    @property
    def dated(self) -> str:
        """What is embedded: the date and the speaker with the text (semantic search sees when and who)."""
        moment = datetime.fromtimestamp(self.created_at, UTC)
        return f"[{moment.day} {moment:%B %Y}] {self.labelled}"

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
    """Who may recall what: one persona, not the current chat, nothing newer than ``before``.

    ``after`` (with ``before``) narrows a search to the time a question names.
    """

    persona_id: str
    exclude_chat_id: str = ""
    before: float | None = None
    after: float | None = None
    kinds: tuple[str, ...] = ()
    tiers: tuple[str, ...] = ()

    def allows(self, *, persona_id: str, chat_id: str, created_at: float, kind: str, tier: str) -> bool:
        """Whether a memory read from SQL (not found by a search, which filters itself) is inside the scope."""
        return (
            persona_id == self.persona_id
            and not (self.exclude_chat_id and chat_id == self.exclude_chat_id)
            and (self.before is None or created_at < self.before)
            and (self.after is None or created_at >= self.after)
            and (not self.kinds or kind in self.kinds)
            and (not self.tiers or tier in self.tiers)
        )
