"""The 1 Hz tick loop, run as one Reflex lifespan task per app.

Stages each tick: perception (idle drift of energy, mood and focus for every AI persona),
emotion (the mood label follows valence/arousal) and dream (a tired or long-idle persona, outside
its one-hour cooldown, writes a dream in the background). Reflection joins as a later stage.
The clock and the sleep are injectable so tests and simulations run hours in milliseconds.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable

from azera.memory.registry import build_working_memory
from azera.mind.dreams import COOLDOWN_SECONDS, DreamResult, last_dream_time, should_dream, write_dream
from azera.mind.service import MindService

log = logging.getLogger(__name__)
TICK_SECONDS = 1.0
_running = asyncio.Lock()
RETRY_AFTER_FAILED_DREAM = 600


@functools.cache
def get_mind_service() -> MindService:
    """The process-wide mind service."""
    return MindService(working=build_working_memory())


@functools.cache
def get_dreamer() -> Dreamer:
    """The process-wide dream stage (the Dreams page reads who is dreaming from it)."""
    return Dreamer(get_mind_service())


async def dream_now(persona_id: str) -> DreamResult:
    """Write one dream for a persona now, with its own model (the CLI and the loop use this)."""
    from azera.db.engine import in_db
    from azera.llm.registry import default_model, get_backend
    from azera.memory.registry import try_memory_service
    from azera.services.personas import get_persona

    persona = await in_db(lambda session: get_persona(session, persona_id))
    return await write_dream(
        persona_id=persona.id,
        persona_name=persona.name,
        backend=get_backend(),
        model=persona.model or default_model(),
        memory=await asyncio.to_thread(try_memory_service),
    )


class Dreamer:
    """The dream stage: decides who dreams and runs each dream as a background task."""

    def __init__(self, service: MindService, write: Callable[[str], Awaitable[DreamResult]] = dream_now) -> None:
        self.service, self.write = service, write
        self.last_dream: dict[str, float] = {}
        self.dreaming: set[str] = set()
        self._tasks: set[asyncio.Task] = set()

    async def stage(self, now: float) -> None:
        """Start a dream for every persona that should dream and is not dreaming already."""
        for state in self.service.states():
            persona_id = state.persona_id
            if persona_id in self.dreaming:
                continue
            if persona_id not in self.last_dream:
                self.last_dream[persona_id] = await asyncio.to_thread(last_dream_time, persona_id)
            if should_dream(state, now, self.last_dream[persona_id]):
                self.dreaming.add(persona_id)
                task = asyncio.create_task(self._dream(persona_id, now))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _dream(self, persona_id: str, now: float) -> None:
        try:
            result = await self.write(persona_id)
            # A dream resets the cooldown; a failed one is retried in ten minutes, not every second.
            self.last_dream[persona_id] = now if result.dream_id else now - COOLDOWN_SECONDS + RETRY_AFTER_FAILED_DREAM
            if result.dream_id:
                log.info("%s dreamt (%s)", persona_id, result.dream_id)
        except Exception:
            log.exception("dream of %s failed", persona_id)
            self.last_dream[persona_id] = now - COOLDOWN_SECONDS + RETRY_AFTER_FAILED_DREAM
        finally:
            self.dreaming.discard(persona_id)

    async def wait(self) -> None:
        """Let running dreams finish (tests and simulations)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


async def tick_loop(
    service: MindService,
    *,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    interval: float = TICK_SECONDS,
    ticks: int | None = None,
    dreamer: Dreamer | None = None,
) -> int:
    """Tick until cancelled (or ``ticks`` times); returns how many ticks ran. Never runs twice at once."""
    if _running.locked():
        log.warning("a tick loop is already running in this process; not starting another")
        return 0
    async with _running:
        count = 0
        while ticks is None or count < ticks:
            now = clock()
            try:
                if service.tick(now):
                    await asyncio.to_thread(service.persist)  # disk and network stay off the event loop
                if dreamer is not None:
                    await dreamer.stage(now)
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
        await tick_loop(service, dreamer=get_dreamer())
    finally:
        log.info("tick loop stopped")
