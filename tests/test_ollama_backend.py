"""The Ollama adapter against a server speaking Ollama's wire protocol."""

import asyncio

import pytest

from azera.llm.base import BackendError, ChatTurn, ModelNotFoundError
from azera.llm.ollama_backend import OllamaBackend
from azera.llm.sampling import Sampling
from tests.ollama_server import ollama_server

MESSAGES = [ChatTurn(role="system", content="You are Azera."), ChatTurn(role="user", content="hello there")]


@pytest.fixture
def server():
    with ollama_server() as (url, state):
        yield url, state


async def _collect(backend: OllamaBackend, model: str, stop: asyncio.Event | None = None) -> str:
    pieces = []
    async for piece in backend.stream_chat(
        model, MESSAGES, sampling=Sampling(temperature=0.2, max_tokens=64, seed=7), stop=stop or asyncio.Event()
    ):
        pieces.append(piece)
    return "".join(pieces)


async def test_streams_chat_and_sends_options(server) -> None:
    url, state = server
    text = await _collect(OllamaBackend(url), "llama3.2:1b")
    assert text == "<think>user asks </think>You said: hello there "
    request = state.chat_requests[-1]
    assert request["stream"] is True
    assert request["options"]["temperature"] == 0.2 and request["options"]["num_predict"] == 64
    assert request["options"]["repeat_penalty"] == 1.1 and request["options"]["min_p"] == 0.05
    assert request["options"]["seed"] == 7
    assert request["messages"][0] == {"role": "system", "content": "You are Azera."}


async def test_list_hides_embedding_models(server) -> None:
    url, _ = server
    models = await OllamaBackend(url).list_models()
    assert [(m.name, m.family, m.size_bytes) for m in models] == [("llama3.2:1b", "llama", 1_300_000_000)]


async def test_pull_reports_progress_then_the_model_is_listed(server) -> None:
    url, _ = server
    backend = OllamaBackend(url)
    steps = [step async for step in backend.pull_model("qwen2.5:0.5b")]
    fractions = [step.fraction for step in steps if step.total]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert steps[-1].status == "success"
    assert "qwen2.5:0.5b" in [m.name for m in await backend.list_models()]


async def test_pull_of_a_missing_model_says_why(server) -> None:
    url, _ = server
    with pytest.raises(BackendError, match="file does not exist"):
        async for _ in OllamaBackend(url).pull_model("no-such-model:7b"):
            pass


async def test_delete_and_unknown_model_errors(server) -> None:
    url, _ = server
    backend = OllamaBackend(url)
    await backend.delete_model("llama3.2:1b")
    assert await backend.list_models() == []
    with pytest.raises(ModelNotFoundError, match="not found"):
        await backend.delete_model("llama3.2:1b")
    with pytest.raises(ModelNotFoundError, match="try pulling it first"):
        await _collect(backend, "llama3.2:1b")


async def test_server_dying_mid_stream_is_a_backend_error(server) -> None:
    url, state = server
    state.models["crashy:1b"] = state.models["llama3.2:1b"]
    with pytest.raises(BackendError):
        await _collect(OllamaBackend(url), "crashy:1b")


async def test_stop_ends_the_stream_early(server) -> None:
    url, state = server
    state.token_delay = 0.05
    stop = asyncio.Event()
    backend = OllamaBackend(url)
    pieces = []
    async for piece in backend.stream_chat(
        "llama3.2:1b", MESSAGES, sampling=Sampling(temperature=0.2, max_tokens=64), stop=stop
    ):
        pieces.append(piece)
        if len(pieces) == 2:
            stop.set()
    assert len(pieces) == 2


async def test_unreachable_server() -> None:
    with pytest.raises(BackendError, match="unreachable"):
        await OllamaBackend("http://127.0.0.1:9").list_models()
