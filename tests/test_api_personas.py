"""REST personas: the same documents, rules and versions as the Personas page."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from azera.api.routes import build_api
from azera.config import get_settings


@pytest.fixture
def client(prepared) -> Iterator[TestClient]:
    with TestClient(build_api()) as test_client:
        yield test_client


def _document(client: TestClient, name: str = "Captain Mira") -> str:
    template = client.get("/api/personas/template")
    assert template.status_code == 200 and template.text.startswith("---")
    return template.text.replace("id: new-persona", "id: mira").replace("name: New Persona", f"name: {name}")


def test_personas_are_created_read_updated_and_versioned(client: TestClient) -> None:
    listed = client.get("/api/personas").json()
    assert {p["id"] for p in listed} == {"azera", "areza", "protag"}
    assert [p["id"] for p in client.get("/api/personas", params={"kind": "user"}).json()] == ["protag"]
    made = client.post("/api/personas", json={"document": _document(client)})
    assert made.status_code == 201, made.text
    mira = made.json()
    assert (mira["id"], mira["name"], mira["kind"], mira["seeded"]) == ("mira", "Captain Mira", "ai", False)
    assert (get_settings().resolved_personas_dir / "mira.md").read_text().count("Captain Mira") >= 1  # its file
    assert client.post("/api/personas", json={"document": _document(client)}).status_code == 400  # id taken
    changed = client.put("/api/personas/mira", json={"document": _document(client, "Admiral Mira")})
    assert changed.json()["name"] == "Admiral Mira"
    versions = client.get("/api/personas/mira/versions").json()
    assert [v["number"] for v in versions] == [2, 1] and "Captain Mira" in versions[1]["document"]
    restored = client.post("/api/personas/mira/versions/1/restore").json()
    assert restored["name"] == "Captain Mira" and len(client.get("/api/personas/mira/versions").json()) == 3
    assert client.post("/api/personas/mira/versions/9/restore").status_code == 404
    assert client.get("/api/personas/mira").json()["name"] == "Captain Mira"


def test_bad_documents_and_built_ins_are_refused_with_reasons(client: TestClient) -> None:
    broken = client.post("/api/personas", json={"document": "---\nname: [unclosed\n---\nbody"})
    assert broken.status_code == 400 and broken.json()["detail"]
    assert client.post("/api/personas", json={"document": ""}).status_code == 422
    refused = client.delete("/api/personas/azera")
    assert refused.status_code == 400 and "confirm" in refused.json()["detail"]
    assert client.get("/api/personas/azera").status_code == 200
    assert client.delete("/api/personas/azera", params={"confirm": True}).status_code == 204
    assert client.get("/api/personas/azera").status_code == 404
    assert client.get("/api/personas/nobody").status_code == 404
    assert client.put("/api/personas/nobody", json={"document": _document(client)}).status_code == 404
