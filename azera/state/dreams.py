"""Dreams page state: list and search dreams (the rest is shared with the Journal page)."""

from __future__ import annotations

from typing import TypedDict

import reflex as rx
from sqlmodel import Session

from azera.mind.archive import Kind
from azera.mind.browse import find_dreams
from azera.mind.loop import Stage
from azera.mind.writing import Written
from azera.runtime import runtime
from azera.state.writings import WritingsState


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


class DreamsState(WritingsState, rx.State):
    """What the Dreams page shows."""

    dreams: list[DreamRow] = []

    def _kind(self) -> Kind:
        return "dream"

    def _stage(self) -> Stage:
        return runtime().dreamer

    async def _write(self, persona_id: str) -> Written:
        return await runtime().dream_now(persona_id)

    def _rows(self, session: Session, query: str) -> list:
        return read_dreams(session, query)

    def _show(self, rows: list) -> None:
        self.dreams = rows
