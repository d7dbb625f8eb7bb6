"""``/api/memories``: add, search, re-index (the command line uses these while the app runs)."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI, HTTPException, Query

from azera.api.schemas import IndexState, MemoryAdded, NewMemory, RecalledOut
from azera.db.engine import in_db
from azera.errors import NotFoundError, ServiceError
from azera.memory.indexing import index_state
from azera.memory.service import MemoryService
from azera.runtime import runtime
from azera.services.personas import get_persona


def _memory_service() -> MemoryService:
    service = runtime().memory()
    if service is None:
        raise HTTPException(status_code=503, detail="Memory is unavailable (see the app's log)")
    return service


def add_memory_routes(api: FastAPI) -> None:
    """Add, search, re-index."""

    async def _index_state() -> IndexState:
        waiting, total = await in_db(index_state)
        return IndexState(waiting=waiting, total=total, problem=runtime().indexer.problem)

    @api.get("/api/memories/index")
    async def get_index_state() -> IndexState:
        """Memories waiting to be indexed, of all memories (a re-index's progress)."""
        return await _index_state()

    @api.post("/api/memories/reindex", status_code=202)
    async def reindex_memories() -> IndexState:
        """Empty the indexes and re-index every memory from SQL in the background.

        Follow it with GET /api/memories/index. Recall meanwhile finds the memories indexed so far.
        """
        service = await asyncio.to_thread(_memory_service)
        await asyncio.to_thread(service.rebuild)
        runtime().indexer.wake()
        return await _index_state()

    @api.post("/api/memories", status_code=201)
    async def add_memory(memory: NewMemory) -> MemoryAdded:
        """Remember a fact (or another kind of memory) for a persona; it is indexed before the answer."""

        def record(session) -> str:
            get_persona(session, memory.persona)
            return MemoryService.record(session, text=memory.text, persona_id=memory.persona, kind=memory.kind).id

        try:
            memory_id = await in_db(record)
        except NotFoundError as error:
            raise HTTPException(status_code=404, detail=str(error)) from error
        except ServiceError as error:
            raise HTTPException(status_code=400, detail=str(error)) from error
        service = await asyncio.to_thread(_memory_service)
        indexed = await asyncio.to_thread(service.index, [memory_id])
        return MemoryAdded(id=memory_id, indexed=bool(indexed))

    @api.get("/api/memories/search")
    async def search_memories(
        q: str = Query(max_length=2000), persona: str = Query(default="azera", max_length=64)
    ) -> list[RecalledOut]:
        """Hybrid recall as a reply would get it, with the fused and per-source scores."""
        if not q.strip():
            raise HTTPException(status_code=400, detail="Give something to search for: ?q=words")
        try:
            await in_db(lambda session: get_persona(session, persona))
        except NotFoundError as error:
            raise HTTPException(status_code=404, detail=str(error)) from error
        service = await asyncio.to_thread(_memory_service)
        found = await asyncio.to_thread(service.retrieve, q, persona_id=persona)
        return [RecalledOut.model_validate(hit, from_attributes=True) for hit in found]
