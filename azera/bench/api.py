"""``bench api``: the REST API's throughput and the time to a reply's first words, by each way in.

- ``GET /api/chats`` (50 chats listed) from ``clients`` concurrent clients for ``seconds``: requests per
  second and latency p50/p99.
- Time to the first token of a persona's reply, ``runs`` times each (the same chat history, the same
  model, ``max_tokens`` tokens): ``POST /v1/chat/completions`` streamed, ``POST /api/chats/{id}/messages``
  (what ``python -m azera chat`` uses beside the running app), and ``generate_reply`` in this process (the
  CLI with no app running: no HTTP at all).

The app is a real ``python -m azera run`` on a scratch data folder (or one already running: ``url`` and
its data folder, for the browser tests).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import time
from pathlib import Path

import httpx

from azera.bench.load import _percentiles, _start_app, stop_app

QUESTION = "In one sentence: what is a lighthouse for?"


async def _listing(url: str, headers: dict[str, str], clients: int, seconds: float) -> dict[str, object]:
    samples: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal errors
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as http:
            while time.perf_counter() < deadline:
                began = time.perf_counter()
                response = await http.get("/api/chats", params={"limit": 50})
                if response.status_code == 200:
                    samples.append(time.perf_counter() - began)
                else:
                    errors += 1

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.perf_counter() - began
    return {"requests_per_second": round(len(samples) / elapsed, 1), **_percentiles(samples), "errors": errors}


def _v1_first_token(url: str, headers: dict[str, str], max_tokens: int) -> float:
    body = {
        "model": "azera",
        "messages": [{"role": "user", "content": QUESTION}],
        "stream": True,
        "max_tokens": max_tokens,
    }
    began = time.perf_counter()
    first = 0.0
    with httpx.stream("POST", url + "/v1/chat/completions", json=body, headers=headers, timeout=300) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if line.startswith("data: {") and not first:
                choices = json.loads(line[6:]).get("choices") or [{}]
                if choices[0].get("delta", {}).get("content"):
                    first = time.perf_counter() - began
    return first


def _api_first_token(url: str, headers: dict[str, str]) -> float:
    chat_id = httpx.post(url + "/api/chats", json={"title": "bench api"}, headers=headers).json()["id"]
    began = time.perf_counter()
    first = 0.0
    path = f"/api/chats/{chat_id}/messages"
    with httpx.stream("POST", url + path, json={"text": QUESTION}, headers=headers, timeout=300) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if line.startswith("event: token") and not first:
                first = time.perf_counter() - began
    return first


async def _in_process_first_token(max_tokens: int) -> float:
    from azera.conversation.replies import generate_reply
    from azera.db.engine import in_db
    from azera.services import chats

    chat_id = await in_db(lambda session: chats.create_chat(session, ai_persona_id="azera", title="bench api").id)
    began = time.perf_counter()
    first = 0.0
    stream = generate_reply(chat_id, text=QUESTION, sampling={"max_tokens": max_tokens})
    async for event in stream:
        if event.kind == "token" and event.content and not first:
            first = time.perf_counter() - began
        if event.kind == "done":
            break
    await stream.aclose()
    return first


def _after_pause(measure, pause: float) -> float:
    """Wait ``pause`` seconds, then measure: after each reply the model also reads the reply's mood."""
    time.sleep(pause)
    return measure()


def _summary(samples: list[float]) -> dict[str, float]:
    return {key: round(value, 1) for key, value in _percentiles(samples).items()}


def bench_api(
    *,
    seconds: float = 20.0,
    clients: int = 8,
    runs: int = 5,
    max_tokens: int = 16,
    url: str = "",
    data: str = "",
    pause: float = 5.0,
) -> dict[str, object]:
    """Throughput of GET /api/chats and first-token times by each way in (see the module's description)."""
    from azera.bench import scratch_settings
    from azera.db.engine import session_scope
    from azera.services import chats

    process = None
    if not url:
        data = scratch_settings("azera-api-")
        url, process = _start_app(Path(data))
    try:
        token = (Path(data) / "cli-token").read_text().strip()
        headers = {"authorization": f"Bearer {token}"}
        with session_scope() as session:
            for n in range(50):
                chats.create_chat(session, ai_persona_id="azera", title=f"Bench chat {n}")
        with concurrent.futures.ThreadPoolExecutor(1) as pool:  # a caller may have an event loop running
            listing = pool.submit(asyncio.run, _listing(url, headers, clients, seconds)).result()
        _v1_first_token(url, headers, max_tokens)  # the model loads once, before anything is timed
        v1 = [_after_pause(lambda: _v1_first_token(url, headers, max_tokens), pause) for _ in range(runs)]
        api = [_after_pause(lambda: _api_first_token(url, headers), pause) for _ in range(runs)]
    finally:
        stop_app(process)
    first = {"v1_stream": _summary(v1), "api_sse": _summary(api)}
    if process is not None:  # the app is gone: the CLI's own way, in this process, on the same data
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, _in_process_first_token(max_tokens)).result()  # this process loads it
            local = [pool.submit(asyncio.run, _in_process_first_token(max_tokens)).result() for _ in range(runs)]
        first["in_process"] = _summary(local)
    report: dict[str, object] = {
        "list_chats": {"clients": clients, "seconds": seconds, **listing},
        "first_token_ms": first,
        "runs": runs,
        "max_tokens": max_tokens,
    }
    if "in_process" in first:
        report["v1_over_in_process"] = round(first["v1_stream"]["p50_ms"] / max(first["in_process"]["p50_ms"], 1), 2)
    return report
