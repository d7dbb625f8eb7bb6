"""What the Dreams and Journal pages share: search, whose writing, write now, import, a busy indicator."""

from __future__ import annotations

import reflex as rx
from sqlmodel import Session

from azera.db.engine import in_db
from azera.errors import ServiceError
from azera.mind.archive import Kind
from azera.mind.loop import Stage
from azera.mind.writing import Written
from azera.services.personas import list_personas
from azera.state import inputs
from azera.state.imports import import_uploads


class WritingsState(rx.State, mixin=True):
    """A page of things personas write.

    Subclasses say which: ``_kind``, ``_stage``, ``_write``, ``_rows`` and ``_show``.
    """

    query: str = ""
    personas: list[str] = []
    persona: str = "azera"
    busy: list[str] = []

    def _kind(self) -> Kind:
        raise NotImplementedError

    def _stage(self) -> Stage:
        raise NotImplementedError

    async def _write(self, persona_id: str) -> Written:
        raise NotImplementedError

    def _rows(self, session: Session, query: str) -> list:
        """The page's rows for ``query`` (runs in a worker thread: reads nothing from the state)."""
        raise NotImplementedError

    def _show(self, rows: list) -> None:
        raise NotImplementedError

    async def _refresh(self) -> None:
        rows_of, query = self._rows, self.query

        def read(session: Session) -> tuple[list, list[str]]:
            return rows_of(session, query), [p.id for p in list_personas(session, kind="ai")]

        rows, self.personas = await in_db(read)  # one transaction per poll
        self._show(rows)
        self.busy = sorted(self._stage().busy)

    @rx.event
    async def load(self):
        """Page load."""
        await self._refresh()

    @rx.event
    async def poll(self):
        """Follow what the tick loop writes, and the busy indicator."""
        await self._refresh()

    @rx.event
    async def set_query(self, value: str):
        """Search (every word must appear)."""
        try:
            self.query = inputs.text(value, limit=200, what="The search")
        except ServiceError as error:
            return rx.toast.error(str(error))
        await self._refresh()
        return None

    @rx.event
    def set_persona(self, value: str):
        """Whose writing the button starts and whose archive is imported."""
        try:
            self.persona = inputs.choice(value, self.personas, what="That persona")
        except ServiceError as error:
            return rx.toast.error(str(error))
        return None

    @rx.event
    async def import_archive(self, files: list[rx.UploadFile]):
        """Import archives (JSON or markdown) for the chosen persona."""
        toast = await import_uploads(self._kind(), files, self.persona)
        await self._refresh()
        return toast

    @rx.event(background=True)
    async def write_now(self):
        """Have the chosen persona write now, in the background (chat is never stalled)."""
        async with self:
            persona, stage = self.persona, self._stage()
            self.busy = sorted({*self.busy, persona})
        try:
            result = await stage.run_now(persona, self._write)
        except ServiceError as error:
            result = None
            yield rx.toast.error(str(error))
        if result is not None and not result.id:
            yield rx.toast.warning(f"Nothing written this time: {result.reason}")
        async with self:
            await self._refresh()
