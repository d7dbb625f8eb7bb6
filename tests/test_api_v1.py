"""/v1: the OpenAI protocol, spoken to with the official ``openai`` client (in process, on a scripted model).

The same client against the real running app and model: tests/e2e/test_openai.py.
"""

from collections.abc import Iterator

import openai
import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from azera.api.chats import _streaming
from azera.api.routes import build_api
from azera.config import get_settings
from azera.db.engine import session_scope
from azera.db.models import Chat
from azera.llm.base import ModelInfo
from azera.runtime import runtime
from azera.services import chats
from azera.services import messages as svc
from tests.scripted import ScriptedBackend


class Backend(ScriptedBackend):
    """The scripted model, keeping every message list it was given and listing one raw model."""

    def __init__(self, answer: str) -> None:
        super().__init__(answer)
        self.seen: list[list[dict]] = []

    async def stream_chat(self, model, messages, *, sampling, stop):
        self.seen.append(list(messages))
        async for piece in super().stream_chat(model, messages, sampling=sampling, stop=stop):
            yield piece

    async def list_models(self) -> list:
        return [ModelInfo(name="tiny-model", backend="scripted")]


@pytest.fixture
def backend(prepared) -> Backend:
    runtime().backend = Backend("Hello there, friend. The sea is calm today.")
    return runtime().backend


@pytest.fixture
def http(backend) -> Iterator[TestClient]:
    with TestClient(build_api()) as test_client:
        yield test_client


@pytest.fixture
def client(http: TestClient) -> openai.OpenAI:
    return openai.OpenAI(base_url="http://testserver/v1", api_key="unused-here", http_client=http, max_retries=0)


def _branches() -> dict[str, list[tuple[str, str]]]:
    """Every chat's active branch as (role, text)."""
    with session_scope() as session:
        return {
            chat.id: [(m.role, m.content) for m in svc.active_branch(session, chat)]
            for chat in session.exec(select(Chat)).all()
        }


def test_models_are_the_ai_personas_then_the_raw_backend_models(client: openai.OpenAI) -> None:
    ids = [model.id for model in client.models.list()]
    assert ids[:2] == ["azera", "areza"] or set(ids[:2]) == {"azera", "areza"}
    assert "raw/tiny-model" in ids and "protag" not in ids  # a user persona is not a model


def test_a_persona_completion_goes_through_azera_and_is_saved_in_a_chat(
    client: openai.OpenAI, backend: Backend, http: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZERA_MEMORY_MIN_AGE_SECONDS", "0")  # recall the fact told a moment ago
    get_settings.cache_clear()
    told = http.post("/api/memories", json={"text": "My sister Ingrid lives in Trondheim.", "persona": "azera"})
    assert told.status_code == 201
    reply = client.chat.completions.create(
        model="azera",
        messages=[
            {"role": "system", "content": "Answer in one sentence."},
            {"role": "user", "content": "Where does my sister Ingrid live?"},
        ],
        temperature=0.3,
        max_tokens=60,
    )
    assert reply.choices[0].message.content == "Hello there, friend. The sea is calm today."
    assert reply.choices[0].finish_reason == "stop" and reply.model == "azera"
    assert reply.usage.prompt_tokens > 20 and reply.usage.completion_tokens == 8
    asked = [m for m in backend.seen if m[-1]["content"].startswith("Where does my sister")]
    system = asked[0][0]["content"]  # (the model is also asked, afterwards, for the reply's mood)
    assert system.index("Azera") < system.index("Answer in one sentence.")  # the persona's first, then the client's
    assert "Ingrid lives in Trondheim" in system  # the memory was recalled for the prompt
    assert {"temperature": 0.3, "max_tokens": 60} in backend.calls
    chat_id = reply.model_extra["azera_chat_id"]
    assert _branches()[chat_id] == [
        ("user", "Where does my sister Ingrid live?"),
        ("assistant", "Hello there, friend. The sea is calm today."),
    ]


def test_a_client_sending_its_history_back_continues_the_same_chat(client: openai.OpenAI) -> None:
    first = client.chat.completions.create(model="azera", messages=[{"role": "user", "content": "Hi"}])
    history = [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": first.choices[0].message.content},
        {"role": "user", "content": "How are you?"},
    ]
    second = client.chat.completions.create(model="azera", messages=history)
    chat_id = first.model_extra["azera_chat_id"]
    assert second.model_extra["azera_chat_id"] == chat_id
    assert [role for role, _ in _branches()[chat_id]] == ["user", "assistant", "user", "assistant"]
    # Another conversation that also began with "Hi" is another chat, and its earlier turns are copied in.
    other = [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Ahoy!"},
        {"role": "user", "content": "Tell me about boats"},
    ]
    third = client.chat.completions.create(model="azera", messages=other)
    assert third.model_extra["azera_chat_id"] != chat_id
    assert _branches()[third.model_extra["azera_chat_id"]][:3] == [
        ("user", "Hi"),
        ("assistant", "Ahoy!"),
        ("user", "Tell me about boats"),
    ]


def test_the_user_field_and_the_chat_header_choose_the_chat(client: openai.OpenAI, http: TestClient) -> None:
    one = client.chat.completions.create(model="azera", messages=[{"role": "user", "content": "a"}], user="phone")
    two = client.chat.completions.create(model="azera", messages=[{"role": "user", "content": "b"}], user="phone")
    assert one.model_extra["azera_chat_id"] == two.model_extra["azera_chat_id"]
    with session_scope() as session:
        mine = chats.create_chat(session, ai_persona_id="azera", title="Mine").id
    three = client.chat.completions.create(
        model="azera", messages=[{"role": "user", "content": "c"}], extra_headers={"X-Azera-Chat": mine}
    )
    assert three.model_extra["azera_chat_id"] == mine
    assert [text for _, text in _branches()[mine]] == ["c", "Hello there, friend. The sea is calm today."]
    with pytest.raises(openai.NotFoundError, match="No chat"):
        client.chat.completions.create(
            model="areza", messages=[{"role": "user", "content": "d"}], extra_headers={"X-Azera-Chat": mine}
        )


def test_a_streamed_completion_arrives_in_chunks_with_usage_at_the_end(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="azera",
        messages=[{"role": "user", "content": "Hi"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hello there, friend. The sea is calm today."
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 3  # word by word
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].usage.completion_tokens == 8


def test_stop_strings_end_the_reply_and_what_is_saved(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(
        model="azera", messages=[{"role": "user", "content": "Hi"}], stop=[" The sea"]
    )
    assert reply.choices[0].message.content == "Hello there, friend."
    saved = _branches()[reply.model_extra["azera_chat_id"]]
    assert saved[-1] == ("assistant", "Hello there, friend.")


def test_raw_models_answer_without_persona_memory_or_a_chat(client: openai.OpenAI, backend: Backend) -> None:
    reply = client.chat.completions.create(
        model="raw/tiny-model", messages=[{"role": "system", "content": "Be terse."}, {"role": "user", "content": "Hi"}]
    )
    assert reply.choices[0].message.content.strip() == "Hello there, friend. The sea is calm today."
    assert backend.seen[-1] == [{"role": "system", "content": "Be terse."}, {"role": "user", "content": "Hi"}]
    assert _branches() == {}


def test_bad_requests_get_openai_errors_with_reasons(client: openai.OpenAI, http: TestClient) -> None:
    with pytest.raises(openai.BadRequestError, match=r"Unknown model 'gpt-4o'.*azera") as unknown:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])
    assert unknown.value.code == "model_not_found"
    lots = [{"role": "user", "content": f"m{n}"} for n in range(1_000)]
    with pytest.raises(openai.BadRequestError, match="At most 500 messages"):
        client.chat.completions.create(model="azera", messages=lots)
    with pytest.raises(openai.BadRequestError, match="last message must be the user"):
        client.chat.completions.create(model="azera", messages=[{"role": "system", "content": "x"}])
    wrong = http.post("/v1/chat/completions", json={"model": "azera", "messages": "hello"})
    assert wrong.status_code == 422 and "messages" in wrong.json()["error"]["message"]
    assert http.get("/v1/nothing").json()["error"]["message"] == "No API route /v1/nothing"
    assert http.get("/api/nothing").json() == {"detail": "No API route /api/nothing"}  # /api keeps its shape


def test_a_second_request_to_a_busy_chat_is_refused(client: openai.OpenAI) -> None:
    with session_scope() as session:
        busy = chats.create_chat(session, ai_persona_id="azera").id
    _streaming.add(busy)
    try:
        with pytest.raises(openai.ConflictError, match="still being written"):
            client.chat.completions.create(
                model="azera", messages=[{"role": "user", "content": "x"}], extra_headers={"X-Azera-Chat": busy}
            )
    finally:
        _streaming.discard(busy)


def test_a_message_over_the_context_is_a_413_with_the_limit(client: openai.OpenAI) -> None:
    with pytest.raises(openai.APIStatusError, match="tokens") as refused:
        client.chat.completions.create(model="azera", messages=[{"role": "user", "content": "ok " * 4_500}])
    assert refused.value.status_code == 413 and refused.value.code == "context_length_exceeded"
    assert _branches() == {}  # nothing saved, not even an empty chat


def test_a_client_that_leaves_mid_stream_leaves_the_reply_stopped(http: TestClient) -> None:
    import time

    from tests.test_api_chats import SlowBackend

    runtime().backend = SlowBackend()
    body = {"model": "azera", "messages": [{"role": "user", "content": "Tell me everything"}], "stream": True}
    with http.stream("POST", "/v1/chat/completions", json=body) as response:
        for line in response.iter_lines():
            if '"content": "word' in line:
                break  # walk away after the first words
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        [branch] = _branches().values()
        if branch[-1][0] == "assistant" and branch[-1][1] and _last_status() != "streaming":
            break
        time.sleep(0.1)
    assert _last_status() == "stopped" and branch[-1][1].startswith("word0") and "word199" not in branch[-1][1]


def _last_status() -> str:
    with session_scope() as session:
        [chat] = session.exec(select(Chat)).all()
        return svc.active_branch(session, chat)[-1].status
