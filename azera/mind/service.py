"""Mental states of the AI personas: kept in memory, mirrored to working memory, persisted to SQL."""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time

from sqlmodel import select

from azera.db.engine import session_scope
from azera.db.models import MentalStateRow, Persona
from azera.errors import ServiceError
from azera.memory.working import SESSION_TTL, LocalTTLStore, WorkingMemory
from azera.mind.state import MOODS, MentalState, after_exchange, idle_drift

log = logging.getLogger(__name__)
PERSIST_EVERY_SECONDS = 60


class MindService:
    """Reads and moves mental states; the tick loop calls ``tick`` once a second."""

    def __init__(self, working: WorkingMemory | None = None, clock=time.time) -> None:
        self.working = working or LocalTTLStore()
        self.clock = clock
        self._states: dict[str, MentalState] = {}
        self._lock = threading.Lock()
        self._last_persist = 0.0

    def _load(self, persona_id: str) -> MentalState:
        with session_scope() as session:
            row = session.get(MentalStateRow, persona_id)
        if row is None:
            return MentalState(persona_id=persona_id, updated=self.clock())
        fields = {f.name for f in dataclasses.fields(MentalState)}
        return MentalState(**{k: v for k, v in row.model_dump().items() if k in fields})

    def get(self, persona_id: str) -> MentalState:
        """The persona's current state (loaded from SQL the first time)."""
        with self._lock:
            if persona_id not in self._states:
                self._states[persona_id] = self._load(persona_id)
            return self._states[persona_id]

    def _store(self, states: list[MentalState]) -> None:
        with session_scope() as session:
            for state in states:
                if session.get(Persona, state.persona_id) is None:
                    continue
                row = session.get(MentalStateRow, state.persona_id) or MentalStateRow(persona_id=state.persona_id)
                for key, value in dataclasses.asdict(state).items():
                    setattr(row, key, value)
                session.add(row)

    def _mirror(self, state: MentalState) -> None:
        self.working.set(f"mind:{state.persona_id}", json.dumps(dataclasses.asdict(state)).encode(), SESSION_TTL)

    def record_exchange(self, persona_id: str, mood: str | None) -> MentalState:
        """A reply was written: apply the exchange rules and persist at once (blocking: call from a thread)."""
        state = after_exchange(self.get(persona_id), mood, self.clock())
        with self._lock:
            self._states[persona_id] = state
        self._mirror(state)
        self._store([state])
        return state

    def set_mood(self, persona_id: str, mood: str) -> MentalState:
        """Put a persona in a mood (the API's POST /api/status/mood); persisted at once (blocking)."""
        if mood not in MOODS:
            raise ServiceError(f"Unknown mood '{mood}' (one of {', '.join(MOODS)})")
        valence, arousal = MOODS[mood]
        state = dataclasses.replace(
            self.get(persona_id), mood=mood, valence=valence, arousal=arousal, updated=self.clock()
        )
        with self._lock:
            self._states[persona_id] = state
        self._mirror(state)
        self._store([state])
        return state

    def tick(self, now: float | None = None) -> bool:
        """Idle drift for every known persona, in memory only; True when it is time to ``persist``."""
        now = self.clock() if now is None else now
        with self._lock:
            for persona_id, state in self._states.items():
                self._states[persona_id] = idle_drift(state, now)
        due = now - self._last_persist >= PERSIST_EVERY_SECONDS or now < self._last_persist
        if due:
            self._last_persist = now
        return due

    def persist(self) -> None:
        """Write every state to SQL and working memory (blocking: call from a thread)."""
        with self._lock:
            states = list(self._states.values())
        for state in states:
            self._mirror(state)
        self._store(states)

    def states(self) -> list[MentalState]:
        """Every loaded state."""
        with self._lock:
            return list(self._states.values())

    def reload(self) -> None:
        """Forget the states held in memory and read them from SQL again (after a restore)."""
        with self._lock:
            self._states.clear()
        self.load_all()

    def load_all(self) -> None:
        """Bring every AI persona's state into memory (at start-up)."""
        with session_scope() as session:
            ids = list(session.exec(select(Persona.id).where(Persona.kind == "ai", Persona.deleted_at.is_(None))))  # type: ignore[union-attr]
        for persona_id in ids:
            self.get(persona_id)
