"""Dreams page state: list, search, who is dreaming, dream now."""

from __future__ import annotations

from typing import TypedDict

import reflex as rx
from sqlalchemy import func
from sqlmodel import Session, col, select

from azera.db.engine import in_db
from azera.db.models import Dream
from azera.mind.loop import dream_now, get_dreamer
from azera.services import ServiceError
from azera.services.personas import list_personas


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
    statement = select(Dream).order_by(col(Dream.created_at).desc()).limit(limit)
    if query.strip():
        statement = statement.where(func.lower(Dream.content).like(f"%{query.strip().lower()}%"))
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
        for d in session.exec(statement)
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
        self.dreaming = sorted(get_dreamer().dreaming)

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

    @rx.event(background=True)
    async def dream(self):
        """Make the chosen persona dream now (in the background; chat is never stalled)."""
        async with self:
            persona = self.persona
            self.dreaming = sorted({*self.dreaming, persona})
        dreamer = get_dreamer()
        dreamer.dreaming.add(persona)
        try:
            result = await dream_now(persona)
        except ServiceError as error:
            result = None
            yield rx.toast.error(str(error))
        finally:
            dreamer.dreaming.discard(persona)
        if result is not None and not result.dream_id:
            yield rx.toast.warning(f"No dream this time: {result.reason}")
        async with self:
            await self._refresh()
