"""The process-wide caches (settings, engine, backends, services), cleared together when settings change."""

from __future__ import annotations


def reset() -> None:
    """Forget every cached setting, engine and service, so the next use reads the environment again."""
    from azera.config import get_settings
    from azera.db import engine as db_engine
    from azera.llm import registry as llm_registry
    from azera.memory import registry as memory_registry
    from azera.mind import loop as mind_loop

    for cached in (
        get_settings,
        db_engine.get_engine,
        llm_registry.get_backend,
        memory_registry.get_memory_service,
        mind_loop.get_mind_service,
        mind_loop.get_dreamer,
        mind_loop.get_reflector,
        mind_loop.get_journal_keeper,
    ):
        cached.cache_clear()


def use_scratch_data(prefix: str = "azera-scratch-") -> str:
    """Point this process at a fresh, empty data folder (benchmarks and simulations never touch real data)."""
    import os
    import tempfile

    folder = tempfile.mkdtemp(prefix=prefix)
    os.environ["AZERA_DATA_DIR"] = folder
    reset()
    return folder
