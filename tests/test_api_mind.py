"""REST: status and mood, dreams and journal listing, search, import and trigger; 4xx with reasons."""

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from azera.api.routes import build_api
from azera.runtime import runtime, set_runtime
from tests.scripted import ScriptedBackend
from tests.test_archive import DREAMS_JSON, JOURNAL_MD
from tests.test_journal import _answers, _talk


@pytest.fixture
def client(prepared) -> Iterator[TestClient]:
    with TestClient(build_api()) as test_client:
        yield test_client


def test_status_lists_every_ai_persona_and_one_on_request(client: TestClient) -> None:
    everyone = client.get("/api/status").json()["personas"]
    assert {p["persona_id"] for p in everyone} == {"azera", "areza"}
    azera = client.get("/api/status", params={"persona": "azera"}).json()
    assert azera["energy"] == pytest.approx(0.7) and azera["mood"] == "calm" and azera["dreaming"] is False
    assert client.get("/api/status", params={"persona": "nobody"}).status_code == 404


def test_mood_can_be_set_and_is_kept(client: TestClient) -> None:
    changed = client.post("/api/status/mood", json={"persona": "azera", "mood": "Excited"})
    assert changed.status_code == 200 and changed.json()["mood"] == "excited"
    set_runtime(None)  # a fresh mind service reads SQL
    assert client.get("/api/status", params={"persona": "azera"}).json()["mood"] == "excited"
    bad = client.post("/api/status/mood", json={"persona": "azera", "mood": "grumpy"})
    assert bad.status_code == 400 and "Unknown mood 'grumpy'" in bad.json()["detail"]
    assert client.post("/api/status/mood", json={"persona": "protag", "mood": "calm"}).status_code == 404
    assert client.post("/api/status/mood", json={"persona": "azera"}).status_code == 422


def test_dreams_import_list_and_search(client: TestClient) -> None:
    imported = client.post("/api/dreams/import", params={"persona": "azera", "filename": "d.json"}, content=DREAMS_JSON)
    assert imported.status_code == 201 and imported.json()["imported"] == 2
    again = client.post("/api/dreams/import", params={"persona": "azera"}, content=DREAMS_JSON)
    assert again.json() == {"imported": 0, "duplicates": 2, "ids": []}
    dreams = client.get("/api/dreams").json()
    assert len(dreams) == 2 and "digest" not in dreams[0]
    assert [d["title"] for d in client.get("/api/dreams/search", params={"q": "GLASS lighthouse"}).json()] == [
        "The glass lighthouse"
    ]
    assert client.get("/api/dreams/search", params={"q": "glass cranes"}).json() == []  # every word must match
    assert client.get("/api/dreams/search", params={"q": "  "}).status_code == 400
    assert client.get("/api/dreams", params={"persona": "areza"}).json() == []


@pytest.mark.parametrize(
    ("body", "params", "status", "reason"),
    [
        (b"{broken", {"filename": "x.json"}, 400, "not valid JSON"),
        (b"x" * 5_000_001, {}, 413, "at most 5 MB"),
        (DREAMS_JSON, {"persona": "nobody"}, 404, "not an AI persona"),
    ],
)
def test_bad_imports_are_4xx_with_a_reason(client: TestClient, body: bytes, params: dict, status: int, reason: str):
    response = client.post("/api/dreams/import", params=params, content=body)
    assert response.status_code == status and reason in response.json()["detail"]
    assert client.get("/api/dreams").json() == []


def test_journal_markdown_import_by_content_type(client: TestClient) -> None:
    response = client.post(
        "/api/journal/import", content=JOURNAL_MD, headers={"content-type": "text/markdown; charset=utf-8"}
    )
    assert response.status_code == 201 and response.json()["imported"] == 2
    found = client.get("/api/journal/search", params={"q": "tomatoes"}).json()
    assert [e["title"] for e in found] == ["A quiet Sunday"] and found[0]["insights"] == [
        "rest matters",
        "the garden needs water",
    ]


def test_journal_trigger_writes_a_reflection(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    runtime().backend = ScriptedBackend(_answers)
    nothing = client.post("/api/journal/trigger", json={"persona": "azera"})
    assert nothing.status_code == 422 and "nothing to reflect on" in nothing.json()["detail"]
    _talk("azera", "My grandmother's boat is called Marigold.")
    written = client.post("/api/journal/trigger", json={"persona": "azera"})
    assert written.status_code == 201
    entry = written.json()
    assert entry["mood"] == "thoughtful" and entry["kind"] == "reflection" and entry["source"] == "manual"
    assert client.get("/api/journal").json()[0]["id"] == entry["id"]
    runtime().backend = ScriptedBackend(fail=True)
    failed = client.post("/api/journal/trigger", json={"persona": "azera"})
    assert failed.status_code == 503 and "model failed" in failed.json()["detail"]


def test_journal_trigger_for_a_persona_with_memory_off_says_why(client: TestClient) -> None:
    from azera.db.engine import session_scope
    from azera.db.models import Persona

    with session_scope() as session:
        persona = session.get(Persona, "azera")
        persona.memory_enabled = False
        session.add(persona)
    _talk("azera", "Something worth reflecting on.")
    refused = client.post("/api/journal/trigger", json={"persona": "azera"})
    assert refused.status_code == 422 and "memory switched off" in refused.json()["detail"]


def test_media_are_served_only_from_the_media_folder(client: TestClient, data_dir) -> None:
    from azera.mind.journal_mode import media_dir

    (media_dir() / "journal").mkdir(parents=True)
    (media_dir() / "journal" / "a.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (data_dir / "secret.txt").write_text("secret")
    assert client.get("/api/media/journal/a.png").content.startswith(b"\x89PNG")
    assert client.get("/api/media/../secret.txt").status_code == 404
    assert client.get("/api/media/%2e%2e/secret.txt").status_code == 404
    assert json.loads(client.get("/api/media/journal/missing.png").content)["detail"] == "No such media file"
