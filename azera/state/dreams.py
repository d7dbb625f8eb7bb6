"""Dreams page state: list, search, who is dreaming, dream now."""

from __future__ import annotations

from typing import TypedDict

import reflex as rx
from sqlmodel import Session

from azera.db.engine import in_db
from azera.mind.browse import find_dreams
from azera.mind.loop import dream_now, get_dreamer
from azera.services import ServiceError
from azera.services.personas import list_personas
from azera.state.imports import import_uploads


class DreamRow(TypedDict):
    """One dream."""

    id: str
    persona: str
    title: str
    content: str
    emotion: str
    themes: str
    created: str


def read_dreams(session: Session, query: str, limit: int = 200) -> list[DreamRow]:
    """Dreams, newest first, optionally containing ``query``."""
    return [
        DreamRow(
            id=d.id,
            persona=d.persona_id,
            title=d.title,
            content=d.content,
            emotion=d.emotion,
            themes=", ".join(d.themes),
            created=f"{d.created_at:%Y-%m-%d %H:%M}",
        )
        for d in find_dreams(session, query=query, limit=limit)
    ]


class DreamsState(rx.State):
    """What the Dreams page shows."""

    dreams: list[DreamRow] = []
    query: str = ""
    personas: list[str] = []
    persona: str = "azera"
    dreaming: list[str] = []

    async def _refresh(self) -> None:
        query = self.query
        self.dreams = await in_db(lambda session: read_dreams(session, query))
        self.personas = await in_db(lambda session: [p.id for p in list_personas(session, kind="ai")])
        self.dreaming = sorted(get_dreamer().busy)

    @rx.event
    async def load(self):
        """Page load."""
        await self._refresh()

    @rx.event
    async def poll(self):
        """Follow new dreams and the "dreaming…" indicator."""
        await self._refresh()

    @rx.event
    async def set_query(self, value: str):
        """Search dreams."""
        self.query = value[:200]
        await self._refresh()

    @rx.event
    def set_persona(self, value: str):
        """Whose dream the button starts."""
        self.persona = value

    @rx.event
    async def import_archive(self, files: list[rx.UploadFile]):
        """Import dream archives (JSON or markdown) for the chosen persona."""
        toast = await import_uploads("dream", files, self.persona)
        await self._refresh()
        return toast

    @rx.event(background=True)
    async def dream(self):
        """Make the chosen persona dream now (in the background; chat is never stalled)."""
        async with self:
            persona = self.persona
            self.dreaming = sorted({*self.dreaming, persona})
        try:
            result = await get_dreamer().run_now(persona, dream_now)
        except ServiceError as error:
            result = None
            yield rx.toast.error(str(error))
        if result is not None and not result.id:
            yield rx.toast.warning(f"No dream this time: {result.reason}")
        async with self:
            await self._refresh()
