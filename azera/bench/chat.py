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


class _Capture:
    """The backend, remembering the last messages and sampling Azera sent (so the raw run sends the same)."""

    def __init__(self, backend) -> None:
        self.backend, self.name, self.sent = backend, backend.name, None

    def __getattr__(self, name: str):
        return getattr(self.backend, name)

    def stream_chat(self, model, messages, *, sampling, stop):
        self.sent = (list(messages), sampling)
        return self.backend.stream_chat(model, messages, sampling=sampling, stop=stop)


async def bench_chat(*, runs: int = 5, max_tokens: int = 64, model: str = "", concurrent: int = 1) -> dict[str, object]:
    """Time the backend directly and through Azera's reply service, interleaved, on the same prompt.

    The raw run sends exactly the messages and sampling Azera's first reply sent (recorded), so the difference
    is the pipeline: saving, recall, prompt assembly, the loop guard, events. With ``concurrent`` > 1 that many
    chats generate at once (tokens/s per chat). Runs on a scratch data folder so the user's chats are untouched.
    """
    os.environ["AZERA_MAX_REPLY_TOKENS"] = str(max_tokens)
    scratch_settings()
    from azera.conversation.replies import generate_reply
    from azera.db import engine as db_engine
    from azera.llm import registry
    from azera.runtime import runtime
    from azera.services import chats
    from azera.services.startup import prepare

    prepare()
    backend = _Capture(runtime().backend)
    model = model or registry.default_model()
    rss_before = rss_mb()

    def new_chat() -> str:
        # A fresh chat per run, so every Azera run sends the same prompt.
        with db_engine.session_scope() as session:
            chat = chats.create_chat(session, ai_persona_id="azera", title="benchmark")
            chats.set_chat_model(session, chat.id, model=model, temperature=0.0)
            return chat.id

    reset = getattr(backend.backend, "reset_prompt_cache", lambda: None)

    async def azera_one() -> dict[str, float]:
        chat_id = await asyncio.to_thread(new_chat)

        async def tokens():
            async for event in generate_reply(chat_id, text=BENCH_PROMPT, backend=backend):
                if event.kind == "token":
                    yield event
                elif event.kind == "done":
                    break  # the mood call afterwards is not part of the reply

        return await _time_stream(tokens())

    async def raw_one() -> dict[str, float]:
        messages, sampling = backend.sent
        return await _time_stream(backend.backend.stream_chat(model, messages, sampling=sampling, stop=asyncio.Event()))

    async def timed(one) -> dict[str, float]:
        reset()  # both paths start from a cold prompt cache
        results = await asyncio.gather(*(one() for _ in range(concurrent)))
        return median_of(list(results))

    await timed(azera_one)  # warm-up: loads the model(s), records the prompt
    rss_loaded = rss_mb()
    raw, through = [], []
    for run in range(runs):  # interleaved, alternating which goes first, so noise hits both alike
        order = [(raw, raw_one), (through, azera_one)]
        for samples, one in order if run % 2 == 0 else order[::-1]:
            samples.append(await timed(one))
    raw_median, azera_median = median_of(raw), median_of(through)
    return {
        "backend": backend.name,
        "model": model,
        "runs": runs,
        "concurrent": concurrent,
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
