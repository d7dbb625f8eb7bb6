"""``/api/memories``, ``/api/search`` and ``/api/documents``: what personas remember, and the knowledge base.

Memories are listed and filtered, read, added, edited (text or tier: it is re-indexed), and deleted from SQL
and every index; the indexes can be rebuilt with progress. ``POST /api/search`` is recall as a reply gets it
(with each source's score) plus word search over chat messages. Documents (.txt, .md, .pdf up to 10 MB) are
chunked and indexed into one persona's knowledge base, all or nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import FastAPI, HTTPException, Path, Query, Request, Response
from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from azera.api.chats import fail, read_body
from azera.api.schemas import IndexState, MemoryAdded, NewMemory, RecalledOut
from azera.db.engine import in_db, session_scope
from azera.db.models import ChatMessage, Memory
from azera.db.rows import require
from azera.errors import ServiceError
from azera.memory import documents
from azera.memory.indexing import index_state
from azera.memory.records import SearchScope
from azera.memory.service import KINDS, MAX_MEMORY_CHARS, TIERS, MemoryService
from azera.runtime import runtime
from azera.services.personas import get_persona

MEMORY_ID = Path(min_length=32, max_length=32, pattern="^[0-9a-f]{32}$")
PERSONA = Query(default="azera", min_length=1, max_length=64)
KIND = "^(|" + "|".join(KINDS) + ")$"
TIER = "^(|" + "|".join(TIERS) + ")$"
DAY = r"^(|\d{4}-\d{2}-\d{2})$"
NOT_FOUND = {404: {"description": "no such memory, persona or document"}}


class MemoryOut(BaseModel):
    """A memory as stored."""

    id: str
    text: str
    kind: str
    tier: str
    persona_id: str
    chat_id: str | None
    message_id: str | None
    source: str
    indexed: bool = Field(description="in the indexes (recall finds it)")
    created_at: datetime


class MemoryChange(BaseModel):
    """Body of PATCH /api/memories/{id}: a new text and/or another tier."""

    text: str | None = Field(default=None, min_length=1, max_length=MAX_MEMORY_CHARS)
    tier: str | None = Field(default=None, pattern="^(" + "|".join(TIERS) + ")$")


class SearchRequest(BaseModel):
    """Body of POST /api/search."""

    q: str = Field(min_length=1, max_length=2000)
    persona: str = Field(default="azera", max_length=64)
    limit: int = Field(default=8, ge=1, le=50, description="memories to return")
    chats: bool = Field(default=True, description="also search the chats' messages by their words")


class MessageHit(BaseModel):
    """A chat message that holds the words searched for."""

    chat_id: str
    message_id: str
    role: str
    text: str
    score: float = Field(description="bm25 (higher is better)")


class SearchOut(BaseModel):
    """What a search found: memories as recall ranks them (fused and per-source scores), and messages."""

    memories: list[RecalledOut]
    messages: list[MessageHit]


class DocumentOut(BaseModel):
    """A knowledge-base document."""

    name: str
    chunks: int
    indexed: int = Field(description="chunks in the indexes (fewer while indexing goes on)")
    created_at: str


class DocumentAdded(BaseModel):
    """A document stored and indexed."""

    name: str
    chunks: int


def _memory_service() -> MemoryService:
    service = runtime().memory()
    if service is None:
        raise HTTPException(status_code=503, detail="Memory is unavailable (see the app's log)")
    return service


def _out(memory: Memory) -> MemoryOut:
    fields = memory.model_dump(include={"id", "text", "kind", "tier", "persona_id", "chat_id", "message_id", "source"})
    return MemoryOut(**fields, indexed=memory.indexed_at is not None, created_at=memory.created_at)


async def _run(work: Callable[[Session], Any]) -> Any:
    try:
        return await in_db(work)
    except ServiceError as error:
        raise fail(error) from error


async def _with_service(work: Callable[[MemoryService], Any]) -> Any:
    service = await asyncio.to_thread(_memory_service)
    try:
        return await asyncio.to_thread(work, service)
    except ServiceError as error:
        raise fail(error) from error


def _add_index_routes(api: FastAPI) -> None:
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


def _add_memory_routes(api: FastAPI) -> None:
    @api.get("/api/memories")
    async def list_memories(
        q: str = Query(default="", max_length=200, description="words in the text"),
        persona: str = Query(default="", max_length=64),
        kind: str = Query(default="", pattern=KIND),
        tier: str = Query(default="", pattern=TIER),
        since: str = Query(default="", pattern=DAY, description="YYYY-MM-DD"),
        until: str = Query(default="", pattern=DAY, description="YYYY-MM-DD (that day included)"),
        limit: int = Query(default=100, ge=1, le=1000),
    ) -> list[MemoryOut]:
        """Memories, newest first, filtered."""
        return await _run(
            lambda session: [
                _out(m)
                for m in documents.find_memories(
                    session, text=q, persona_id=persona, kind=kind, tier=tier, since=since, until=until, limit=limit
                )
            ]
        )

    @api.post("/api/memories", status_code=201, responses=NOT_FOUND)
    async def add_memory(memory: NewMemory) -> MemoryAdded:
        """Remember a fact (or another kind of memory) for a persona; it is indexed before the answer."""

        def record(session) -> str:
            get_persona(session, memory.persona)
            return MemoryService.record(session, text=memory.text, persona_id=memory.persona, kind=memory.kind).id

        memory_id = await _run(record)
        indexed = await _with_service(lambda service: service.index([memory_id]))
        return MemoryAdded(id=memory_id, indexed=bool(indexed))

    @api.get("/api/memories/search")
    async def search_memories(
        q: str = Query(max_length=2000), persona: str = Query(default="azera", max_length=64)
    ) -> list[RecalledOut]:
        """Hybrid recall as a reply would get it, with the fused and per-source scores."""
        if not q.strip():
            raise HTTPException(status_code=400, detail="Give something to search for: ?q=words")
        await _run(lambda session: get_persona(session, persona))
        found = await _with_service(lambda service: service.retrieve(q, persona_id=persona))
        return [RecalledOut.model_validate(hit, from_attributes=True) for hit in found]

    @api.get("/api/memories/{memory_id}", responses=NOT_FOUND)
    async def get_memory(memory_id: str = MEMORY_ID) -> MemoryOut:
        """One memory."""
        return await _run(lambda session: _out(require(session, Memory, memory_id, "memory")))

    @api.patch("/api/memories/{memory_id}", responses=NOT_FOUND)
    async def update_memory(change: MemoryChange, memory_id: str = MEMORY_ID) -> MemoryOut:
        """Edit a memory's text and/or move it to another tier; it is re-indexed before the answer."""
        if change.text is None and change.tier is None:
            raise HTTPException(status_code=400, detail="Send a new text, a tier, or both")
        await _run(lambda session: require(session, Memory, memory_id, "memory"))
        return _out(await _with_service(lambda service: service.update(memory_id, text=change.text, tier=change.tier)))

    @api.delete("/api/memories/{memory_id}", status_code=204, responses=NOT_FOUND)
    async def delete_memory(memory_id: str = MEMORY_ID) -> Response:
        """Forget a memory: from SQL and every index."""
        await _run(lambda session: require(session, Memory, memory_id, "memory"))
        await _with_service(lambda service: service.delete(memory_id))
        return Response(status_code=204)


def _search(service: MemoryService, request: SearchRequest) -> SearchOut:
    recalled = service.retrieve(request.q, persona_id=request.persona, limit=request.limit)
    hits: list[MessageHit] = []
    if request.chats:
        found = service.lexical.search("chats", request.q, SearchScope(persona_id=request.persona), 10)
        scores = {hit.id: hit.score for hit in found}
        with session_scope() as session:
            rows = session.exec(select(ChatMessage).where(col(ChatMessage.id).in_(list(scores))))
            messages = {m.id: m for m in rows}
        hits = [
            MessageHit(chat_id=m.chat_id, message_id=m.id, role=m.role, text=m.content[:400], score=scores[m.id])
            for m in (messages.get(hit.id) for hit in found)
            if m is not None
        ]
    return SearchOut(memories=[RecalledOut.model_validate(r, from_attributes=True) for r in recalled], messages=hits)


def _add_search_and_document_routes(api: FastAPI) -> None:
    @api.post("/api/search", responses=NOT_FOUND)
    async def search(request: SearchRequest) -> SearchOut:
        """Recall over a persona's memories (hybrid: each source's score given) and word search over chats."""
        if not request.q.strip():
            raise HTTPException(status_code=400, detail="Give something to search for")
        await _run(lambda session: get_persona(session, request.persona))
        return await _with_service(lambda service: _search(service, request))

    @api.get("/api/documents", responses=NOT_FOUND)
    async def list_documents(persona: str = PERSONA) -> list[DocumentOut]:
        """A persona's knowledge-base documents, with their chunks and how many are indexed."""

        def read(session: Session) -> list[DocumentOut]:
            get_persona(session, persona)
            return [DocumentOut(**vars(d)) for d in documents.list_documents(session, persona)]

        return await _run(read)

    @api.post(
        "/api/documents",
        status_code=201,
        responses={**NOT_FOUND, 400: {"description": "not text, a PDF without text, or already there"}},
    )
    async def add_document(
        request: Request, persona: str = PERSONA, filename: str = Query(min_length=1, max_length=180)
    ) -> DocumentAdded:
        """Add a document (.txt, .md or .pdf, the raw file as the body, up to 10 MB), chunked and indexed.

        The answer comes once every chunk is indexed; on any failure nothing of the document is kept.
        """
        data = await read_body(request, documents.MAX_BYTES, "A document")
        await _run(lambda session: get_persona(session, persona))
        count = await _with_service(
            lambda service: documents.add_document(service, persona_id=persona, filename=filename, data=data)
        )
        return DocumentAdded(name=documents.safe_name(filename), chunks=count)

    @api.delete("/api/documents/{name}", status_code=204, responses=NOT_FOUND)
    async def delete_document(name: str = Path(min_length=1, max_length=180), persona: str = PERSONA) -> Response:
        """Remove a document and every one of its chunks."""

        def exists(session: Session) -> None:
            get_persona(session, persona)
            if not documents.document_exists(session, persona, name):
                raise HTTPException(status_code=404, detail=f"No document '{name}' in {persona}'s knowledge base")

        await _run(exists)
        await _with_service(lambda service: documents.delete_document(service, persona_id=persona, name=name))
        return Response(status_code=204)


def add_memory_routes(api: FastAPI) -> None:
    """Memories, search, indexes and documents."""
    _add_index_routes(api)
    _add_memory_routes(api)
    _add_search_and_document_routes(api)
