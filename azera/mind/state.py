"""A persona's mental state and the rules that move it (pure functions, injectable time)."""

from __future__ import annotations

import dataclasses
import math

# Mood labels with (valence, arousal). Valences are the seed's; arousal is ours.
MOODS: dict[str, tuple[float, float]] = {
    "happy": (0.85, 0.65),
    "excited": (0.9, 0.9),
    "content": (0.7, 0.35),
    "calm": (0.65, 0.15),
    "curious": (0.75, 0.6),
    "thoughtful": (0.6, 0.3),
    "melancholy": (0.3, 0.2),
    "concerned": (0.4, 0.6),
}
NEUTRAL = (0.62, 0.3)  # where mood drifts when nobody talks (between calm and thoughtful)
DEFAULT_ENERGY, DEFAULT_FOCUS = 0.7, 0.8
ENERGY_PER_EXCHANGE = 0.03
FOCUS_PER_EXCHANGE = 0.02
IDLE_AFTER_SECONDS = 120  # drift only starts once the persona has been left alone this long
ENERGY_RECOVERY_PER_HOUR = 0.3
FOCUS_DECAY_PER_HOUR = 0.2
MIN_FOCUS = 0.3
MOOD_HALF_LIFE_HOURS = 1.0


@dataclasses.dataclass
class MentalState:
    """Mood (valence, arousal and its nearest label), energy and focus, 0..1 each."""

    persona_id: str
    mood: str = "calm"
    valence: float = MOODS["calm"][0]
    arousal: float = MOODS["calm"][1]
    energy: float = DEFAULT_ENERGY
    focus: float = DEFAULT_FOCUS
    last_interaction: float = 0.0  # epoch seconds
    updated: float = 0.0


def _clamp(value: float) -> float:
    return min(1.0, max(0.0, value))


def nearest_mood(valence: float, arousal: float) -> str:
    """The label closest to a point in valence/arousal space."""
    return min(MOODS, key=lambda label: math.dist(MOODS[label], (valence, arousal)))


def after_exchange(state: MentalState, mood: str | None, now: float) -> MentalState:
    """One reply written: energy −0.03, focus up, mood moves halfway to the inferred label (if any)."""
    valence, arousal = state.valence, state.arousal
    if mood in MOODS:
        target = MOODS[mood]
        valence, arousal = (valence + target[0]) / 2, (arousal + target[1]) / 2
    return dataclasses.replace(
        state,
        mood=mood if mood in MOODS else nearest_mood(valence, arousal),
        valence=round(valence, 4),
        arousal=round(arousal, 4),
        energy=round(_clamp(state.energy - ENERGY_PER_EXCHANGE), 4),
        focus=round(_clamp(state.focus + FOCUS_PER_EXCHANGE), 4),
        last_interaction=now,
        updated=now,
    )


def idle_drift(state: MentalState, now: float) -> MentalState:
    """Time passing with nobody talking: energy recovers, mood drifts to neutral, focus decays.

    Only the time since ``max(updated, last_interaction + IDLE_AFTER_SECONDS)`` counts, so calling
    this every second or once after an hour gives the same result (no rounding here: a second's drift is
    smaller than four decimals); a clock that jumps back changes nothing.
    """
    start = max(state.updated, state.last_interaction + IDLE_AFTER_SECONDS)
    if now <= start:
        return state
    hours = (now - start) / 3600
    keep = 0.5 ** (hours / MOOD_HALF_LIFE_HOURS)
    valence = NEUTRAL[0] + (state.valence - NEUTRAL[0]) * keep
    arousal = NEUTRAL[1] + (state.arousal - NEUTRAL[1]) * keep
    focus = state.focus if state.focus <= MIN_FOCUS else max(MIN_FOCUS, state.focus - FOCUS_DECAY_PER_HOUR * hours)
    return dataclasses.replace(
        state,
        valence=valence,
        arousal=arousal,
        mood=nearest_mood(valence, arousal),
        energy=_clamp(state.energy + ENERGY_RECOVERY_PER_HOUR * hours),
        focus=focus,
        updated=now,
    )
