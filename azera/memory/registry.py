"""The process-wide memory service, built from settings (embedded defaults unless a URL is set)."""

from __future__ import annotations

import functools
import logging
import threading

from azera.config import get_settings
from azera.memory.embedder import Embedder, OllamaEmbedder, OnnxMiniLM
from azera.memory.lexical import FtsLexicalStore, LexicalStore, MeiliLexicalStore
from azera.memory.semantic import EdgeSemanticStore, QdrantClientStore, SemanticStore
from azera.memory.service import MemoryService
from azera.memory.working import LocalTTLStore, RedisStore, WorkingMemory

log = logging.getLogger(__name__)
DEFAULT_EMBEDDING_MODEL = "all-MiniLM-L6-v2"


def build_embedder() -> Embedder:
    """MiniLM (ONNX) unless an Ollama embedding model is configured."""
    settings = get_settings()
    if settings.ollama_host and settings.embedding_model != DEFAULT_EMBEDDING_MODEL:
        return OllamaEmbedder(settings.ollama_host, settings.embedding_model)
    return OnnxMiniLM()


def build_working_memory() -> WorkingMemory:
    """Redis when configured, else in-process."""
    settings = get_settings()
    return RedisStore(settings.redis_url) if settings.redis_url else LocalTTLStore()


def build_semantic(dimension: int) -> SemanticStore:
    """A Qdrant server when configured, else the embedded engine in the data folder."""
    settings = get_settings()
    if settings.qdrant_url:
        return QdrantClientStore(settings.qdrant_url, dimension)
    return EdgeSemanticStore(settings.data_dir / "semantic", dimension)


def build_lexical() -> LexicalStore:
    """Meilisearch when configured, else SQLite FTS5 in the data folder."""
    settings = get_settings()
    if settings.meili_url:
        return MeiliLexicalStore(settings.meili_url, settings.meili_key)
    return FtsLexicalStore(settings.data_dir / "lexical.db")


_build_lock = threading.Lock()


def get_memory_service() -> MemoryService:
    """The memory service for this process (built once, even when threads ask at the same moment)."""
    with _build_lock:
        return _build_memory_service()


@functools.cache
def _build_memory_service() -> MemoryService:
    embedder = build_embedder()
    lexical = build_lexical()
    service = MemoryService(
        embedder=embedder, semantic=build_semantic(embedder.dimension), lexical=lexical, working=build_working_memory()
    )
    if getattr(lexical, "rebuilt", False):
        log.warning(
            "the lexical index had an older layout and was rebuilt empty; re-indexing memories in the background"
        )
        service.mark_all_unindexed()
        threading.Thread(target=service.index_all_pending, name="azera-reindex", daemon=True).start()
    return service


def try_memory_service() -> MemoryService | None:
    """The memory service, or None (logged) when a layer cannot even start: chat goes on without recall."""
    try:
        return get_memory_service()
    except Exception as error:
        log.warning("memory is unavailable, replies go on without recall: %s", error)
        return None


get_memory_service.cache_clear = _build_memory_service.cache_clear  # type: ignore[attr-defined]
