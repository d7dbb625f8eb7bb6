"""``bench retrieval``: one message's recall over thousands of memories on the embedded stack."""

from __future__ import annotations

import time

from azera.bench import percentiles, scratch_settings

TOPICS = ["garden", "cello", "taxes", "Trondheim", "bicycle", "sourdough", "chess", "python", "sister", "hiking"]


def bench_retrieval(*, memories: int = 10_000, queries: int = 100, personas: int = 4) -> dict[str, object]:
    """Full retrieval (3 sources + fusion + SQL) over ``memories`` memories on the embedded stack."""
    import random
    from datetime import timedelta

    scratch_settings()
    from azera.db.engine import session_scope
    from azera.db.models import Memory, utcnow
    from azera.runtime import runtime
    from azera.services.startup import prepare

    prepare()
    service = runtime().memory()
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
        "cache_hit": percentiles(hit),
        "cache_miss": percentiles(miss),
        "budget": {"p50_ms": 15, "p95_ms": 40},
    }
