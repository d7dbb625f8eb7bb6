"""Benchmarks (``python -m azera bench …``): numbers from repeated runs, medians reported."""

from __future__ import annotations

import asyncio
import os
import statistics
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
    end = start
    async for _ in pieces:
        count += 1
        end = time.perf_counter()
        if count == 1:
            first = end
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
    os.environ["AZERA_MAX_REPLY_TOKENS"] = str(max_tokens)
    _scratch_settings()
    from azera.db import engine as db_engine
    from azera.llm import registry
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

    reset = getattr(backend, "reset_prompt_cache", lambda: None)

    async def raw_once() -> dict[str, float]:
        reset()  # both paths start from a cold prompt cache (the mood call in between would evict it anyway)
        stream = backend.stream_chat(model, messages, temperature=0.0, max_tokens=max_tokens, stop=asyncio.Event())
        return await _time_stream(stream)

    async def azera_once() -> dict[str, float]:
        chat_id = await asyncio.to_thread(new_chat)
        reset()

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


def _scratch_settings() -> None:
    """Point this process at a fresh data folder (benchmarks never touch the user's data)."""
    from azera import caches

    caches.use_scratch_data("azera-bench-")


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 2),
    }


TOPICS = ["garden", "cello", "taxes", "Trondheim", "bicycle", "sourdough", "chess", "python", "sister", "hiking"]


def bench_retrieval(*, memories: int = 10_000, queries: int = 100, personas: int = 4) -> dict[str, object]:
    """Full retrieval (3 sources + fusion + SQL) over ``memories`` memories on the embedded stack."""
    import random
    from datetime import timedelta

    _scratch_settings()
    from azera.db.engine import session_scope
    from azera.db.models import Memory, utcnow
    from azera.memory.registry import get_memory_service
    from azera.services.startup import prepare

    prepare()
    service = get_memory_service()
    rng = random.Random(7)
    persona_ids = ["azera", "areza"] + [f"bench-{n}" for n in range(max(personas - 2, 0))]
    with session_scope() as session:
        from azera.db.models import Persona

        for persona_id in persona_ids[2:]:
            session.add(Persona(id=persona_id, name=persona_id, body=""))
    texts = [
        f"Note {n}: we talked about {rng.choice(TOPICS)} and {rng.choice(TOPICS)} on day {n % 365}, "
        f"mood {rng.choice(['good', 'tired', 'curious'])}."
        for n in range(memories)
    ]
    started = time.perf_counter()
    with session_scope() as session:
        rows = [
            Memory(
                text=text,
                persona_id=persona_ids[n % len(persona_ids)],
                kind="conversation",
                chat_id=f"chat-{n % 200}",
                created_at=utcnow() - timedelta(days=1),
            )
            for n, text in enumerate(texts)
        ]
        session.add_all(rows)
    indexed = service.reindex(batch=512)
    index_seconds = time.perf_counter() - started
    questions = [f"What did we say about {rng.choice(TOPICS)} and {rng.choice(TOPICS)}?" for _ in range(queries)]
    miss, hit = [], []
    for question in questions:
        service.working.delete(service._cache_key(question))
        begin = time.perf_counter()
        service.retrieve(question, persona_id="azera", chat_id="chat-new")
        miss.append(time.perf_counter() - begin)
        begin = time.perf_counter()
        service.retrieve(question, persona_id="azera", chat_id="chat-new")
        hit.append(time.perf_counter() - begin)
    return {
        "memories": indexed,
        "personas": len(persona_ids),
        "queries": queries,
        "index_seconds": round(index_seconds, 1),
        "embedder": service.embedder.name,
        "semantic": service.semantic.name,
        "lexical": service.lexical.name,
        "cache_hit": _percentiles(hit),
        "cache_miss": _percentiles(miss),
        "budget": {"p50_ms": 15, "p95_ms": 40},
    }


def bench_tick(*, seconds: float = 30.0, personas: int = 10) -> dict[str, object]:
    """CPU the 1 Hz tick loop costs while idle (process CPU time / wall time), real clock, every stage on."""
    import asyncio

    _scratch_settings()
    from azera.db.engine import session_scope
    from azera.db.models import Persona
    from azera.mind.loop import default_stages, get_mind_service, tick_loop
    from azera.mind.state import MentalState
    from azera.services.startup import prepare

    prepare()
    service = get_mind_service()
    with session_scope() as session:
        for n in range(personas):
            session.add(Persona(id=f"persona-{n}", name=f"Persona {n}", kind="ai", body=""))
    for n in range(personas):
        service._states[f"persona-{n}"] = MentalState(f"persona-{n}", updated=time.time())
    service.persist = lambda: None  # type: ignore[method-assign]  # measure the loop, not SQL
    stages = default_stages()
    ticks = int(seconds)
    cpu_start, wall_start = time.process_time(), time.perf_counter()
    asyncio.run(tick_loop(service, ticks=ticks, stages=stages))
    cpu, wall = time.process_time() - cpu_start, time.perf_counter() - wall_start
    return {
        "ticks": ticks,
        "personas": personas,
        "stages": ["perception", "emotion", "dream", "reflection", "abandoned journals"],
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 4),
        "cpu_percent_of_one_core": round(100 * cpu / wall, 3),
        "budget_percent": 1.0,
    }
