"""Prompt assembly: persona as system prompt, the user persona, memories, and history trimmed to fit."""

from __future__ import annotations

import dataclasses
import re
from typing import Literal

from azera.config import get_settings
from azera.llm.base import ChatBackend, ChatTurn

PER_MESSAGE_OVERHEAD = 4  # role markers and separators the chat template adds around each turn


COMPACT_BELOW_BYTES = 3_000_000_000  # model files under ~3 GB (≤ ~3 B parameters at 4 bits) get the compact prompt
COMPACT_SECTIONS = ("intent", "core identity", "prime directive")
COMPACT_MAX_CHARS = 900
Style = Literal["compact", "full"]


@dataclasses.dataclass
class PromptParts:
    """What goes into one model call."""

    persona_name: str
    persona_body: str
    user_name: str
    user_body: str
    history: list[ChatTurn]
    memories: str = ""
    mood: str = ""
    energy: float | None = None
    style: Style = "full"


class PromptTooLongError(ValueError):
    """Even the system prompt and the newest message do not fit in the model's context."""


def _sections(body: str) -> tuple[str, dict[str, list[str]]]:
    """The body's title (first ``#`` heading) and its ``##`` sections as items (bullets, wrapped lines joined)."""
    title, current, sections = "", "", {}
    joining = False
    for line in body.splitlines():
        text = line.strip()
        if line.startswith("# ") and not title:
            title = line[2:].strip()
        elif line.startswith("## "):
            current, joining = line[3:].strip().lower(), False
            sections[current] = []
        elif not current:
            continue
        elif not text:
            joining = False
        elif joining and not text.startswith(("- ", "* ")):
            sections[current][-1] += " " + text
        else:
            sections[current].append(text)
            joining = True
    return title, sections


def _plain(line: str) -> str:
    return re.sub(r"\*\*([^*]+)\*\*", r"\1", line).replace("`", "").strip()


def compact_persona(name: str, body: str) -> str:
    """The persona in a few lines for small models: who, what for, traits, voice and tone.

    Taken from the usual sections (Intent, Core Identity, Prime Directive); a body without them is cut short.
    """
    title, sections = _sections(body)
    lines = [f"You are {title or name}."]
    picked = [section for key in COMPACT_SECTIONS for section in sections.get(key, [])]
    if not picked:
        text = body.strip()
        return lines[0] + ("\n" + text[:COMPACT_MAX_CHARS] if text else "")
    for line in picked:
        text = _plain(line)
        if text.rstrip(":").endswith(("**", ":")) or len("\n".join(lines)) + len(text) > COMPACT_MAX_CHARS:
            continue  # an empty template field, or past the budget
        lines.append(text)
    return "\n".join(lines)


def character_rules(name: str, user_name: str) -> str:
    """How to stay in character: written for small models, which drift into an assistant's voice."""
    return (
        f"## How you talk\nYou are {name}, not an assistant and not a program: speak in the first person with "
        f"your own character, opinions and feelings, and never call yourself an AI, a language model or a computer. "
        f"You are talking with {user_name}. Reply naturally, in a few sentences unless asked for more, and answer "
        "what was actually said. Use a memory below only when it fits, and never invent shared memories."
    )


def _energy_word(energy: float) -> str:
    return "low" if energy < 0.35 else "high" if energy > 0.75 else "steady"


def system_prompt(parts: PromptParts) -> str:
    """The system message: the fixed part first (persona, user, rules), then what changes each turn.

    Memories and mood come last, so that llama.cpp reuses the evaluated persona text across turns.
    """
    if parts.style == "compact":
        persona = compact_persona(parts.persona_name, parts.persona_body)
    else:
        persona = parts.persona_body.strip() or f"You are {parts.persona_name}."
    sections = [persona]
    sections.append(f"## Who you are talking with\nThe user is {parts.user_name}.\n\n{parts.user_body.strip()}".strip())
    sections.append(character_rules(parts.persona_name, parts.user_name))
    if parts.memories.strip():
        sections.append(parts.memories.strip())
    if parts.mood:
        energy = f", energy {_energy_word(parts.energy)}" if parts.energy is not None else ""
        sections.append(f"## Right now\nYou feel {parts.mood}{energy}; let it colour your tone, lightly.")
    return "\n\n".join(sections)


_sizes: dict[tuple[int, str], int] = {}


async def prompt_style(backend: ChatBackend, model: str) -> Style:
    """``AZERA_PROMPT_STYLE``, or for ``auto`` compact when the model is small (file under ~3 GB), else full.

    The model's size is read once per backend and model; a model the backend does not list counts as large.
    """
    setting = get_settings().prompt_style
    if setting != "auto":
        return setting
    key = (id(backend), model)
    if key not in _sizes:
        sizes = {info.name: info.size_bytes for info in await backend.list_models()}
        _sizes[key] = sizes.get(model, 0) or COMPACT_BELOW_BYTES
    return "compact" if _sizes[key] < COMPACT_BELOW_BYTES else "full"


async def build_messages(
    parts: PromptParts, *, backend: ChatBackend, model: str, reply_tokens: int
) -> tuple[list[ChatTurn], int]:
    """Messages for the model, oldest turns dropped first until they fit; returns them and how many were dropped.

    The system prompt and the newest turn are never dropped.
    """
    system = system_prompt(parts)
    budget = await backend.context_window(model) - reply_tokens
    used = await backend.count_tokens(model, system) + PER_MESSAGE_OVERHEAD
    kept: list[ChatTurn] = []
    for turn in reversed(parts.history):
        cost = await backend.count_tokens(model, turn["content"]) + PER_MESSAGE_OVERHEAD
        if used + cost > budget:
            if not kept:
                raise PromptTooLongError(
                    f"The message needs about {cost} tokens but only {max(budget - used, 0)} are free in "
                    f"{model}'s context: shorten it"
                )
            break
        kept.append(turn)
        used += cost
    kept.reverse()
    return [ChatTurn(role="system", content=system), *kept], len(parts.history) - len(kept)
