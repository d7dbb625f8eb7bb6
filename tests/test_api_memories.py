"""REST memories, search and knowledge-base documents: real embeddings and indexes, 4xx with reasons."""

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from azera.api.routes import build_api
from azera.config import get_settings
from azera.runtime import runtime
from tests.scripted import ScriptedBackend


@pytest.fixture
def client(prepared, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("AZERA_MEMORY_MIN_AGE_SECONDS", "0")  # recall what was said a moment ago
    get_settings.cache_clear()
    runtime().backend = ScriptedBackend("Noted, the harbour festival it is.")
    with TestClient(build_api()) as test_client:
        yield test_client


def _remember(client: TestClient, text: str, **fields) -> str:
    added = client.post("/api/memories", json={"text": text, **fields})
    assert added.status_code == 201 and added.json()["indexed"], added.text
    return added.json()["id"]


def test_memories_are_listed_read_edited_moved_and_forgotten(client: TestClient) -> None:
    tea = _remember(client, "Ingrid prefers green tea in the morning.")
    _remember(client, "The boat is called Seagull.", persona="areza")
    assert [m["id"] for m in client.get("/api/memories", params={"persona": "azera"}).json()] == [tea]
    assert [m["text"] for m in client.get("/api/memories", params={"q": "seagull"}).json()] == [
        "The boat is called Seagull."
    ]
    assert client.get("/api/memories", params={"kind": "gossip"}).status_code == 422
    assert client.get("/api/memories", params={"since": "yesterday"}).status_code == 422
    memory = client.get(f"/api/memories/{tea}").json()
    assert (memory["kind"], memory["tier"], memory["indexed"]) == ("fact", "long_term", True)

    edited = client.patch(f"/api/memories/{tea}", json={"text": "Ingrid prefers black coffee in the morning."})
    assert edited.status_code == 200 and edited.json()["indexed"]
    found = client.get("/api/memories/search", params={"q": "What does Ingrid drink?"}).json()
    assert "black coffee" in found[0]["text"]  # recall finds the new words, not the old
    assert client.patch(f"/api/memories/{tea}", json={"tier": "archive"}).json()["tier"] == "archive"
    assert client.patch(f"/api/memories/{tea}", json={"tier": "attic"}).status_code == 422
    assert client.patch(f"/api/memories/{tea}", json={}).status_code == 400

    assert client.delete(f"/api/memories/{tea}").status_code == 204
    assert client.get(f"/api/memories/{tea}").status_code == 404
    assert client.get("/api/memories/search", params={"q": "Ingrid coffee"}).json() == []  # gone from the indexes
    assert client.delete(f"/api/memories/{tea}").status_code == 404
    assert client.get("/api/memories/../etc").status_code in (404, 422)


def test_search_gives_each_source_and_the_chats_words(client: TestClient) -> None:
    _remember(client, "The harbour festival is on the first Saturday of June.")
    chat_id = client.post("/api/chats", json={}).json()["id"]
    asked = {"text": "Shall we go to the harbour festival?"}
    with client.stream("POST", f"/api/chats/{chat_id}/messages", json=asked) as response:
        response.read()  # the whole reply; its messages are indexed right after
    deadline = time.monotonic() + 30
    while client.get("/api/memories/index").json()["waiting"] and time.monotonic() < deadline:
        time.sleep(0.1)
    found = client.post("/api/search", json={"q": "When is the harbour festival?", "limit": 3}).json()
    first = found["memories"][0]
    assert "first Saturday of June" in first["text"] and {"semantic", "lexical"} <= set(first["sources"])
    assert any(m["chat_id"] == chat_id and m["role"] == "user" for m in found["messages"])
    assert client.post("/api/search", json={"q": "festival", "persona": "nobody"}).status_code == 404
    assert client.post("/api/search", json={"q": ""}).status_code == 422
    assert client.post("/api/search", json={"q": "   "}).status_code == 400


def test_documents_are_added_whole_listed_recalled_and_removed(client: TestClient) -> None:
    text = "\n\n".join(f"Chapter {n}. The lighthouse keeper logged ship {n} at dawn." for n in range(40)).encode()
    added = client.post("/api/documents", params={"persona": "azera", "filename": "logbook.txt"}, content=text)
    assert added.status_code == 201 and added.json()["name"] == "logbook.txt"
    chunks = added.json()["chunks"]
    listed = client.get("/api/documents", params={"persona": "azera"}).json()
    assert listed == [
        {"name": "logbook.txt", "chunks": chunks, "indexed": chunks, "created_at": listed[0]["created_at"]}
    ]
    again = client.post("/api/documents", params={"persona": "azera", "filename": "logbook.txt"}, content=text)
    assert again.status_code == 400 and "delete it first" in again.json()["detail"]
    bad = client.post("/api/documents", params={"filename": "../../etc/passwd"}, content=b"x")
    assert bad.status_code == 400 and "plain file name" in bad.json()["detail"]
    binary = client.post("/api/documents", params={"filename": "photo.txt"}, content=b"\x89PNG\r\n\x1a\n\x00\x00")
    assert binary.status_code == 400
    hits = client.get("/api/memories/search", params={"q": "lighthouse keeper ship 17"}).json()
    assert hits and hits[0]["kind"] == "document"
    assert client.delete("/api/documents/other.txt").status_code == 404
    assert client.delete("/api/documents/logbook.txt", params={"persona": "azera"}).status_code == 204
    assert client.get("/api/documents").json() == []
    assert client.get("/api/memories/search", params={"q": "lighthouse keeper ship 17"}).json() == []
