"""What the Memories page shows of a memory and of a knowledge-base document, read from SQL rows."""

from __future__ import annotations

from typing import TypedDict

from azera.db.models import Memory
from azera.memory.documents import DocumentSummary


class MemoryRow(TypedDict):
    """One memory in the browser."""

    id: str
    text: str
    kind: str
    tier: str
    persona: str
    created: str
    indexed: bool


class DocumentRow(TypedDict):
    """One knowledge-base document."""

    name: str
    chunks: int
    created: str
    indexing: str  # '' when every chunk is indexed


def memory_rows(memories: list[Memory]) -> list[MemoryRow]:
    """The memory browser's rows."""
    return [
        MemoryRow(
            id=m.id,
            text=m.text,
            kind=m.kind,
            tier=m.tier,
            persona=m.persona_id,
            created=f"{m.created_at:%Y-%m-%d %H:%M}",
            indexed=m.indexed_at is not None,
        )
        for m in memories
    ]


def document_rows(docs: list[DocumentSummary]) -> list[DocumentRow]:
    """The knowledge base's rows; a document still being indexed says how far it is."""
    return [
        DocumentRow(
            name=d.name,
            chunks=d.chunks,
            created=d.created_at,
            indexing="" if d.indexed >= d.chunks else f"{d.indexed:,} of {d.chunks:,} indexed, finishing by itself",
        )
        for d in docs
    ]
