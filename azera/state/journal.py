"""Journal page state: list, read, search, reflect now, import."""

from __future__ import annotations

from typing import TypedDict

import reflex as rx
from sqlmodel import Session

from azera.db.engine import in_db
from azera.mind.browse import find_entries
from azera.mind.journal import MEDIA_URL
from azera.mind.loop import get_reflector, reflect_now
from azera.services import ServiceError
from azera.services.personas import list_personas
from azera.state.imports import import_uploads


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
    media = f"]({rx.config.get_config().api_url}{MEDIA_URL}"
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


class JournalState(rx.State):
    """What the Journal page shows."""

    entries: list[EntryRow] = []
    query: str = ""
    personas: list[str] = []
    persona: str = "azera"
    reflecting: list[str] = []

    async def _refresh(self) -> None:
        query = self.query
        self.entries = await in_db(lambda session: read_entries(session, query))
        self.personas = await in_db(lambda session: [p.id for p in list_personas(session, kind="ai")])
        self.reflecting = sorted(get_reflector().busy)

    @rx.event
    async def load(self):
        """Page load."""
        await self._refresh()

    @rx.event
    async def poll(self):
        """Follow new entries (the daily reflection, compiled journal sessions)."""
        await self._refresh()

    @rx.event
    async def set_query(self, value: str):
        """Search entries."""
        self.query = value[:200]
        await self._refresh()

    @rx.event
    def set_persona(self, value: str):
        """Whose reflection the button starts and whose archive is imported."""
        self.persona = value

    @rx.event
    async def import_archive(self, files: list[rx.UploadFile]):
        """Import journal archives (JSON or markdown) for the chosen persona."""
        toast = await import_uploads("journal", files, self.persona)
        await self._refresh()
        return toast

    @rx.event(background=True)
    async def reflect(self):
        """Make the chosen persona reflect now (in the background; chat is never stalled)."""
        async with self:
            persona = self.persona
            self.reflecting = sorted({*self.reflecting, persona})
        try:
            result = await get_reflector().run_now(persona, reflect_now)
        except ServiceError as error:
            result = None
            yield rx.toast.error(str(error))
        if result is not None and not result.id:
            yield rx.toast.warning(f"No reflection this time: {result.reason}")
        async with self:
            await self._refresh()
