"""Memories page state: browse, filter, edit, move between tiers, delete; the knowledge base.

Uploads are staged in a folder the server names and remembered on the server per browser session;
the background ingest takes no arguments, so no client can point it at a file.
"""

from __future__ import annotations

import asyncio
import shutil
import uuid
from pathlib import Path

import reflex as rx
from sqlmodel import Session

from azera.config import get_settings
from azera.db.engine import in_db
from azera.errors import ServiceError
from azera.memory import documents
from azera.memory.indexing import index_state
from azera.memory.service import KINDS, MAX_MEMORY_CHARS, TIERS
from azera.runtime import runtime
from azera.services.personas import list_personas
from azera.state import inputs
from azera.state.memory_rows import DocumentRow, MemoryRow, document_rows, memory_rows

ALL = "all"
_staged: dict[str, list[Path]] = {}  # browser session (client token) → files staged for it, server-held


def _stage(folder: Path, name: str, data: bytes) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


class MemoriesState(rx.State):
    """Filters, rows, the row being edited, and the knowledge base of one persona."""

    rows: list[MemoryRow] = []
    personas: list[str] = []
    query: str = ""
    persona: str = ALL
    kind: str = ALL
    tier: str = ALL
    since: str = ""
    until: str = ""
    editing_id: str = ""
    kb_persona: str = "azera"
    kb_documents: list[DocumentRow] = []
    kb_busy: bool = False
    kb_progress: int = 0
    kb_status: str = ""
    waiting: int = 0  # memories not indexed yet
    total: int = 0  # all memories
    index_problem: str = ""
    rebuilding: bool = False

    @rx.var
    def index_summary(self) -> str:
        """'1,204 of 100,000'."""
        return f"{self.waiting:,} of {self.total:,}"

    @rx.var
    def index_percent(self) -> int:
        """How far indexing has come (100 when nothing waits)."""
        return 100 if not self.total else round(100 * (self.total - self.waiting) / self.total)

    @rx.var
    def kinds(self) -> list[str]:
        """Kind filter options."""
        return [ALL, *KINDS]

    @rx.var
    def tiers(self) -> list[str]:
        """Tier filter options."""
        return [ALL, *TIERS]

    @rx.var
    def tier_choices(self) -> list[str]:
        """Tiers a memory can move to."""
        return list(TIERS)

    async def _refresh(self) -> None:
        filters = {
            "text": self.query,
            "persona_id": "" if self.persona == ALL else self.persona,
            "kind": "" if self.kind == ALL else self.kind,
            "tier": "" if self.tier == ALL else self.tier,
            "since": self.since,
            "until": self.until,
        }
        persona = self.kb_persona

        def read(session: Session):
            memories = documents.find_memories(session, **filters)
            ids = [p.id for p in list_personas(session, kind="ai")]
            return memories, ids, documents.list_documents(session, persona), index_state(session)

        memories, self.personas, docs, (self.waiting, self.total) = await in_db(read)
        self.index_problem = runtime().indexer.problem
        self.rows, self.kb_documents = memory_rows(memories), document_rows(docs)

    async def _apply(self, name: str, value: str):
        setattr(self, name, value)
        try:
            await self._refresh()
        except ServiceError as error:
            setattr(self, name, "")
            return rx.toast.error(str(error))
        return None

    async def _filter(self, name: str, check, value):
        try:
            return await self._apply(name, check(value))
        except ServiceError as error:
            return rx.toast.error(str(error))

    def _shown(self, memory_id) -> str:
        return inputs.choice(memory_id, {row["id"] for row in self.rows}, what="That memory")

    @rx.event
    async def load(self):
        """Page load."""
        self.editing_id = ""
        await self._refresh()

    @rx.event
    async def poll_index(self):
        """Follow a re-index (polled by the page while memories wait)."""
        self.waiting, self.total = await in_db(index_state)
        self.index_problem = runtime().indexer.problem

    @rx.event(background=True)
    async def rebuild_indexes(self):
        """Empty the indexes and re-index every memory from SQL in the background.

        Recall meanwhile finds the memories indexed so far.
        """
        async with self:
            if self.rebuilding:
                return
            self.rebuilding = True
        try:
            service = await asyncio.to_thread(runtime().memory)
            if service is None:
                yield rx.toast.error("Memory is unavailable (see the log)")
                return
            waiting = await asyncio.to_thread(service.rebuild)
            runtime().indexer.wake()
            yield rx.toast.info(f"Re-indexing {waiting:,} memories in the background")
        finally:
            async with self:
                self.rebuilding = False
                await self._refresh()

    @rx.event
    async def set_query(self, value: str):
        """Search text."""
        return await self._filter("query", lambda v: inputs.text(v, limit=200, what="The search"), value)

    @rx.event
    async def set_persona(self, value: str):
        """Persona filter."""
        return await self._filter("persona", lambda v: inputs.choice(v, [ALL, *self.personas]), value)

    @rx.event
    async def set_kind(self, value: str):
        """Kind filter."""
        return await self._filter("kind", lambda v: inputs.choice(v, self.kinds), value)

    @rx.event
    async def set_tier(self, value: str):
        """Tier filter."""
        return await self._filter("tier", lambda v: inputs.choice(v, self.tiers), value)

    @rx.event
    async def set_since(self, value: str):
        """From date (YYYY-MM-DD)."""
        return await self._filter("since", inputs.date_text, value)

    @rx.event
    async def set_until(self, value: str):
        """Until date (YYYY-MM-DD)."""
        return await self._filter("until", inputs.date_text, value)

    async def _change(self, work, done: str):
        service = await asyncio.to_thread(runtime().memory)
        if service is None:
            return rx.toast.error("Memory is unavailable (see the log)")
        try:
            await asyncio.to_thread(work, service)
        except ServiceError as error:
            return rx.toast.error(str(error))
        await self._refresh()
        return rx.toast.success(done)

    @rx.event
    def start_edit(self, memory_id: str):
        """Open the editor on one memory."""
        try:
            self.editing_id = self._shown(memory_id)
        except ServiceError as error:
            return rx.toast.error(str(error))
        return None

    @rx.event
    def cancel_edit(self):
        """Close the editor."""
        self.editing_id = ""

    @rx.event
    async def save_edit(self, form: dict):
        """Save an edited memory (it is re-indexed)."""
        memory_id = self.editing_id
        self.editing_id = ""
        try:
            text = inputs.form_text(form, "text", limit=MAX_MEMORY_CHARS, what="The memory")
        except ServiceError as error:
            return rx.toast.error(str(error))
        return await self._change(lambda service: service.update(memory_id, text=text), "Memory saved and re-indexed")

    @rx.event
    async def move(self, memory_id: str, tier: str):
        """Move a memory to another tier."""
        try:
            memory_id, tier = self._shown(memory_id), inputs.choice(tier, TIERS, what="That tier")
        except ServiceError as error:
            return rx.toast.error(str(error))
        return await self._change(lambda service: service.update(memory_id, tier=tier), f"Moved to {tier}")

    @rx.event
    async def delete(self, memory_id: str):
        """Delete a memory from SQL and every index."""
        try:
            memory_id = self._shown(memory_id)
        except ServiceError as error:
            return rx.toast.error(str(error))
        return await self._change(lambda service: service.delete(memory_id), "Memory deleted everywhere")

    @rx.event
    async def set_kb_persona(self, value: str):
        """Whose knowledge base is shown."""
        try:
            self.kb_persona = inputs.choice(value, self.personas, what="That persona")
        except ServiceError as error:
            return rx.toast.error(str(error))
        await self._refresh()
        return None

    @rx.event
    async def delete_document(self, name: str):
        """Remove a document and all its chunks."""
        persona = self.kb_persona
        try:
            name = inputs.choice(name, {doc["name"] for doc in self.kb_documents}, what="That document")
        except ServiceError as error:
            return rx.toast.error(str(error))
        return await self._change(
            lambda service: documents.delete_document(service, persona_id=persona, name=name), f"Deleted {name}"
        )

    @rx.event
    async def upload(self, files: list[rx.UploadFile]):
        """Stage the uploaded files (checked names and sizes) in a server-named folder, then ingest them."""
        if self.kb_busy:
            return rx.toast.warning("Still adding the previous documents")
        staging = get_settings().data_dir / "uploads" / uuid.uuid4().hex
        staged: list[Path] = []
        try:
            for upload in inputs.uploads(files):
                name = documents.safe_name(upload.name or upload.filename or "")
                data = await upload.read(documents.MAX_BYTES + 1)
                if len(data) > documents.MAX_BYTES:
                    raise ServiceError(f"{name} is larger than {documents.MAX_BYTES // 1_000_000} MB")
                await asyncio.to_thread(_stage, staging, name, data)
                staged.append(staging / name)
        except ServiceError as error:
            await asyncio.to_thread(shutil.rmtree, staging, True)
            return rx.toast.error(str(error))
        if not staged:
            return rx.toast.warning("Choose a .txt, .md or .pdf file first")
        _staged.setdefault(self.router.session.client_token, []).extend(staged)
        self.kb_busy, self.kb_progress = True, 0
        return MemoriesState.ingest

    @rx.event(background=True)
    async def ingest(self):
        """Chunk and index what this browser session staged, with a progress bar; staging files go afterwards."""
        async with self:
            persona = self.kb_persona
            paths = _staged.pop(self.router.session.client_token, [])
        if not paths:
            return
        service = await asyncio.to_thread(runtime().memory)
        loop = asyncio.get_running_loop()
        try:
            for path in paths:

                def report(done: int, total: int, name: str = path.name) -> None:
                    asyncio.run_coroutine_threadsafe(self._report(name, done, total), loop)

                try:
                    if service is None:
                        raise ServiceError("Memory is unavailable (see the log)")
                    data = await asyncio.to_thread(path.read_bytes)
                    count = await asyncio.to_thread(
                        documents.add_document,
                        service,
                        persona_id=persona,
                        filename=path.name,
                        data=data,
                        progress=report,
                    )
                    yield rx.toast.success(f"{path.name}: {count} chunk{'s' if count != 1 else ''} indexed")
                except ServiceError as error:
                    yield rx.toast.error(str(error))
        finally:
            for folder in {path.parent for path in paths}:  # only folders this server made
                await asyncio.to_thread(shutil.rmtree, folder, True)
            async with self:
                self.kb_busy, self.kb_status = False, ""
                await self._refresh()

    async def _report(self, name: str, done: int, total: int) -> None:
        async with self:
            self.kb_status = f"{name}: {done}/{total} chunks"
            self.kb_progress = int(done * 100 / max(total, 1))
