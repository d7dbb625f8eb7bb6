"""Health of every layer: which implementation is in use and whether it works."""

from __future__ import annotations

import dataclasses
import importlib.util
import sqlite3
from collections.abc import Callable
from pathlib import Path

import httpx
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from azera.config import get_settings
from azera.db.engine import alembic_config, get_engine


@dataclasses.dataclass
class LayerStatus:
    """The state of one layer."""

    layer: str
    implementation: str
    ok: bool
    detail: str
    required: bool = False


def _has_module(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def database_answers() -> bool:
    """One ``SELECT 1`` (the health check: cheap, quiet, nothing about the schema)."""
    try:
        with get_engine().connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return False
    return True


def check_indexing() -> LayerStatus:
    """Memories waiting to be indexed (the tick loop indexes them; many waiting means indexing fails)."""
    from azera.db.engine import session_scope
    from azera.memory.indexing import waiting_count

    with session_scope() as session:
        waiting = waiting_count(session)
    if not waiting:
        return LayerStatus("memory indexing", "tick-loop stage", True, "every memory is indexed")
    return LayerStatus(
        "memory indexing", "tick-loop stage", False, f"{waiting} memories waiting to be indexed (the app retries)"
    )


def check_records() -> LayerStatus:
    """Connect to the database and compare its schema revision with the newest migration."""
    url = get_settings().resolved_database_url
    kind = "SQLite" if url.startswith("sqlite") else url.split(":", 1)[0]
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        where = url.removeprefix("sqlite:///")
        return LayerStatus("records", kind, False, f"no database at {where} yet: run `python -m azera migrate`", True)
    try:
        with get_engine().connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
        head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    except SQLAlchemyError as error:
        return LayerStatus("records", kind, False, f"cannot connect: {error.__class__.__name__}: {error}", True)
    if current != head:
        return LayerStatus(
            "records", kind, False, f"schema at {current}, newest is {head}: run `python -m azera migrate`", True
        )
    return LayerStatus("records", kind, True, f"schema revision {current}", True)


def _http_check(layer: str, implementation: str, url: str, path: str) -> LayerStatus:
    try:
        response = httpx.get(url.rstrip("/") + path, timeout=3)
        response.raise_for_status()
    except httpx.HTTPError as error:
        return LayerStatus(layer, implementation, False, f"{url} unreachable: {error}")
    return LayerStatus(layer, implementation, True, f"{url} answers")


def check_semantic() -> LayerStatus:
    """Vector store."""
    settings = get_settings()
    if settings.qdrant_url:
        return _http_check("semantic memory", "Qdrant server", settings.qdrant_url, "/healthz")
    if not _has_module("qdrant_edge"):
        return LayerStatus("semantic memory", "embedded Qdrant engine", False, "qdrant-edge-py is not installed")
    folder = settings.data_dir / "semantic"
    where = f"{folder} ({'exists' if folder.exists() else 'created on first use'})"
    return LayerStatus("semantic memory", "embedded Qdrant engine", True, where)


def check_lexical() -> LayerStatus:
    """Full-text store."""
    settings = get_settings()
    if settings.meili_url:
        return _http_check("lexical memory", "Meilisearch", settings.meili_url, "/health")
    connection = sqlite3.connect(":memory:")
    try:
        connection.execute("CREATE VIRTUAL TABLE probe USING fts5(text, tokenize='porter')")
    except sqlite3.OperationalError as error:
        return LayerStatus("lexical memory", "SQLite FTS5", False, f"FTS5 unavailable: {error}")
    finally:
        connection.close()
    return LayerStatus(
        "lexical memory", "SQLite FTS5", True, f"FTS5 with porter stemming (SQLite {sqlite3.sqlite_version})"
    )


def check_working_memory() -> LayerStatus:
    """Session context, embedding cache and mental state."""
    settings = get_settings()
    if settings.redis_url:
        import redis

        try:
            redis.Redis.from_url(settings.redis_url, socket_timeout=3).ping()
        except redis.RedisError as error:
            return LayerStatus("working memory", "Redis", False, f"{settings.redis_url}: {error}")
        return LayerStatus("working memory", "Redis", True, f"{settings.redis_url} answers PING")
    return LayerStatus("working memory", "in-process TTL store", True, "in this process; nothing to connect to")


def check_chat_llm() -> LayerStatus:
    """Chat model backend (required: without it there are no replies)."""
    settings = get_settings()
    if settings.ollama_host:
        status = _http_check("chat LLM", "Ollama", settings.ollama_host, "/api/tags")
        return dataclasses.replace(status, required=True)
    if not _has_module("llama_cpp"):
        return LayerStatus("chat LLM", "llama.cpp", False, "llama-cpp-python is not installed", True)
    from azera.llm.llamacpp import LlamaCppBackend
    from azera.llm.registry import default_model

    models = LlamaCppBackend(settings.resolved_models_dir).model_paths()
    if not models:
        fix = "no model: run `python -m azera models install` or add a .gguf file"
        return LayerStatus("chat LLM", "llama.cpp", False, fix, True)
    chosen = default_model()
    if chosen.lower() not in models:
        return LayerStatus("chat LLM", "llama.cpp", False, f"default model {chosen!r} is not installed", True)
    detail = f"default {chosen}; {len(models)} model(s): {', '.join(models)}"
    return LayerStatus("chat LLM", "llama.cpp", True, detail, True)


def check_embeddings() -> LayerStatus:
    """Sentence embeddings: embeds one sentence for real."""
    from azera.memory.embedder import EmbeddingError
    from azera.memory.registry import build_embedder

    try:
        embedder = build_embedder(get_settings())
        vector = embedder.embed(["doctor check"])[0]
    except (EmbeddingError, OSError, ImportError) as error:
        return LayerStatus("embeddings", "all-MiniLM-L6-v2", False, str(error))
    return LayerStatus("embeddings", embedder.name, True, f"{len(vector)}-d vectors")


def check_voice() -> LayerStatus:
    """Text to speech: every engine's state (Piper, Festival, espeak-ng, an XTTS server when configured)."""
    from azera.voice import speech

    states = [(state.engine, state.usable, state.detail) for state in speech.engine_states()]
    ready = [f"{engine.label}: {detail}" for engine, usable, detail in states if usable]
    missing = [f"{engine.label} {detail}" for engine, usable, detail in states if not usable]
    detail = "; ".join(ready) or "no engine installed: run scripts/setup.sh (Piper)"
    if missing:
        detail += " (optional: " + "; ".join(missing) + ")"
    return LayerStatus("voice", "Piper / Festival / espeak-ng", bool(ready), detail)


def check_speech_to_text() -> LayerStatus:
    """Speech to text: faster-whisper with its model."""
    from azera.voice import stt

    usable, detail = stt.state()
    return LayerStatus("speech to text", "faster-whisper", usable, detail)


def check_images() -> LayerStatus:
    """Image generation: each configured backend's state, or how to configure one."""
    from azera.images import jobs

    configured = jobs.backends()
    if not configured:
        return LayerStatus("images", "none configured", False, jobs.NO_BACKEND)
    states = [(backend, *backend.state()) for backend in configured]
    detail = "; ".join(f"{backend.label}: {why}" for backend, _, why in states)
    return LayerStatus("images", ", ".join(b.name for b in configured), any(ok for _, ok, _ in states), detail)


CHECKS: list[Callable[[], LayerStatus]] = [
    check_records,
    check_semantic,
    check_lexical,
    check_working_memory,
    check_chat_llm,
    check_embeddings,
    check_indexing,
    check_voice,
    check_speech_to_text,
    check_images,
]


def run_checks() -> list[LayerStatus]:
    """Run every layer check; a crashing check reports a problem instead of raising."""
    results = []
    for check in CHECKS:
        try:
            results.append(check())
        except Exception as error:
            name = check.__name__.removeprefix("check_").replace("_", " ")
            results.append(LayerStatus(name, "?", False, f"check failed: {error}"))
    return results
