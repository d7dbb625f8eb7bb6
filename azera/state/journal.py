"""Journal page state: list and search entries (the rest is shared with the Dreams page)."""

from __future__ import annotations

from typing import TypedDict

import reflex as rx
from sqlmodel import Session

from azera.mind.archive import Kind
from azera.mind.browse import find_entries
from azera.mind.journal_mode import MEDIA_URL
from azera.mind.loop import Stage
from azera.mind.writing import Written
from azera.runtime import runtime
from azera.state.chat_rows import backend_base
from azera.state.writings import WritingsState


class EntryRow(TypedDict):
    """One journal entry."""

    id: str
    persona: str
    title: str
    content: str
    mood: str
    insights: list[str]
    kind: str
    source: str
    created: str


def read_entries(session: Session, query: str, limit: int = 200) -> list[EntryRow]:
    """Entries, newest first, optionally containing every word of ``query``; image links point at the API."""
    media = f"]({backend_base()}{MEDIA_URL}"
    return [
        EntryRow(
            id=e.id,
            persona=e.persona_id,
            title=e.title,
            content=e.content.replace(f"]({MEDIA_URL}", media),
            mood=e.mood,
            insights=list(e.insights),
            kind=e.kind,
            source=e.source,
            created=f"{e.created_at:%Y-%m-%d %H:%M}",
        )
        for e in find_entries(session, query=query, limit=limit)
    ]


class JournalState(WritingsState, rx.State):
    """What the Journal page shows."""

    entries: list[EntryRow] = []

    def _kind(self) -> Kind:
        return "journal"

    def _stage(self) -> Stage:
        return runtime().reflector

    async def _write(self, persona_id: str) -> Written:
        return await runtime().reflect_now(persona_id)

    def _rows(self, session: Session, query: str) -> list:
        return read_entries(session, query)

    def _show(self, rows: list) -> None:
        self.entries = rows
