"""REST chats: start a chat, send a message, read the reply as Server-Sent Events; 4xx with reasons."""

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from azera.api.routes import build_api
from azera.config import get_settings
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


def _say(client: TestClient, chat_id: str, text: str) -> dict:
    with client.stream("POST", f"/api/chats/{chat_id}/messages", json={"text": text}) as response:
        assert response.status_code == 200, response.read()
        return _events(response)[-1][1]


def test_chats_are_listed_filtered_and_paged(client: TestClient) -> None:
    work = client.post("/api/chats", json={"persona": "azera", "title": "Work plans"}).json()["id"]
    play = client.post("/api/chats", json={"persona": "areza", "title": "Holiday"}).json()["id"]
    _say(client, play, "Let us plan the trip to the fjords")
    projects = client.post("/api/groups", json={"name": "Projects"}).json()["id"]
    client.patch(f"/api/chats/{work}", json={"tags": ["work"], "group_id": projects})
    listed = client.get("/api/chats").json()
    assert [c["id"] for c in listed][:2] == [work, play]  # most recently active first
    assert [c["id"] for c in client.get("/api/chats", params={"q": "fjords"}).json()] == [play]
    assert [c["id"] for c in client.get("/api/chats", params={"persona": "areza"}).json()] == [play]
    assert [c["id"] for c in client.get("/api/chats", params={"tag": "work"}).json()] == [work]
    assert [c["id"] for c in client.get("/api/chats", params={"group_id": projects}).json()] == [work]
    assert [c["id"] for c in client.get("/api/chats", params={"limit": 1, "offset": 1}).json()] == [play]
    assert client.get("/api/chats", params={"limit": 0}).status_code == 422


def test_a_chat_is_read_changed_and_deleted(client: TestClient) -> None:
    chat_id = client.post("/api/chats", json={"title": "Draft"}).json()["id"]
    _say(client, chat_id, "Hi Azera")
    changed = client.patch(
        f"/api/chats/{chat_id}", json={"title": "Greetings", "persona": "areza", "model": "x.gguf", "temperature": 0.2}
    )
    assert changed.status_code == 200
    body = changed.json()
    assert (body["title"], body["persona"], body["model"], body["temperature"]) == ("Greetings", "areza", "x.gguf", 0.2)
    cleared = client.patch(f"/api/chats/{chat_id}", json={"temperature": None}).json()
    assert cleared["temperature"] is None and cleared["model"] == "x.gguf"  # only the fields sent change
    assert client.patch(f"/api/chats/{chat_id}", json={"tags": ["no-such-tag"]}).status_code == 404
    assert client.patch(f"/api/chats/{chat_id}", json={"persona": "protag"}).status_code == 400
    assert client.patch(f"/api/chats/{chat_id}", json={"temperature": 3}).status_code == 422
    assert client.delete(f"/api/chats/{chat_id}").status_code == 204
    assert client.get(f"/api/chats/{chat_id}").status_code == 404
    assert client.delete(f"/api/chats/{chat_id}").status_code == 404


def test_regenerate_and_edit_make_branches_the_chat_shows(client: TestClient) -> None:
    chat_id = client.post("/api/chats", json={}).json()["id"]
    first = _say(client, chat_id, "Hi Azera")
    runtime().backend = ScriptedBackend("Good evening")
    with client.stream("POST", f"/api/chats/{chat_id}/messages/{first['reply_id']}/regenerate") as response:
        again = _events(response)[-1][1]
    assert again["content"] == "Good evening" and again["reply_id"] != first["reply_id"]
    chat = client.get(f"/api/chats/{chat_id}").json()
    assert [(m["role"], m["content"], m["branch"], m["branches"]) for m in chat["messages"]] == [
        ("user", "Hi Azera", 1, 1),
        ("assistant", "Good evening", 2, 2),
    ]
    user_id = chat["messages"][0]["id"]
    with client.stream("POST", f"/api/chats/{chat_id}/messages/{user_id}/edit", json={"text": "Hello Azera"}) as r:
        assert _events(r)[-1][1]["status"] == "complete"
    shown = client.get(f"/api/chats/{chat_id}/messages").json()
    assert [(m["content"], m["branch"], m["branches"]) for m in shown] == [
        ("Hello Azera", 2, 2),
        ("Good evening", 1, 1),
    ]
    assert len(client.get(f"/api/chats/{chat_id}/messages", params={"every_branch": True}).json()) == 5
    back = client.post(f"/api/chats/{chat_id}/messages/{user_id}/activate").json()
    assert [m["content"] for m in back["messages"]] == ["Hi Azera", "Good evening"]  # its newest reply


def test_message_ids_must_belong_to_the_chat(client: TestClient) -> None:
    mine = client.post("/api/chats", json={}).json()["id"]
    other = client.post("/api/chats", json={}).json()["id"]
    reply = _say(client, other, "Hi")["reply_id"]
    for action in ("regenerate", "continue", "activate"):
        refused = client.post(f"/api/chats/{mine}/messages/{reply}/{action}")
        assert refused.status_code == 404 and "No message" in refused.json()["detail"], action
    assert client.post(f"/api/chats/{mine}/messages/{'0' * 32}/regenerate").status_code == 404
    complete = client.post(f"/api/chats/{other}/messages/{reply}/continue")
    assert complete.status_code == 400 and "cut short" in complete.json()["detail"]


def test_stop_ends_a_reply_being_written(client: TestClient) -> None:
    import asyncio

    from azera.conversation.replies import RUNNING

    chat_id = client.post("/api/chats", json={}).json()["id"]
    assert client.post(f"/api/chats/{chat_id}/stop").json() == {"stopped": False}
    switch = asyncio.Event()
    RUNNING[chat_id] = switch  # as a reply being written in the UI registers itself
    try:
        assert client.post(f"/api/chats/{chat_id}/stop").json() == {"stopped": True} and switch.is_set()
        assert client.post(f"/api/chats/{chat_id}/messages", json={"text": "hi"}).status_code == 409
        assert client.delete(f"/api/chats/{chat_id}").status_code == 409
    finally:
        RUNNING.pop(chat_id, None)


def test_groups_and_tags_are_managed_and_deleting_them_keeps_the_chats(client: TestClient) -> None:
    chat_id = client.post("/api/chats", json={}).json()["id"]
    trips = client.post("/api/groups", json={"name": "Trips"}).json()
    assert client.post("/api/groups", json={"name": "trips"}).status_code == 400  # names are unique, any case
    assert client.post("/api/groups", json={"name": "Über"}).status_code == 201
    assert client.post("/api/groups", json={"name": "über"}).status_code == 400  # beyond ASCII too (was a 500)
    assert client.post("/api/groups", json={"name": "Über"}).status_code == 400
    client.patch(f"/api/chats/{chat_id}", json={"group_id": trips["id"], "tags": ["ideas"]})
    assert {g["name"]: g["chats"] for g in client.get("/api/groups").json()}["Trips"] == 1
    renamed = client.patch(f"/api/groups/{trips['id']}", json={"name": "Journeys"}).json()
    assert renamed == {"id": trips["id"], "name": "Journeys", "chats": 1}
    general = client.get("/api/groups").json()[0]
    assert general["name"] == "General"
    assert client.delete(f"/api/groups/{general['id']}").status_code == 400
    assert client.delete(f"/api/groups/{trips['id']}").status_code == 204
    assert client.get(f"/api/chats/{chat_id}").json()["group_id"] == general["id"]  # moved, not lost

    tags = {t["name"]: t for t in client.get("/api/tags").json()}
    assert tags["ideas"]["chats"] == 1
    made = client.post("/api/tags", json={"name": "Sailing"}).json()
    assert made["name"] == "sailing" and made["chats"] == 0
    assert client.patch(f"/api/tags/{tags['ideas']['id']}", json={"name": "sailing"}).status_code == 400
    assert client.patch(f"/api/tags/{tags['ideas']['id']}", json={"name": "plans"}).json()["name"] == "plans"
    assert client.get(f"/api/chats/{chat_id}").json()["tags"] == ["plans"]
    assert client.delete(f"/api/tags/{tags['ideas']['id']}").status_code == 204
    assert client.get(f"/api/chats/{chat_id}").json()["tags"] == []
    assert client.delete("/api/tags/99999").status_code == 404 and client.delete("/api/groups/0").status_code == 422


class SlowBackend(ScriptedBackend):
    """Writes one word every 50 ms: a reply long enough to walk away from."""

    async def stream_chat(self, model, messages, *, sampling, stop):
        import asyncio

        for n in range(200):
            if stop.is_set():
                return
            await asyncio.sleep(0.05)
            yield f"word{n} "


def test_a_message_too_long_for_the_model_is_refused_before_it_is_saved(client: TestClient) -> None:
    chat_id = client.post("/api/chats", json={}).json()["id"]
    runtime().backend = ScriptedBackend("unused")  # 4,096 tokens of context, one per word
    refused = client.post(f"/api/chats/{chat_id}/messages", json={"text": "ok " * 4_000})
    assert refused.status_code == 413 and "tokens" in refused.json()["detail"], refused.text
    assert client.get(f"/api/chats/{chat_id}/messages").json() == []  # nothing saved


def test_a_client_that_leaves_mid_stream_leaves_the_reply_stopped(client: TestClient) -> None:
    import time

    runtime().backend = SlowBackend()
    chat_id = client.post("/api/chats", json={}).json()["id"]
    with client.stream("POST", f"/api/chats/{chat_id}/messages", json={"text": "Tell me everything"}) as response:
        for line in response.iter_lines():
            if line.startswith("event: token"):
                break  # walk away after the first words
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        reply = client.get(f"/api/chats/{chat_id}/messages").json()[-1]
        if reply["status"] != "streaming":
            break
        time.sleep(0.1)
    assert reply["role"] == "assistant" and reply["status"] == "stopped", reply
    assert reply["content"].startswith("word0") and "word199" not in reply["content"]
    assert client.post(f"/api/chats/{chat_id}/messages", json={"text": "Still there?"}).status_code == 200  # not busy


def test_a_chat_on_a_model_that_is_not_installed_keeps_the_message_and_says_why(client: TestClient) -> None:
    from azera.llm.llamacpp import LlamaCppBackend

    runtime().backend = LlamaCppBackend(get_settings().resolved_models_dir)
    chat_id = client.post("/api/chats", json={}).json()["id"]
    client.patch(f"/api/chats/{chat_id}", json={"model": "no-such-model"})
    with client.stream("POST", f"/api/chats/{chat_id}/messages", json={"text": "Hello?"}) as response:
        assert response.status_code == 200
        events = _events(response)
    assert events[-1][1]["status"] == "error" and "no-such-model" in events[-2][1]["message"]
    assert client.get(f"/api/chats/{chat_id}/messages").json()[0]["content"] == "Hello?"
