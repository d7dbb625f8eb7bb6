"""The 1 Hz tick loop, run as one Reflex lifespan task per app.

Stages each tick: perception (idle drift of energy, mood and focus for every AI persona) and
emotion (the mood label follows valence/arousal). Dreams and reflection join as later stages.
The clock and the sleep are injectable so tests and simulations run hours in milliseconds.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable

from azera.memory.registry import build_working_memory
from azera.mind.service import MindService

log = logging.getLogger(__name__)
TICK_SECONDS = 1.0
_running = asyncio.Lock()


@functools.cache
def get_mind_service() -> MindService:
    """The process-wide mind service."""
    return MindService(working=build_working_memory())


async def tick_loop(
    service: MindService,
    *,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    interval: float = TICK_SECONDS,
    ticks: int | None = None,
) -> int:
    """Tick until cancelled (or ``ticks`` times); returns how many ticks ran. Never runs twice at once."""
    if _running.locked():
        log.warning("a tick loop is already running in this process; not starting another")
        return 0
    async with _running:
        count = 0
        while ticks is None or count < ticks:
            try:
                if service.tick(clock()):
                    await asyncio.to_thread(service.persist)  # disk and network stay off the event loop
            except Exception:  # a bad tick must not end the loop
                log.exception("tick failed")
            count += 1
            await sleep(interval)
        return count


async def mind_lifespan() -> None:
    """The app's lifespan task: load every persona's state, then tick once a second until shutdown."""
    service = get_mind_service()
    await asyncio.to_thread(service.load_all)
    log.info("tick loop started (1 Hz)")
    try:
        await tick_loop(service)
    finally:
        log.info("tick loop stopped")
