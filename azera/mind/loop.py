"""The 1 Hz tick loop, run as one Reflex lifespan task per app.

Stages each tick: perception (idle drift of energy, mood and focus for every AI persona),
emotion (the mood label follows valence/arousal), dream (a tired or long-idle persona, outside
its one-hour cooldown, writes a dream in the background) and reflection (the daily journal entry
at the configured hour, and journal-mode sessions left open for 24 hours compiled).
The clock and the sleep are injectable so tests and simulations run hours in milliseconds.
The stages are built by the runtime (``azera/runtime.py``), which knows the backend and the memory.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from azera.mind.journal_mode import abandoned_sessions
from azera.mind.service import MindService
from azera.mind.state import MentalState
from azera.mind.writing import Written

log = logging.getLogger(__name__)
TICK_SECONDS = 1.0
RETRY_AFTER_FAILURE = 600
CHECK_ABANDONED_SECONDS = 60
_running = asyncio.Lock()


class TickStage(Protocol):
    """A stage the loop calls every tick; ``wait`` lets its background work finish."""

    async def stage(self, now: float) -> None: ...  # noqa: D102

    async def wait(self) -> None: ...  # noqa: D102


class Stage:
    """A writing stage of the tick loop (dreams, reflections): decides who writes, runs it in the background.

    One task per persona at a time; a success moves ``last``, a failure is retried after ten minutes.
    """

    def __init__(
        self,
        name: str,
        service: MindService,
        *,
        due: Callable[[MentalState, float, float], bool],
        write: Callable[[str, float], Awaitable[Written]],
        last_time: Callable[[str], float],
        retry_seconds: float = RETRY_AFTER_FAILURE,
    ) -> None:
        self.name, self.service, self.due, self.write, self.last_time = name, service, due, write, last_time
        self.retry_seconds = retry_seconds
        self.last: dict[str, float] = {}
        self.not_before: dict[str, float] = {}
        self.busy: set[str] = set()
        self.written = 0
        self._tasks: set[asyncio.Task] = set()

    async def stage(self, now: float) -> None:
        """Start a task for every persona that is due and neither busy nor waiting for a retry."""
        for state in self.service.states():
            persona_id = state.persona_id
            if persona_id in self.busy or now < self.not_before.get(persona_id, float("-inf")):
                continue
            if persona_id not in self.last:
                self.last[persona_id] = await asyncio.to_thread(self.last_time, persona_id)
            if self.due(state, now, self.last[persona_id]):
                self.busy.add(persona_id)
                task = asyncio.create_task(self._run(persona_id, now))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _run(self, persona_id: str, now: float) -> None:
        try:
            result = await self.write(persona_id, now)
            if result.id:
                self.last[persona_id], self.written = now, self.written + 1
                log.info("%s: %s written (%s)", persona_id, self.name, result.id)
            else:
                self.not_before[persona_id] = now + self.retry_seconds
                log.info("%s: no %s this time (%s); retrying later", persona_id, self.name, result.reason)
        except Exception:
            log.exception("%s of %s failed", self.name, persona_id)
            self.not_before[persona_id] = now + self.retry_seconds
        finally:
            self.busy.discard(persona_id)

    async def run_now(self, persona_id: str, write: Callable[[str], Awaitable[Written]]) -> Written:
        """Run ``write`` for one persona now (a button, the API), shown as busy while it runs."""
        if persona_id in self.busy:
            return Written(reason=f"a {self.name} is already being written for {persona_id}", outcome="busy")
        self.busy.add(persona_id)
        try:
            return await write(persona_id)
        finally:
            self.busy.discard(persona_id)
            self.last.pop(persona_id, None)  # re-read from SQL on the next tick

    async def wait(self) -> None:
        """Let running tasks finish (tests and simulations)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


class JournalKeeper:
    """Compiles journal sessions left open for 24 hours (checked once a minute)."""

    def __init__(self, compile_chat: Callable[[str, float], Awaitable[Written]]) -> None:
        self.compile_chat = compile_chat
        self.compiled = 0
        self._last_check = float("-inf")
        self._task: asyncio.Task | None = None

    async def stage(self, now: float) -> None:
        """Start compiling abandoned sessions, at most once a minute and one batch at a time."""
        if self._task is not None and not self._task.done():
            return
        if 0 <= now - self._last_check < CHECK_ABANDONED_SECONDS:
            return
        self._last_check = now
        chats = await asyncio.to_thread(abandoned_sessions, now)
        if chats:
            self._task = asyncio.create_task(self._compile(chats, now))

    async def _compile(self, chats: list[str], now: float) -> None:
        for chat_id in chats:
            try:
                result = await self.compile_chat(chat_id, now)
                self.compiled += bool(result.id)
                log.info("journal session %s compiled after 24 h: %s", chat_id, result.id or result.reason)
            except Exception:
                log.exception("compiling the abandoned journal of chat %s failed", chat_id)

    async def wait(self) -> None:
        """Let a running batch finish."""
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)


async def tick_loop(
    service: MindService,
    *,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    interval: float = TICK_SECONDS,
    ticks: int | None = None,
    stages: Sequence[TickStage] = (),
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
                for stage in stages:
                    await stage.stage(now)
            except Exception:  # a bad tick must not end the loop
                log.exception("tick failed")
            count += 1
            await sleep(interval)
        return count
