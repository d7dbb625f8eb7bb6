"""Inner life rules with a fake clock, mood inference on messy answers, the tick loop, persistence."""

import asyncio
import dataclasses

import pytest

from azera.mind import loop as mind_loop
from azera.mind.mood import infer_mood, label_from_text
from azera.mind.service import MindService
from azera.mind.state import (
    DEFAULT_ENERGY,
    IDLE_AFTER_SECONDS,
    MIN_FOCUS,
    MOODS,
    MentalState,
    after_exchange,
    idle_drift,
    nearest_mood,
)
from azera.runtime import mind_lifespan, runtime
from tests.scripted import ScriptedBackend

HOUR = 3600.0


def test_each_exchange_costs_energy_and_sharpens_focus() -> None:
    state = MentalState("azera", updated=0.0)
    for n in range(10):
        state = after_exchange(state, "excited", now=100.0 + n)
    assert state.energy == pytest.approx(DEFAULT_ENERGY - 0.3)
    assert state.focus == 1.0 and state.mood == "excited"
    assert state.valence > MOODS["calm"][0]


def test_idle_drift_recovers_energy_calms_mood_and_decays_focus() -> None:
    tired = after_exchange(MentalState("azera", energy=0.2, focus=0.9, updated=0.0), "excited", now=0.0)
    just_after = idle_drift(tired, IDLE_AFTER_SECONDS - 1)
    assert just_after == tired  # nothing drifts while the conversation may still be going
    later = idle_drift(tired, IDLE_AFTER_SECONDS + HOUR)
    assert later.energy == pytest.approx(tired.energy + 0.3, abs=1e-3)
    assert abs(later.valence - 0.62) < abs(tired.valence - 0.62)
    assert later.focus == pytest.approx(tired.focus - 0.2, abs=1e-3)
    much_later = idle_drift(later, IDLE_AFTER_SECONDS + 24 * HOUR)
    assert much_later.energy == 1.0 and much_later.focus == MIN_FOCUS
    assert much_later.mood in ("calm", "thoughtful")


def test_drift_is_the_same_in_one_step_or_many_and_ignores_clock_jumps_back() -> None:
    start = MentalState("azera", energy=0.1, valence=0.9, arousal=0.9, updated=0.0)
    stepped = start
    for second in range(int(2 * HOUR) + 1):  # one step per tick, as the loop runs
        stepped = idle_drift(stepped, float(second))
    once = idle_drift(start, 2 * HOUR)
    assert stepped.energy == pytest.approx(once.energy, abs=1e-3)
    assert stepped.valence == pytest.approx(once.valence, abs=1e-3)
    assert stepped.focus == pytest.approx(once.focus, abs=1e-3)
    assert idle_drift(once, HOUR) == once  # the clock went backwards: nothing changes


@pytest.mark.parametrize(
    ("answer", "label"),
    [
        ("Curious", "curious"),
        ("  The mood is: HAPPY!!", "happy"),
        ("I'd say worried, maybe", "concerned"),
        ("pensive.", "thoughtful"),
        ("", None),
        ("42 banana ###", None),
        ("<think>hmm</think> sad", "melancholy"),
    ],
)
def test_mood_labels_from_messy_answers(answer: str, label: str | None) -> None:
    assert label_from_text(answer) == label


async def test_mood_inference_is_a_short_cold_call_and_never_crashes() -> None:
    backend = ScriptedBackend("Excited about it")
    assert await infer_mood(backend, "m", "Wow, that is amazing news!") == "excited"
    assert backend.calls == [{"temperature": 0.1, "max_tokens": 10}]
    assert await infer_mood(ScriptedBackend("lorem ipsum"), "m", "text") is None
    assert await infer_mood(ScriptedBackend(fail=True), "m", "text") is None
    assert await infer_mood(backend, "m", "   ") is None


def test_nearest_mood_maps_every_label_to_itself() -> None:
    assert all(nearest_mood(*point) == label for label, point in MOODS.items())


def test_state_survives_a_restart(prepared) -> None:
    clock = [1000.0]
    first = MindService(clock=lambda: clock[0])
    first.record_exchange("azera", "curious")
    second = MindService(clock=lambda: clock[0])
    resumed = second.get("azera")
    assert resumed.mood == "curious" and resumed.energy == pytest.approx(DEFAULT_ENERGY - 0.03)


async def test_tick_loop_drifts_persists_and_runs_only_once(prepared) -> None:
    clock = [0.0]
    service = MindService(clock=lambda: clock[0])
    service.get("azera")
    service._states["azera"] = dataclasses.replace(service.get("azera"), energy=0.1)

    async def fast_sleep(seconds: float) -> None:
        clock[0] += 60 * seconds  # one tick = one simulated minute
        await asyncio.sleep(0)

    first = asyncio.create_task(mind_loop.tick_loop(service, clock=lambda: clock[0], sleep=fast_sleep, ticks=600))
    await asyncio.sleep(0)
    assert await mind_loop.tick_loop(service, clock=lambda: clock[0], sleep=fast_sleep, ticks=5) == 0  # refused
    assert await first == 600
    assert service.get("azera").energy > 0.9  # ten simulated hours of rest
    reloaded = MindService().get("azera")
    assert reloaded.energy > 0.9  # persisted to SQL along the way


async def test_lifespan_task_is_cancelled_cleanly(prepared) -> None:
    task = asyncio.create_task(mind_lifespan())
    await asyncio.sleep(0.3)
    assert not task.done()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not mind_loop._running.locked()


async def test_a_reply_moves_the_personas_mood_and_energy(prepared) -> None:
    from azera.conversation.replies import generate_reply
    from azera.db.engine import session_scope
    from azera.llm.ollama_backend import OllamaBackend
    from azera.services import chats
    from tests.ollama_server import ollama_server

    with ollama_server() as (url, _):
        with session_scope() as session:
            chat = chats.create_chat(session, ai_persona_id="areza")
            chats.set_chat_model(session, chat.id, model="llama3.2:1b", temperature=None)
        events = [e async for e in generate_reply(chat.id, text="I feel happy today", backend=OllamaBackend(url))]
    assert next(e for e in events if e.kind == "done").status == "complete"
    state = runtime().mind.get("areza")
    assert state.energy == pytest.approx(DEFAULT_ENERGY - 0.03)
    # The server's 10-token echo of the classification prompt names no mood: the mood stays as it was.
    assert state.mood == "calm"
