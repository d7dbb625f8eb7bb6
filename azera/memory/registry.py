"""Building the memory service from the settings (embedded defaults unless a URL is set)."""

from __future__ import annotations

import json
import logging

from azera.config import Settings
from azera.db.engine import session_scope
from azera.memory.embedder import Embedder, OllamaEmbedder, OnnxMiniLM
from azera.memory.indexing import has_indexed_memories
from azera.memory.lexical import FtsLexicalStore, LexicalStore
from azera.memory.meili import MeiliLexicalStore
from azera.memory.semantic import EdgeSemanticStore, QdrantClientStore, SemanticStore
from azera.memory.service import MemoryService
from azera.memory.working import LocalTTLStore, RedisStore, WorkingMemory

log = logging.getLogger(__name__)
DEFAULT_EMBEDDING_MODEL = "all-MiniLM-L6-v2"


def build_embedder(settings: Settings) -> Embedder:
    """MiniLM (ONNX) unless an Ollama embedding model is configured."""
    if settings.ollama_host and settings.embedding_model != DEFAULT_EMBEDDING_MODEL:
        return OllamaEmbedder(settings.ollama_host, settings.embedding_model)
    return OnnxMiniLM()


def build_working_memory(settings: Settings) -> WorkingMemory:
    """Redis when configured, else in-process."""
    return RedisStore(settings.redis_url) if settings.redis_url else LocalTTLStore()


def build_semantic(settings: Settings, dimension: int) -> SemanticStore:
    """A Qdrant server when configured, else the embedded engine in the data folder."""
    if settings.qdrant_url:
        return QdrantClientStore(settings.qdrant_url, dimension)
    return EdgeSemanticStore(settings.data_dir / "semantic", dimension)


def build_lexical(settings: Settings) -> LexicalStore:
    """Meilisearch when configured, else SQLite FTS5 in the data folder."""
    if settings.meili_url:
        return MeiliLexicalStore(settings.meili_url, settings.meili_key)
    return FtsLexicalStore(settings.data_dir / "lexical.db")


# What the indexes hold for a memory; when it changes (or the embedding model does), they are rebuilt from SQL.
INDEX_LAYOUT = 2  # 2: "[date] Speaker: text" embedded; neighbouring turns as word-search context
LAYOUT_FILE = "index-layout.json"


def _layout(embedder: Embedder) -> dict:
    return {"layout": INDEX_LAYOUT, "embedder": embedder.name, "dimension": embedder.dimension}


def build_memory_service(settings: Settings) -> MemoryService:
    """The memory service; indexes built for another layout or embedding model are rebuilt in the background."""
    embedder = build_embedder(settings)
    lexical = build_lexical(settings)
    semantic = build_semantic(settings, embedder.dimension)
    working = build_working_memory(settings)
    service = MemoryService(embedder=embedder, semantic=semantic, lexical=lexical, working=working)
    marker = settings.data_dir / LAYOUT_FILE
    try:
        recorded = json.loads(marker.read_text()) if marker.exists() else None
    except (OSError, ValueError):
        recorded = {}
    if recorded is None:  # no marker: an older version may have indexed with another layout
        with session_scope() as session:
            stale = has_indexed_memories(session)
    else:
        stale = recorded != _layout(embedder)
    if stale or getattr(lexical, "rebuilt", False):
        waiting = service.rebuild()
        log.warning(
            "the memory indexes were built for another layout or embedding model: %d memories are re-indexed from "
            "SQL in the background (recall finds each one once it is)",
            waiting,
        )
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps(_layout(embedder)))
    return service
