"""``bench chat``: tokens/s and time to first token, straight from the backend and through Azera."""

from __future__ import annotations

import asyncio
import os
import time

from azera.bench import median_of, rss_mb, scratch_settings

BENCH_PROMPT = "Explain in a few sentences why the sky is blue."


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
    scratch_settings()
    from azera.conversation.replies import generate_reply
    from azera.db import engine as db_engine
    from azera.llm import registry
    from azera.llm.prompt import PromptParts, build_messages
    from azera.runtime import runtime
    from azera.services import chats
    from azera.services.personas import get_persona
    from azera.services.startup import prepare

    prepare()
    backend = runtime().backend
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
    raw_median, azera_median = median_of(raw), median_of(through)
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
