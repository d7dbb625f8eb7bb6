"""``bench tick``: what the 1 Hz tick loop costs while nobody talks."""

from __future__ import annotations

import time

from azera.bench import scratch_settings


def bench_tick(*, seconds: float = 30.0, personas: int = 10) -> dict[str, object]:
    """CPU the 1 Hz tick loop costs while idle (process CPU time / wall time), real clock, every stage on."""
    import asyncio

    scratch_settings()
    from azera.db.engine import session_scope
    from azera.db.models import Persona
    from azera.mind.loop import tick_loop
    from azera.mind.state import MentalState
    from azera.runtime import runtime
    from azera.services.startup import prepare

    prepare()
    service = runtime().mind
    with session_scope() as session:
        for n in range(personas):
            session.add(Persona(id=f"persona-{n}", name=f"Persona {n}", kind="ai", body=""))
    for n in range(personas):
        service._states[f"persona-{n}"] = MentalState(f"persona-{n}", updated=time.time())
    service.persist = lambda: None  # type: ignore[method-assign]  # measure the loop, not SQL
    stages = runtime().stages()
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
