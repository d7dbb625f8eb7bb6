"""Prompt assembly: persona as system prompt, the user persona, memories, and history trimmed to fit."""

from __future__ import annotations

import dataclasses
import re
from typing import Literal

from azera.config import get_settings
from azera.llm.base import ChatBackend, ChatTurn

PER_MESSAGE_OVERHEAD = 4  # role markers and separators the chat template adds around each turn
REMINDER_TOKENS = 24  # the turn reminder of the compact style (about 20 tokens)


COMPACT_BELOW_BYTES = 3_000_000_000  # model files under ~3 GB (≤ ~3 B parameters at 4 bits) get the compact prompt
TINY_BELOW_BYTES = 500_000_000  # under ~0.5 GB (SmolLM2-135M): no rules paragraph or reminder, it recites them
COMPACT_SECTIONS = ("intent", "core identity", "prime directive")
COMPACT_MAX_CHARS = 700
COMPACT_LABELS = {"archetype", "voice", "dynamic", "tone", "constraint"}
Style = Literal["tiny", "compact", "full"]


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
    client_system: str = ""  # an API client's own system message (``/v1``), added after the persona's
    abilities: str = ""  # what the persona can do besides talking (drawing, when an image backend is set)


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


def _label(item: str) -> str:
    match = re.match(r"[-*]\s+\*\*([^*:]+):?\*\*", item)
    return match.group(1).strip().lower() if match else ""


def compact_persona(name: str, body: str) -> str:
    """The persona in a few lines for small models: who, what for, traits, voice and tone (~120 tokens).

    Taken from the usual sections: the Intent paragraph and the Archetype, Voice, Dynamic, Tone and Constraint
    bullets. A body without them is cut short.
    """
    title, sections = _sections(body)
    lines = [f"You are {title or name}."]
    picked = sections.get("intent", [])[:1]
    picked += [item for key in COMPACT_SECTIONS[1:] for item in sections.get(key, []) if _label(item) in COMPACT_LABELS]
    if not picked:
        text = body.strip()
        return lines[0] + ("\n" + text[:COMPACT_MAX_CHARS] if text else "")
    for item in picked:
        text = _plain(item)
        if text.rstrip().endswith(":") or len("\n".join(lines)) + len(text) > COMPACT_MAX_CHARS:
            continue  # an empty template field, or past the budget
        lines.append(text)
    return "\n".join(lines)


def compact_user(body: str) -> str:
    """The user persona's bullet points only (its prose is usually instructions to the person editing it)."""
    items = [_plain(line) for line in body.splitlines() if line.strip().startswith(("- ", "* "))]
    return "\n".join(item for item in items if not item.rstrip().endswith(":"))


def character_rules(name: str, user_name: str) -> str:
    """How to stay in character: written for small models, which drift into an assistant's voice and lists."""
    return (
        f"You are {name}, with your own tastes, opinions and feelings: when asked what you would pick or how you "
        f"feel, answer as {name}. Never call yourself an AI, an assistant, a model or a program. Talk with "
        f"{user_name} like a friend texting back: answer what was said in two to five sentences, under 100 words, "
        "no numbered lists or headings unless asked. Use a memory below only when it fits; never invent "
        "shared memories."
    )


def turn_reminder(name: str) -> str:
    """A line after the newest message, for small models only (it is sent, never stored or shown).

    Small models follow the last thing they read: measured with Qwen2.5-Coder-1.5B on 9 hard prompts, this
    line took persona breaks ("As an AI language model…") from 1 to 0, mean reply length from 82 to 38 words,
    and turned "I am learning the cello" (the user's fact in the persona's mouth) into "You are learning…".
    """
    return f"(Reply as {name}, in character: brief and warm; lists only if asked.)"


def _energy_word(energy: float) -> str:
    return "low" if energy < 0.35 else "high" if energy > 0.75 else "steady"


def system_prompt(parts: PromptParts) -> str:
    """The system message: the fixed part first (persona, user, rules), then what changes each turn.

    Memories and mood come last, so that llama.cpp reuses the evaluated persona text across turns.
    """
    small = parts.style in ("tiny", "compact")
    if small:
        persona = compact_persona(parts.persona_name, parts.persona_body)
    else:
        persona = parts.persona_body.strip() or f"You are {parts.persona_name}."
    user_body = compact_user(parts.user_body) if small else parts.user_body.strip()
    sections = [persona, f"## Who you are talking with\nThe user is {parts.user_name}.\n{user_body}".strip()]
    if parts.style != "tiny":
        sections.append(character_rules(parts.persona_name, parts.user_name))
    if parts.abilities.strip():
        sections.append(f"## What you can do\n{parts.abilities.strip()}")
    if parts.client_system.strip():
        sections.append(f"## From the app you are talking through\n{parts.client_system.strip()}")
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
    size = _sizes[key]
    return "tiny" if size < TINY_BELOW_BYTES else "compact" if size < COMPACT_BELOW_BYTES else "full"


async def build_messages(
    parts: PromptParts, *, backend: ChatBackend, model: str, reply_tokens: int
) -> tuple[list[ChatTurn], int]:
    """Messages for the model, oldest turns dropped first until they fit; returns them and how many were dropped.

    The system prompt and the newest turn are never dropped.
    """
    system = system_prompt(parts)
    budget = await backend.context_window(model) - reply_tokens
    used = await backend.count_tokens(model, system) + PER_MESSAGE_OVERHEAD
    if parts.style == "compact":
        used += REMINDER_TOKENS
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
    if parts.style == "compact" and kept and kept[-1]["role"] == "user":
        kept[-1] = ChatTurn(role="user", content=kept[-1]["content"] + "\n\n" + turn_reminder(parts.persona_name))
    return [ChatTurn(role="system", content=system), *kept], len(parts.history) - len(kept)
