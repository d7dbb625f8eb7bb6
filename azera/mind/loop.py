"""The 1 Hz tick loop, run as one Reflex lifespan task per app.

Stages each tick: perception (idle drift of energy, mood and focus for every AI persona),
emotion (the mood label follows valence/arousal), dream (a tired or long-idle persona, outside
its one-hour cooldown, writes a dream in the background) and reflection (the daily journal entry
at the configured hour, and journal-mode sessions left open for 24 hours compiled).
The clock and the sleep are injectable so tests and simulations run hours in milliseconds.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Protocol

from azera.config import get_settings
from azera.db.engine import in_db
from azera.db.models import Persona
from azera.llm.registry import default_model, get_backend
from azera.memory.registry import build_working_memory, try_memory_service
from azera.mind.dreams import last_dream_time, should_dream, write_dream
from azera.mind.journal import abandoned_sessions, compile_journal, last_daily_time, should_reflect, write_reflection
from azera.mind.service import MindService
from azera.mind.state import MentalState
from azera.mind.writing import Written
from azera.services.chats import get_chat
from azera.services.personas import get_persona

log = logging.getLogger(__name__)
TICK_SECONDS = 1.0
RETRY_AFTER_FAILURE = 600
CHECK_ABANDONED_SECONDS = 60
_running = asyncio.Lock()


class TickStage(Protocol):
    """A stage the loop calls every tick; ``wait`` lets its background work finish."""

    async def stage(self, now: float) -> None: ...  # noqa: D102

    async def wait(self) -> None: ...  # noqa: D102


@functools.cache
def get_mind_service() -> MindService:
    """The process-wide mind service."""
    return MindService(working=build_working_memory())


async def _persona_and_model(persona_id: str) -> tuple[Persona, str]:
    persona = await in_db(lambda session: get_persona(session, persona_id))
    return persona, persona.model or default_model()


def _moment(now: float | None) -> datetime | None:
    return None if now is None else datetime.fromtimestamp(now, UTC)


async def dream_now(persona_id: str, now: float | None = None) -> Written:
    """Write one dream for a persona now, with its own model (the CLI, the page and the loop)."""
    persona, model = await _persona_and_model(persona_id)
    return await write_dream(
        persona_id=persona.id,
        persona_name=persona.name,
        backend=get_backend(),
        model=model,
        memory=await asyncio.to_thread(try_memory_service),
        created_at=_moment(now),
    )


async def reflect_now(persona_id: str, now: float | None = None, source: str = "manual") -> Written:
    """Write one journal reflection for a persona now (the Journal page, the API, the CLI and the loop)."""
    persona, model = await _persona_and_model(persona_id)
    if not persona.memory_enabled:
        return Written(reason=f"{persona.name} has memory switched off: it keeps no journal", outcome="off")
    return await write_reflection(
        persona_id=persona.id,
        persona_name=persona.name,
        backend=get_backend(),
        model=model,
        memory=await asyncio.to_thread(try_memory_service),
        source=source,
        now=now,
        fallback_mood=get_mind_service().get(persona.id).mood,
    )


async def compile_journal_now(chat_id: str, now: float | None = None) -> Written:
    """Compile a chat's journal-mode drafts into an article, with its persona's model."""
    persona_id = await in_db(lambda session: get_chat(session, chat_id).ai_persona_id)
    _persona, model = await _persona_and_model(persona_id)
    return await compile_journal(
        chat_id,
        backend=get_backend(),
        model=model,
        memory=await asyncio.to_thread(try_memory_service),
        created_at=_moment(now),
    )


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

    def __init__(self, compile_chat: Callable[[str, float], Awaitable[Written]] = compile_journal_now) -> None:
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


@functools.cache
def get_dreamer() -> Stage:
    """The process-wide dream stage (the Dreams page shows who is dreaming from it)."""
    return Stage("dream", get_mind_service(), due=should_dream, write=dream_now, last_time=last_dream_time)


@functools.cache
def get_reflector() -> Stage:
    """The process-wide daily reflection stage (the Journal page shows who is reflecting from it)."""
    hour = get_settings().journal_hour

    def due(_state: MentalState, now: float, last: float) -> bool:
        return should_reflect(now, hour, last)

    async def daily(persona_id: str, now: float) -> Written:
        return await reflect_now(persona_id, now=now, source="daily")

    return Stage("reflection", get_mind_service(), due=due, write=daily, last_time=last_daily_time)


@functools.cache
def get_journal_keeper() -> JournalKeeper:
    """The process-wide compiler of abandoned journal sessions."""
    return JournalKeeper()


def default_stages() -> list[TickStage]:
    """Dream, reflection and abandoned-journal stages, in that order."""
    return [get_dreamer(), get_reflector(), get_journal_keeper()]


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


async def mind_lifespan() -> None:
    """The app's lifespan task: load every persona's state, then tick once a second until shutdown."""
    service = get_mind_service()
    await asyncio.to_thread(service.load_all)
    log.info("tick loop started (1 Hz)")
    try:
        await tick_loop(service, stages=default_stages())
    finally:
        log.info("tick loop stopped")
