"""Sampling settings: good defaults per model family, overridden by the persona, then by the chat.

Measured on the shipped models (issue 12): with llama.cpp's own defaults (no repeat penalty) SmolLM2-135M loops on
half of ordinary first messages; a mild penalty with min-p stops that, a strong one (≥ 1.2) turns loops into
rambling. Qwen2.5 uses its publisher's recommended settings.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

TUNABLE = ("temperature", "top_p", "top_k", "min_p", "repeat_penalty", "max_tokens")


class Sampling(BaseModel):
    """How the next token is drawn, and how long a reply may get."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    temperature: float = Field(default=0.7, ge=0.0, le=2.0)
    top_p: float = Field(default=0.95, gt=0.0, le=1.0)
    top_k: int = Field(default=40, ge=0, le=1000)
    min_p: float = Field(default=0.05, ge=0.0, le=1.0)
    repeat_penalty: float = Field(default=1.1, ge=1.0, le=2.0)
    max_tokens: int = Field(default=384, ge=1, le=8192)
    seed: int | None = Field(default=None, ge=0, le=2**31 - 1)

    def with_overrides(self, overrides: dict[str, Any] | None) -> Sampling:
        """These settings with some replaced (``None`` values and unknown keys are ignored)."""
        changes = {key: value for key, value in (overrides or {}).items() if key in TUNABLE and value is not None}
        return Sampling.model_validate({**self.model_dump(), **changes}) if changes else self


def bounds(key: str) -> tuple[float, float]:
    """The lowest and highest value a tunable setting accepts (from the model's own constraints)."""
    low, high = 0.0, float("inf")
    for rule in Sampling.model_fields[key].metadata:  # one Ge, Gt or Le object per constraint
        low = getattr(rule, "ge", getattr(rule, "gt", low))
        high = getattr(rule, "le", high)
    return low, high


FAMILY_DEFAULTS: dict[str, Sampling] = {
    "qwen": Sampling(temperature=0.7, top_p=0.8, top_k=20, min_p=0.05, repeat_penalty=1.05),
    "smollm": Sampling(temperature=0.6, top_p=0.95, top_k=40, min_p=0.1, repeat_penalty=1.1),
}
GENERIC = Sampling()


def family_defaults(model: str) -> Sampling:
    """The defaults for ``model``'s family, known from its name (``qwen2.5-…``, ``smollm2-…``, ``qwen2.5:1.5b``)."""
    name = model.lower().rsplit("/", 1)[-1]
    for family, sampling in FAMILY_DEFAULTS.items():
        if name.startswith(family):
            return sampling
    return GENERIC


def clean_overrides(raw: Any) -> dict[str, Any]:
    """Validated overrides: only tunable keys, each within its range (raises ValueError with the reason)."""
    if raw in (None, ""):
        return {}
    if not isinstance(raw, dict):
        raise ValueError(f"must be a mapping of {', '.join(TUNABLE)}")
    unknown = sorted(set(raw) - set(TUNABLE))
    if unknown:
        raise ValueError(f"unknown setting {unknown[0]!r} (use {', '.join(TUNABLE)})")
    kept = {key: value for key, value in raw.items() if value is not None}
    try:
        checked = Sampling.model_validate({**GENERIC.model_dump(), **kept})
    except ValidationError as error:
        first = error.errors()[0]
        raise ValueError(f"{first['loc'][0]} {first['msg'].lower()}") from error
    return {key: getattr(checked, key) for key in kept}


def resolve(model: str, *layers: dict[str, Any] | None) -> Sampling:
    """The family's defaults for ``model`` with each layer of overrides applied in order."""
    sampling = family_defaults(model)
    for layer in layers:
        sampling = sampling.with_overrides(layer)
    return sampling
