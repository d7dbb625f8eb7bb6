"""REST export/import, character cards and SillyTavern chats: the same services, over HTTP."""

import base64
import io
import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from azera.api.routes import build_api
from tests.test_cards import _png, _v2
from tests.test_chat_import import HEADER, LINES, _jsonl


@pytest.fixture
def client(prepared) -> Iterator[TestClient]:
    with TestClient(build_api()) as test_client:
        yield test_client


def test_export_then_import_over_http(client: TestClient) -> None:
    chat_id = client.post("/api/chats", json={"title": "Kept"}).json()["id"]
    exported = client.get("/api/export")
    assert exported.status_code == 200 and exported.headers["content-type"] == "application/zip"
    client.delete(f"/api/chats/{chat_id}")
    report = client.post("/api/import", content=exported.content).json()
    assert report["added"]["chat"] == 1 and report["conflicts"] == []
    assert [c["title"] for c in client.get("/api/chats").json()] == ["Kept"]
    bad = client.post("/api/import", content=b"not a zip")
    assert bad.status_code == 400 and "not a readable zip" in bad.json()["detail"]


def test_cards_and_sillytavern_chats_over_http(client: TestClient) -> None:
    made = client.post("/api/personas/cards", params={"filename": "mira.png"}, content=_png({"chara": _v2()}))
    assert made.status_code == 201 and made.json()["name"] == "Captain Mira" and made.json()["lore"] == 2
    card = client.get(f"/api/personas/{made.json()['id']}/card")
    assert card.headers["content-type"] == "image/png"
    v3 = json.loads(base64.b64decode(Image.open(io.BytesIO(card.content)).text["ccv3"]))
    assert v3["data"]["first_mes"] == _v2()["data"]["first_mes"]
    assert client.post("/api/personas/cards", content=b"{}").status_code == 400
    assert client.get("/api/personas/nobody/card").status_code == 404

    chat = client.post("/api/chats/import", params={"persona": "areza"}, content=_jsonl(HEADER, *LINES))
    assert chat.status_code == 201 and chat.json()["messages"] == 6 and chat.json()["persona"] == "areza"
    shown = client.get(f"/api/chats/{chat.json()['id']}/messages").json()
    assert [m["branches"] for m in shown] == [1, 1, 3, 1]
    broken = client.post("/api/chats/import", content=b'{"mes": "x"}\n{broken')
    assert broken.status_code == 400 and "line 2" in broken.json()["detail"]
