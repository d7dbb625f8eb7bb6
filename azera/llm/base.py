"""The one interface every chat backend implements."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from typing import Protocol, TypedDict

from azera.llm.sampling import Sampling, resolve


class ChatTurn(TypedDict):
    """One message as chat models take it."""

    role: str
    content: str


class BackendError(RuntimeError):
    """A backend failed in a way the user should see (model missing, server down…)."""


class ModelNotFoundError(BackendError):
    """The requested model is not installed."""


@dataclasses.dataclass
class ModelInfo:
    """An installed chat model."""

    name: str
    backend: str
    size_bytes: int = 0
    family: str = ""
    context_length: int = 0
    path: str = ""


@dataclasses.dataclass
class PullProgress:
    """One progress report while a model downloads."""

    status: str
    completed: int = 0
    total: int = 0

    @property
    def fraction(self) -> float:
        """Share done, 0..1 (0 when the size is unknown)."""
        return self.completed / self.total if self.total else 0.0


class ChatBackend(Protocol):
    """Streams chat replies and manages models."""

    name: str

    def stream_chat(
        self, model: str, messages: list[ChatTurn], *, sampling: Sampling, stop: asyncio.Event
    ) -> AsyncIterator[str]:
        """Yield reply text pieces as the model produces them; end early once ``stop`` is set.

        When the last message is the assistant's, the model continues that text (a reply a crash or a
        stop cut off) instead of starting a new turn; only the new text is yielded.
        """
        ...

    async def list_models(self) -> list[ModelInfo]:
        """Installed chat models (embedding-only models hidden)."""
        ...

    def pull_model(self, name: str) -> AsyncIterator[PullProgress]:
        """Download a model, reporting progress."""
        ...

    async def delete_model(self, name: str) -> None:
        """Remove an installed model."""
        ...

    async def count_tokens(self, model: str, text: str) -> int:
        """Tokens ``text`` takes in ``model``'s tokenizer."""
        ...

    async def context_window(self, model: str) -> int:
        """The context size (tokens) Azera will use with ``model``."""
        ...


async def complete(backend: ChatBackend, model: str, prompt: str, *, temperature: float, max_tokens: int) -> str:
    """One whole, non-streamed answer to a single user prompt with the model family's sampling (raises BackendError)."""
    sampling = resolve(model, {"temperature": temperature, "max_tokens": max_tokens})
    answer, turns = "", [ChatTurn(role="user", content=prompt)]
    async for piece in backend.stream_chat(model, turns, sampling=sampling, stop=asyncio.Event()):
        answer += piece
    return answer.strip()
