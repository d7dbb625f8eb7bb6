"""REST chats: start a chat, send a message, read the reply as Server-Sent Events; 4xx with reasons."""

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from azera.api.routes import build_api
from azera.db.engine import session_scope
from azera.runtime import runtime
from azera.services import chats
from azera.services import messages as svc
from tests.scripted import ScriptedBackend


@pytest.fixture
def client(prepared) -> Iterator[TestClient]:
    runtime().backend = ScriptedBackend("<think>they greet me</think>Hello there, friend")
    with TestClient(build_api()) as test_client:
        yield test_client


def _events(response) -> list[tuple[str, dict]]:
    events, kind = [], ""
    for line in response.iter_lines():
        if line.startswith("event:"):
            kind = line.split(":", 1)[1].strip()
        elif line.startswith("data:"):
            events.append((kind, json.loads(line.split(":", 1)[1])))
    return events


def test_a_message_is_saved_and_its_reply_streams_as_events(client: TestClient) -> None:
    created = client.post("/api/chats", json={"persona": "azera", "title": "From a script"})
    assert created.status_code == 201
    chat_id = created.json()["id"]
    with client.stream("POST", f"/api/chats/{chat_id}/messages", json={"text": "Hi Azera"}) as response:
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
        events = _events(response)
    kinds = [kind for kind, _ in events]
    assert kinds[0] == "started" and kinds[-2:] == ["recalled", "done"] and "token" in kinds and "thinking" in kinds
    streamed = "".join(data["text"] for kind, data in events if kind == "token")
    done = events[-1][1]
    assert done["status"] == "complete" and done["content"] == streamed == "Hello there, friend"
    assert done["thinking"] == "they greet me"
    with session_scope() as session:  # the exchange is in the chat, as the UI shows it
        branch = svc.active_branch(session, chats.get_chat(session, chat_id))
        assert [(m.role, m.content) for m in branch] == [("user", "Hi Azera"), ("assistant", "Hello there, friend")]


def test_bad_requests_say_why(client: TestClient) -> None:
    assert client.post("/api/chats", json={"persona": "nobody"}).status_code == 404
    assert client.post("/api/chats", json={"persona": "protag"}).status_code == 400  # a user persona
    chat_id = client.post("/api/chats", json={}).json()["id"]
    empty = client.post(f"/api/chats/{chat_id}/messages", json={"text": "   "})
    assert empty.status_code == 400 and "empty" in empty.json()["detail"]
    assert client.post(f"/api/chats/{'0' * 32}/messages", json={"text": "hi"}).status_code == 404
    assert client.post("/api/chats/../../etc/messages", json={"text": "hi"}).status_code in (404, 422)
    assert client.post(f"/api/chats/{chat_id}/messages", json={"text": "x" * 16_001}).status_code == 422
    # a second message while a reply is being written in the same chat: 409, as the page refuses it
    from azera.api import chats as chat_routes

    chat_routes._streaming.add(chat_id)
    try:
        busy = client.post(f"/api/chats/{chat_id}/messages", json={"text": "hello?"})
    finally:
        chat_routes._streaming.discard(chat_id)
    assert busy.status_code == 409 and "still being written" in busy.json()["detail"]


def test_a_failing_model_keeps_the_message_and_says_so(client: TestClient) -> None:
    runtime().backend = ScriptedBackend(fail=True)
    chat_id = client.post("/api/chats", json={}).json()["id"]
    with client.stream("POST", f"/api/chats/{chat_id}/messages", json={"text": "Are you there?"}) as response:
        events = _events(response)
    assert ("error", {"message": "model crashed"}) in events and events[-1][1]["status"] == "error"
    with session_scope() as session:
        assert svc.active_branch(session, chats.get_chat(session, chat_id))[0].content == "Are you there?"
