"""A backend that answers from a script: how a small, broken or silly model behaves, deterministically.

Used where a test needs a particular answer (garbage, empty, a failure); the real model is tested
against llama.cpp with SmolLM2 elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable

from azera.llm.base import BackendError


class ScriptedBackend:
    """Answers each call with ``answer`` (text, or a function of the prompt), or fails."""

    name = "scripted"

    def __init__(self, answer: str | Callable[[str], str] = "", fail: bool = False) -> None:
        self.answer, self.fail = answer, fail
        self.prompts: list[str] = []
        self.calls: list[dict[str, float]] = []

    async def stream_chat(self, model, messages, *, sampling, stop):
        prompt = messages[-1]["content"]
        self.prompts.append(prompt)
        self.calls.append({"temperature": sampling.temperature, "max_tokens": sampling.max_tokens})
        if self.fail:
            raise BackendError("model crashed")
        answer = self.answer(prompt) if callable(self.answer) else self.answer
        for word in answer.split(" "):
            yield word + " "

    async def list_models(self) -> list:
        return []

    async def count_tokens(self, model: str, text: str) -> int:
        return len(text.split())

    async def context_window(self, model: str) -> int:
        return 4096
