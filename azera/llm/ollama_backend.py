"""Ollama backend: any model an Ollama server has, over its HTTP API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import ollama

from azera.llm.base import BackendError, ChatTurn, ModelInfo, ModelNotFoundError, PullProgress
from azera.llm.sampling import Sampling

EMBEDDING_FAMILIES = {"bert", "nomic-bert", "clip"}


def _is_embedding_only(name: str, families: list[str]) -> bool:
    return "embed" in name.lower() or (bool(families) and set(families) <= EMBEDDING_FAMILIES)


class OllamaBackend:
    """Talks to ``AZERA_OLLAMA_HOST`` with the official async client."""

    name = "ollama"

    def __init__(self, host: str, *, context: int = 4096, timeout: float = 300) -> None:
        self.host = host
        self.context = context
        self.client = ollama.AsyncClient(host=host, timeout=timeout)

    def _error(self, error: Exception, model: str = "") -> BackendError:
        if isinstance(error, ollama.ResponseError):
            if error.status_code == 404:
                return ModelNotFoundError(f"Ollama has no model '{model}': {error.error}")
            return BackendError(f"Ollama refused ({error.status_code}): {error.error}")
        if isinstance(error, httpx.HTTPError | ConnectionError):
            return BackendError(f"Ollama at {self.host} is unreachable: {error}")
        return BackendError(f"Ollama failed: {error}")

    async def stream_chat(
        self, model: str, messages: list[ChatTurn], *, sampling: Sampling, stop: asyncio.Event
    ) -> AsyncIterator[str]:
        """Stream ``/api/chat`` (NDJSON); leaving the loop closes the HTTP response."""
        try:
            stream = await self.client.chat(
                model=model,
                messages=list(messages),
                stream=True,
                options={
                    "temperature": sampling.temperature,
                    "top_p": sampling.top_p,
                    "top_k": sampling.top_k,
                    "min_p": sampling.min_p,
                    "repeat_penalty": sampling.repeat_penalty,
                    "num_predict": sampling.max_tokens,
                    "num_ctx": self.context,
                    **({"seed": sampling.seed} if sampling.seed is not None else {}),
                },
            )
            async for part in stream:
                if stop.is_set():
                    break
                if part.message and part.message.content:
                    yield part.message.content
        except (ollama.ResponseError, httpx.HTTPError, ConnectionError) as error:
            raise self._error(error, model) from error

    async def list_models(self) -> list[ModelInfo]:
        """Installed models from ``/api/tags``, embedding-only ones hidden."""
        try:
            listing = await self.client.list()
        except (ollama.ResponseError, httpx.HTTPError, ConnectionError) as error:
            raise self._error(error) from error
        models = []
        for entry in listing.models:
            details = entry.details
            families = list(details.families or []) if details else []
            family = (details.family if details else "") or ""
            if _is_embedding_only(entry.model or "", families or [family]):
                continue
            models.append(
                ModelInfo(name=entry.model or "", backend=self.name, size_bytes=entry.size or 0, family=family)
            )
        return models

    async def pull_model(self, name: str) -> AsyncIterator[PullProgress]:
        """Stream ``/api/pull`` progress."""
        try:
            async for progress in await self.client.pull(name, stream=True):
                yield PullProgress(
                    status=progress.status or "", completed=progress.completed or 0, total=progress.total or 0
                )
        except (ollama.ResponseError, httpx.HTTPError, ConnectionError) as error:
            raise self._error(error, name) from error

    async def delete_model(self, name: str) -> None:
        """``DELETE /api/delete``."""
        try:
            await self.client.delete(name)
        except (ollama.ResponseError, httpx.HTTPError, ConnectionError) as error:
            raise self._error(error, name) from error

    async def count_tokens(self, model: str, text: str) -> int:
        """Ollama has no tokenize endpoint: estimate (~4 characters a token, rounded up)."""
        return len(text) // 4 + 1

    async def context_window(self, model: str) -> int:
        """The ``num_ctx`` Azera asks Ollama for."""
        return self.context
