"""Prompt assembly: persona as system prompt, the user persona, memories, and history trimmed to fit."""

from __future__ import annotations

import dataclasses

from azera.llm.base import ChatBackend, ChatTurn

PER_MESSAGE_OVERHEAD = 4  # role markers and separators the chat template adds around each turn


@dataclasses.dataclass
class PromptParts:
    """What goes into one model call."""

    persona_name: str
    persona_body: str
    user_name: str
    user_body: str
    history: list[ChatTurn]
    memories: str = ""


class PromptTooLongError(ValueError):
    """Even the system prompt and the newest message do not fit in the model's context."""


def system_prompt(parts: PromptParts) -> str:
    """The system message: persona profile, who the user is, and recalled memories."""
    sections = [parts.persona_body.strip() or f"You are {parts.persona_name}."]
    sections.append(f"## Who you are talking with\nThe user is {parts.user_name}.\n\n{parts.user_body.strip()}".strip())
    if parts.memories.strip():
        sections.append(parts.memories.strip())
    return "\n\n".join(sections)


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
