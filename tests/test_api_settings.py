"""REST settings, models (the real llama.cpp backend) and the log ring."""

import json
import logging
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from azera.api.routes import build_api
from azera.llm.catalogue import SMALL_MODEL


@pytest.fixture
def client(prepared) -> Iterator[TestClient]:
    with TestClient(build_api()) as test_client:
        yield test_client


def test_settings_are_read_and_changed_field_by_field(client: TestClient) -> None:
    assert client.get("/api/settings").json()["theme"] == "dark"
    changed = client.patch("/api/settings", json={"theme": "light", "font_size": 18})
    assert changed.status_code == 200 and (changed.json()["theme"], changed.json()["font_size"]) == ("light", 18)
    assert client.get("/api/settings").json()["send_on_enter"] is True  # untouched
    assert client.patch("/api/settings", json={"font_size": 99}).status_code == 422
    assert client.patch("/api/settings", json={"theme": "purple"}).status_code == 422
    assert client.patch("/api/settings", json={"password": "x"}).status_code == 422  # no unknown fields


def test_models_list_the_installed_and_installable_and_set_the_default(client: TestClient) -> None:
    models = client.get("/api/models").json()
    small = next(m for m in models if m["name"] == SMALL_MODEL)
    assert small["installed"] and small["backend"] == "llama.cpp" and small["size_bytes"] > 50_000_000
    assert client.put("/api/models/default", json={"name": SMALL_MODEL}).json()["default_model"] == SMALL_MODEL
    assert next(m for m in client.get("/api/models").json() if m["name"] == SMALL_MODEL)["default"]
    assert client.put("/api/models/default", json={"name": "nothing.gguf"}).status_code == 404
    assert client.delete("/api/models/nothing.gguf").status_code == 404
    with client.stream("POST", "/api/models/pull", json={"name": "no-such-model"}) as response:
        lines = [line for line in response.iter_lines() if line.startswith(("event:", "data:"))]
    assert lines[-2] == "event: error" and "no-such-model" in json.loads(lines[-1][5:])["message"]


def test_logs_come_from_the_ring_filtered_by_level(client: TestClient) -> None:
    logging.getLogger("azera.test").warning("the kettle is %s", "boiling")
    logging.getLogger("azera.test").info("a quiet line")
    warnings = client.get("/api/logs", params={"level": "warning", "limit": 50}).json()
    assert warnings[-1]["message"] == "the kettle is boiling" and warnings[-1]["logger"] == "azera.test"
    assert all(line["level"] in ("WARNING", "ERROR", "CRITICAL") for line in warnings)
    assert len(client.get("/api/logs", params={"limit": 1}).json()) == 1
    assert client.get("/api/logs", params={"level": "chatty"}).status_code == 422
