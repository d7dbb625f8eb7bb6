"""Dreams: when they happen, what they are made of, that garbage is never saved, that they are recalled."""

import asyncio
from datetime import timedelta

import pytest
from sqlmodel import select

from azera.db.engine import session_scope
from azera.db.models import Dream, Memory, utcnow
from azera.memory.service import MemoryService
from azera.mind.dreams import COOLDOWN_SECONDS, IDLE_SECONDS, last_dream_time, should_dream, write_dream
from azera.mind.loop import Stage
from azera.mind.service import MindService
from azera.mind.state import MentalState
from azera.mind.writing import Written
from tests.real_model import write_with_real_model
from tests.scripted import ScriptedBackend

NOW = 1_000_000.0


def test_tired_or_long_idle_personas_dream_with_a_cooldown() -> None:
    rested = MentalState("azera", energy=0.7, last_interaction=NOW - 60)
    assert not should_dream(rested, NOW, last_dream=0)
    assert should_dream(MentalState("azera", energy=0.2, last_interaction=NOW - 60), NOW, last_dream=0)
    idle = MentalState("azera", energy=0.7, last_interaction=NOW - IDLE_SECONDS)
    assert should_dream(idle, NOW, last_dream=0)
    assert not should_dream(idle, NOW, last_dream=NOW - COOLDOWN_SECONDS + 5)  # cooldown
    assert not should_dream(MentalState("azera", energy=0.7, last_interaction=0), NOW, last_dream=0)  # never talked


def _remember(persona: str, text: str) -> None:
    with session_scope() as session:
        MemoryService.record(
            session, text=text, persona_id=persona, kind="conversation", created_at=utcnow() - timedelta(hours=3)
        )


DREAM = "I walked through a lighthouse made of glass while Miso the cat read me the ferry schedule aloud."


async def test_a_dream_recombines_only_the_personas_own_memories(prepared) -> None:
    _remember("azera", "My cat Miso sleeps on the lighthouse map.")
    _remember("areza", "The dragon's password is bluebird.")
    backend = ScriptedBackend(DREAM)
    result = await write_dream(persona_id="azera", persona_name="Azera", backend=backend, model="m", memory=None)
    assert result.id
    assert "Miso sleeps on the lighthouse map" in backend.prompts[0] and "bluebird" not in backend.prompts[0]
    with session_scope() as session:
        dream = session.get(Dream, result.id)
        assert dream.content.startswith("I walked through a lighthouse") and dream.themes
        assert session.exec(select(Memory).where(Memory.kind == "dream")).one().persona_id == "azera"


@pytest.mark.parametrize(("answer", "fail"), [("", False), ("??? !!! ...", False), ("zzz", False), (DREAM, True)])
async def test_empty_garbled_or_failed_dreams_are_not_saved(prepared, answer: str, fail: bool) -> None:
    _remember("azera", "Something happened today.")
    result = await write_dream(
        persona_id="azera", persona_name="Azera", backend=ScriptedBackend(answer, fail), model="m", memory=None
    )
    assert not result.id and result.reason
    with session_scope() as session:
        assert session.exec(select(Dream)).all() == []


async def test_a_dream_that_copies_its_memories_is_not_saved(prepared) -> None:
    """Echoing the prompt is what the old default did; an echo is retried later, never stored as a dream."""
    memory = "Good evening! I spent the afternoon repairing my grandmother's old sailing boat."
    _remember("azera", memory)
    echo = memory + " The hull had a crack near the keel, so I sanded it."
    result = await write_dream(
        persona_id="azera", persona_name="Azera", backend=ScriptedBackend(echo), model="m", memory=None
    )
    assert not result.id and result.reason == "the model copied its memories instead of dreaming"
    with session_scope() as session:
        assert session.exec(select(Dream)).all() == []


async def test_no_memories_no_dream(prepared) -> None:
    result = await write_dream(
        persona_id="azera", persona_name="Azera", backend=ScriptedBackend(DREAM), model="m", memory=None
    )
    assert result.reason == "no memories to dream about yet"


async def test_the_dream_stage_starts_one_dream_at_a_time_and_retries_later(prepared) -> None:
    service = MindService(clock=lambda: NOW)
    service.get("azera")
    service._states["azera"] = MentalState("azera", energy=0.1, last_interaction=NOW - 10, updated=NOW)
    started: list[str] = []
    release = asyncio.Event()

    async def write(persona_id: str, _now: float) -> Written:
        started.append(persona_id)
        await release.wait()
        return Written(reason="nothing usable")

    dreamer = Stage("dream", service, due=should_dream, write=write, last_time=last_dream_time)
    await dreamer.stage(NOW)
    await dreamer.stage(NOW + 1)  # still dreaming: not started twice
    await asyncio.sleep(0)
    assert started == ["azera"] and dreamer.busy == {"azera"}
    release.set()
    await dreamer.wait()
    assert dreamer.busy == set()
    await dreamer.stage(NOW + 60)
    assert started == ["azera"]  # a failed dream is retried after ten minutes, not every tick
    await dreamer.stage(NOW + 601)
    await dreamer.wait()
    assert started == ["azera", "azera"]


async def test_a_real_dream_is_written_and_recalled_later(prepared, monkeypatch: pytest.MonkeyPatch) -> None:
    _remember("azera", "We talked about the old lighthouse on the cliff and the storm last winter.")
    result, memory = await write_with_real_model(write_dream, monkeypatch)
    assert result.id, result
    with session_scope() as session:
        content = session.get(Dream, result.id).content
    recalled = memory.retrieve(content[:120], persona_id="azera", chat_id="later-chat")
    assert any(memory.kind == "dream" for memory in recalled)
