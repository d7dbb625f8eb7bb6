"""``bench index`` and ``bench retrieval``: indexing and recall from 10k to 1M memories on the embedded stack.

Each size runs in a fresh process on a fresh scratch folder (the RSS is that process's and the disk
figures are that size's), so the growth from one size to the next reads as ratios. Indexing is timed
per stage (SQL reads and writes, embedding, vector upsert, word-search writes): the embedding stage
alone is the embedder's own rate on the same texts in the same run, the ceiling indexing can reach.
"""

from __future__ import annotations

import functools
import random
import time
from datetime import timedelta
from pathlib import Path

from azera.bench import percentiles, rss_mb, scratch_settings

TOPICS = ["garden", "cello", "taxes", "Trondheim", "bicycle", "sourdough", "chess", "python", "sister", "hiking"]
FILL_CHUNK = 20_000  # SQL rows per insert transaction while filling


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _disk_mb(folder: Path) -> dict[str, float]:
    def size(paths) -> float:
        return round(sum(p.stat().st_size for p in paths if p.is_file()) / 2**20, 1)

    return {
        "sql": size(folder.glob("azera.db*")),
        "semantic": size((folder / "semantic").rglob("*")),
        "lexical": size(folder.glob("lexical.db*")),
    }


def _fill(memories: int, personas: int, rng: random.Random) -> list[str]:
    """``memories`` rows in SQL (not indexed), spread over personas and 200 chats; returns the persona ids.

    Each memory is a turn of its chat (a message whose parent is the chat's previous turn) and every third
    asks a question, so recall's conversation stage (``memory.context``) does its real SQL work.
    """
    from sqlalchemy import insert

    from azera.db.engine import session_scope
    from azera.db.models import Chat, ChatMessage, Memory, Persona, new_id, utcnow

    persona_ids = ["azera", "areza"] + [f"bench-{n}" for n in range(max(personas - 2, 0))]
    chats = 200
    with session_scope() as session:
        for persona_id in persona_ids[2:]:
            session.add(Persona(id=persona_id, name=persona_id, body=""))
        session.add(Persona(id="bench-user", name="Bench", kind="user", body=""))
    with session_scope() as session:
        for n in range(chats):
            owner = persona_ids[n % len(persona_ids)]
            session.add(Chat(id=f"chat-{n}", ai_persona_id=owner, user_persona_id="bench-user"))
    yesterday = utcnow() - timedelta(days=1)
    last: dict[int, str] = {}
    for start in range(0, memories, FILL_CHUNK):
        memory_rows, message_rows = [], []
        for n in range(start, min(start + FILL_CHUNK, memories)):
            text = f"Note {n}: we talked about {rng.choice(TOPICS)} and {rng.choice(TOPICS)} on day {n % 365}, " + (
                f"what about {rng.choice(TOPICS)}?" if n % 3 == 0 else f"mood {rng.choice(['good', 'tired'])}."
            )
            chat, message_id = n % chats, new_id()
            message_rows.append(
                {
                    "id": message_id,
                    "chat_id": f"chat-{chat}",
                    "parent_id": last.get(chat),
                    "role": "user" if n % 2 else "assistant",
                    "content": text,
                    "thinking": "",
                    "recalled": [],
                    "created_at": yesterday,
                }
            )
            last[chat] = message_id
            memory_rows.append(
                {
                    "id": new_id(),
                    "text": text,
                    "persona_id": persona_ids[n % len(persona_ids)],
                    "kind": "conversation",
                    "tier": "long_term",
                    "chat_id": f"chat-{chat}",
                    "message_id": message_id,
                    "source": "",
                    "created_at": yesterday,
                }
            )
        with session_scope() as session:
            session.execute(insert(ChatMessage), message_rows)
            session.execute(insert(Memory), memory_rows)
    return persona_ids


def _recall(service, queries: int, rng: random.Random) -> dict[str, object]:
    """Per source and in all: the times of one message's recall (embedding cached and not)."""
    from azera.config import get_settings
    from azera.memory.dates import asks_when, recall_window
    from azera.memory.recall import assemble
    from azera.memory.records import SearchScope
    from azera.memory.service import LEXICAL_TOP, MIN_SIMILARITY, SEMANTIC_TOP

    questions = [f"What did we say about {rng.choice(TOPICS)} and {rng.choice(TOPICS)}?" for _ in range(queries)]
    times: dict[str, list[float]] = {
        name: [] for name in ("embedding", "semantic", "lexical", "cosines_of_word_finds", "sql_and_fusion")
    }
    hit, miss = [], []
    clock = time.perf_counter
    for question in questions:
        service.working.delete(service._cache_key(question))
        begin = clock()
        service.retrieve(question, persona_id="azera", chat_id="chat-new")
        miss.append(clock() - begin)
        begin = clock()
        service.retrieve(question, persona_id="azera", chat_id="chat-new")
        hit.append(clock() - begin)
        # The same steps one by one (what ``retrieve`` does, timed per source).
        begin = clock()
        service.embedder.embed([question])
        times["embedding"].append(clock() - begin)
        vector = service.embed([question])[0]
        scope = SearchScope(
            persona_id="azera",
            exclude_chat_id="chat-new",
            before=service.clock() - get_settings().memory_min_age_seconds,
        )
        begin = clock()
        lexical = {h.id: h.score for h in service.lexical.search("memories", question, scope, LEXICAL_TOP)}
        times["lexical"].append((now := clock()) - begin)
        semantic = {h.id: h.score for h in service.semantic.search(vector, scope, SEMANTIC_TOP)}
        times["semantic"].append((begin := clock()) - now)
        semantic.update(service.cosines(vector, scope, [i for i in lexical if i not in semantic]))
        times["cosines_of_word_finds"].append((now := clock()) - begin)
        scores = {"lexical": lexical, "semantic": {i: s for i, s in semantic.items() if s >= MIN_SIMILARITY}}
        lookup = functools.partial(service.cosines, vector, scope)
        assemble(scores, scope, 8, recall_window(question), lookup=lookup, when=asks_when(question))
        times["sql_and_fusion"].append(clock() - now)
    return {
        "queries": queries,
        "cache_hit": percentiles(hit),
        "cache_miss": percentiles(miss),
        "per_source": {name: percentiles(samples) for name, samples in times.items()},
    }


def measure(memories: int, queries: int = 100, personas: int = 4) -> dict[str, object]:
    """Fill, index and (when ``queries``) time recall at one size, on a scratch folder removed afterwards."""
    import shutil

    folder = Path(scratch_settings())
    try:
        from azera.runtime import runtime
        from azera.services.startup import prepare

        prepare()
        service = runtime().memory()
        rng = random.Random(7)
        begin = time.perf_counter()
        persona_ids = _fill(memories, personas, rng)
        fill_seconds = time.perf_counter() - begin
        service.timings = dict.fromkeys(service.timings, 0.0)
        begin = time.perf_counter()
        indexed = service.index_all_pending()
        service.optimize()  # what the app's indexing stage does once nothing waits
        seconds = time.perf_counter() - begin
        embed_seconds = service.timings["embed"]
        result: dict[str, object] = {
            "memories": indexed,
            "personas": len(persona_ids),
            "fill_seconds": round(fill_seconds, 1),
            "index_seconds": round(seconds, 1),
            "index_rate": round(indexed / seconds, 1),
            "embedder_rate": round(indexed / embed_seconds, 1) if embed_seconds else 0.0,
            "share_of_embedder": round(embed_seconds / seconds, 3),
            "stages_seconds": {name: round(value, 1) for name, value in service.timings.items()},
            "exact_search_vectors": getattr(service.semantic, "waiting_for_graph", lambda: 0)(),
            "disk_mb": _disk_mb(folder),
            "rss_mb": round(rss_mb()),
            "peak_rss_mb": round(_peak_rss_mb()),
            "embedder": service.embedder.name,
            "semantic": service.semantic.name,
            "lexical": service.lexical.name,
        }
        if queries:
            result["recall"] = _recall(service, queries, rng)
            result["budget"] = {"p50_ms": 15, "p95_ms": 40}
        return result
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def bench_sizes(sizes: list[int], *, queries: int = 100) -> dict[str, object]:
    """``measure`` at each size, each in a fresh process; growth from the first size to the last as ratios."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    results = []
    for size in sizes:
        with context.Pool(1) as pool:
            results.append(pool.apply(measure, (size, queries)))
    report: dict[str, object] = {"sizes": results}
    if len(results) > 1:
        first, last = results[0], results[-1]
        growth = {
            "memories": round(last["memories"] / max(first["memories"], 1), 1),
            "index_seconds": round(last["index_seconds"] / max(first["index_seconds"], 0.1), 1),
            "index_rate": round(last["index_rate"] / max(first["index_rate"], 0.1), 2),
        }
        if queries:
            growth["recall_hit_p50"] = round(
                last["recall"]["cache_hit"]["p50_ms"] / max(first["recall"]["cache_hit"]["p50_ms"], 0.01), 2
            )
        report["growth"] = growth
    return report


def format_report(report: dict[str, object]) -> str:
    """A table per size: indexing, disk, memory and (when measured) recall per source."""
    lines = []
    for r in report["sizes"]:
        stages = ", ".join(f"{k} {v} s" for k, v in r["stages_seconds"].items())
        disk = ", ".join(f"{k} {v} MB" for k, v in r["disk_mb"].items())
        lines += [
            f"{r['memories']:,} memories ({r['personas']} personas)",
            f"  indexing      {r['index_seconds']} s, {r['index_rate']} /s; embedder alone {r['embedder_rate']} /s "
            f"(indexing runs at {r['share_of_embedder']:.0%} of it)",
            f"  stages        {stages}",
            f"  disk          {disk}; {r['exact_search_vectors']:,} vectors outside the search graph",
            f"  memory        RSS {r['rss_mb']} MB (peak {r['peak_rss_mb']} MB)",
        ]
        if "recall" in r:
            hit, miss = r["recall"]["cache_hit"], r["recall"]["cache_miss"]
            lines.append(
                f"  recall        cache hit p50 {hit['p50_ms']} ms / p95 {hit['p95_ms']} ms; "
                f"miss p50 {miss['p50_ms']} ms (budget 15 / 40 ms)"
            )
            for name, figures in r["recall"]["per_source"].items():
                lines.append(f"    {name:<22} p50 {figures['p50_ms']} ms, p95 {figures['p95_ms']} ms")
    if "growth" in report:
        lines.append("growth, last size / first: " + ", ".join(f"{k} ×{v}" for k, v in report["growth"].items()))
    return "\n".join(lines)
