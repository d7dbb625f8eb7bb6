"""Benchmarks (``python -m azera bench …``): numbers from repeated runs, medians reported."""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

BENCH_PROMPT = "Explain in a few sentences why the sky is blue."


def rss_mb() -> float:
    """Resident memory of this process in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _summary(samples: list[dict[str, float]]) -> dict[str, float]:
    keys = samples[0].keys()
    return {key: round(statistics.median(sample[key] for sample in samples), 4) for key in keys}


async def _time_stream(pieces) -> dict[str, float]:
    start = time.perf_counter()
    first = 0.0
    count = 0
    async for _ in pieces:
        count += 1
        if count == 1:
            first = time.perf_counter()
    end = time.perf_counter()
    generation = max(end - first, 1e-9)
    return {
        "ttft_s": first - start,
        "tokens": count,
        "tokens_per_s": (count - 1) / generation if count > 1 else 0.0,
    }


async def bench_chat(*, runs: int = 5, max_tokens: int = 64) -> dict[str, object]:
    """Time the backend directly and through Azera's reply service on the same prompt.

    Runs on a scratch data folder so the user's chats are untouched.
    """
    os.environ["AZERA_DATA_DIR"] = tempfile.mkdtemp(prefix="azera-bench-")
    os.environ["AZERA_MAX_REPLY_TOKENS"] = str(max_tokens)
    from azera.config import get_settings
    from azera.db import engine as db_engine
    from azera.llm import registry

    get_settings.cache_clear()
    db_engine.get_engine.cache_clear()
    registry.get_backend.cache_clear()
    from azera.llm.prompt import PromptParts, build_messages
    from azera.services import chats
    from azera.services.personas import get_persona
    from azera.services.replies import generate_reply
    from azera.services.startup import prepare

    prepare()
    backend = registry.get_backend()
    model = registry.default_model()
    rss_before = rss_mb()
    with db_engine.session_scope() as session:
        persona = get_persona(session, "azera")
        protag = get_persona(session, "protag")
        turn = {"role": "user", "content": BENCH_PROMPT}
        parts = PromptParts(persona.name, persona.body, protag.name, protag.body, [turn])  # type: ignore[list-item]
    messages, _ = await build_messages(parts, backend=backend, model=model, reply_tokens=max_tokens)

    def new_chat() -> str:
        # A fresh chat per run, so Azera sends exactly the prompt the raw run sends.
        with db_engine.session_scope() as session:
            chat = chats.create_chat(session, ai_persona_id="azera", title="benchmark")
            chats.set_chat_model(session, chat.id, model=model, temperature=0.0)
            return chat.id

    async def raw_once() -> dict[str, float]:
        stream = backend.stream_chat(model, messages, temperature=0.0, max_tokens=max_tokens, stop=asyncio.Event())
        return await _time_stream(stream)

    async def azera_once() -> dict[str, float]:
        chat_id = await asyncio.to_thread(new_chat)

        async def tokens():
            async for event in generate_reply(chat_id, text=BENCH_PROMPT, backend=backend):
                if event.kind == "token":
                    yield event

        return await _time_stream(tokens())

    await raw_once()  # warm-up: loads the model
    rss_loaded = rss_mb()
    raw, through = [], []
    for _ in range(runs):
        raw.append(await raw_once())
        through.append(await azera_once())
    raw_median, azera_median = _summary(raw), _summary(through)
    return {
        "backend": backend.name,
        "model": model,
        "runs": runs,
        "max_tokens": max_tokens,
        "raw": raw_median,
        "through_azera": azera_median,
        "ttft_overhead_ms": round((azera_median["ttft_s"] - raw_median["ttft_s"]) * 1000, 1),
        "tokens_per_s_ratio": round(azera_median["tokens_per_s"] / raw_median["tokens_per_s"], 3)
        if raw_median["tokens_per_s"]
        else None,
        "rss_mb_before_load": round(rss_before, 1),
        "rss_mb_model_loaded": round(rss_loaded, 1),
    }
