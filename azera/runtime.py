"""The process's services, built once: chat backend, working memory, memory service, mind, tick-loop stages.

The reply pipeline, the tick loop, the Reflex states, the API and the CLI all reach them through
``runtime()``; tests and benchmarks build their own (``set_runtime(Runtime(backend=fake))``). The
settings (``get_settings``) and the database engine (one per URL) live below, in their own layers.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from datetime import UTC, datetime

from azera.config import Settings, get_settings
from azera.db.engine import in_db
from azera.db.models import Persona
from azera.llm.base import ChatBackend
from azera.llm.registry import build_backend, default_model
from azera.memory.pending import PendingIndexer
from azera.memory.registry import build_memory_service, build_working_memory
from azera.memory.service import MemoryService
from azera.memory.working import WorkingMemory
from azera.mind.dreams import last_dream_time, should_dream, write_dream
from azera.mind.journal import last_daily_time, should_reflect, write_reflection
from azera.mind.journal_mode import compile_journal
from azera.mind.loop import JournalKeeper, Stage, TickStage, tick_loop
from azera.mind.service import MindService
from azera.mind.state import MentalState
from azera.mind.writing import Written
from azera.services.backup_stage import BackupStage
from azera.services.chats import get_chat
from azera.services.personas import get_persona

log = logging.getLogger(__name__)


def _moment(now: float | None) -> datetime | None:
    return None if now is None else datetime.fromtimestamp(now, UTC)


class Runtime:
    """One of each service, wired together."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        backend: ChatBackend | None = None,
        memory: MemoryService | None = None,
        working: WorkingMemory | None = None,
    ) -> None:
        self.settings = settings or get_settings()
        self.backend: ChatBackend = backend or build_backend(self.settings)
        self.working = working or build_working_memory(self.settings)
        self.mind = MindService(working=self.working)
        self._memory, self._memory_built = memory, memory is not None
        self._memory_lock = threading.Lock()
        self.dreamer = Stage("dream", self.mind, due=should_dream, write=self.dream_now, last_time=last_dream_time)
        self.reflector = Stage(
            "reflection", self.mind, due=self._reflection_due, write=self._daily, last_time=last_daily_time
        )
        self.journal_keeper = JournalKeeper(self.compile_journal_now)
        self.indexer = PendingIndexer(self.memory)
        self.backups = BackupStage()

    # ---- memory ---------------------------------------------------------------------------------
    def memory(self) -> MemoryService | None:
        """The memory service, built on first use, once, even when threads ask together.

        None when a layer cannot start (logged): chat goes on without recall. Blocking (it opens files): call
        it from a thread.
        """
        with self._memory_lock:
            if not self._memory_built:
                self._memory_built = True
                try:
                    self._memory = build_memory_service(self.settings)
                except Exception as error:
                    log.warning("memory is unavailable, replies go on without recall: %s", error)
            return self._memory

    # ---- what the mind writes, with each persona's own model --------------------------------------
    async def _persona_and_model(self, persona_id: str) -> tuple[Persona, str]:
        persona = await in_db(lambda session: get_persona(session, persona_id))
        return persona, persona.model or default_model()

    async def _writer(self, persona: Persona, model: str) -> dict:
        """What every writing of the mind is given: who writes, with which model, and the memory."""
        memory = await asyncio.to_thread(self.memory)
        return {
            "persona_id": persona.id,
            "persona_name": persona.name,
            "backend": self.backend,
            "model": model,
            "memory": memory,
        }

    async def dream_now(self, persona_id: str, now: float | None = None) -> Written:
        """Write one dream for a persona now (the CLI, the Dreams page and the tick loop)."""
        persona, model = await self._persona_and_model(persona_id)
        return await write_dream(**await self._writer(persona, model), created_at=_moment(now))

    async def reflect_now(self, persona_id: str, now: float | None = None, source: str = "manual") -> Written:
        """Write one journal reflection for a persona now (the Journal page, the API, the CLI and the loop)."""
        persona, model = await self._persona_and_model(persona_id)
        if not persona.memory_enabled:
            return Written(reason=f"{persona.name} has memory switched off: it keeps no journal", outcome="off")
        fallback_mood = (await asyncio.to_thread(self.mind.get, persona.id)).mood
        writer = await self._writer(persona, model)
        return await write_reflection(**writer, source=source, now=now, fallback_mood=fallback_mood)

    async def compile_journal_now(self, chat_id: str, now: float | None = None) -> Written:
        """Compile a chat's journal-mode drafts into an article, with its persona's model."""
        persona_id = await in_db(lambda session: get_chat(session, chat_id).ai_persona_id)
        _persona, model = await self._persona_and_model(persona_id)
        return await compile_journal(
            chat_id,
            backend=self.backend,
            model=model,
            memory=await asyncio.to_thread(self.memory),
            created_at=_moment(now),
        )

    def _reflection_due(self, _state: MentalState, now: float, last: float) -> bool:
        return should_reflect(now, self.settings.journal_hour, last)

    async def _daily(self, persona_id: str, now: float) -> Written:
        return await self.reflect_now(persona_id, now=now, source="daily")

    # ---- the tick loop ----------------------------------------------------------------------------
    def stages(self) -> list[TickStage]:
        """Dream, reflection, abandoned-journal, waiting-memory and backup stages, in that order."""
        return [self.dreamer, self.reflector, self.journal_keeper, self.indexer, self.backups]

    async def run_tick_loop(self) -> None:
        """Load every persona's state, then tick once a second until cancelled (the app's lifespan task)."""
        await asyncio.to_thread(self.mind.load_all)
        log.info("tick loop started (1 Hz)")
        try:
            await tick_loop(self.mind, stages=self.stages())
        finally:
            log.info("tick loop stopped")


_current: Runtime | None = None
_lock = threading.Lock()


def runtime() -> Runtime:
    """The runtime of this process, built from the settings on first use."""
    global _current
    with _lock:
        if _current is None:
            _current = Runtime()
        return _current


def set_runtime(value: Runtime | None) -> None:
    """Use ``value`` from now on (tests, benchmarks); None builds a fresh one from the settings on next use."""
    global _current
    with _lock:
        _current = value


async def mind_lifespan() -> None:
    """The app's lifespan task: the runtime's tick loop."""
    await runtime().run_tick_loop()
