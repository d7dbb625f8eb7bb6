"""Memory commands while the app runs: they go through its API with the local token, not to the locked stores."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlmodel import select

from azera.api.guard import Guard
from azera.api.routes import build_api
from azera.cli import main
from azera.config import get_settings
from azera.memory import pending
from azera.runtime import runtime
from azera.services.startup import publish_local_access


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def running_app(prepared, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The real API behind the real guard on a loopback port, published as the app publishes itself."""
    port = _free_port()
    monkeypatch.setenv("AZERA_FRONTEND_PORT", str(port))
    monkeypatch.setenv("AZERA_MEMORY_MIN_AGE_SECONDS", "0")
    get_settings.cache_clear()
    server = uvicorn.Server(uvicorn.Config(Guard(build_api()), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    publish_local_access()
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@contextlib.contextmanager
def tick_loop_indexer() -> Iterator[None]:
    """The app's tick-loop indexing stage, ticking in its own thread as the running app's loop would."""
    stop = threading.Event()

    async def ticks() -> None:
        indexer = runtime().indexer
        while not stop.is_set():
            await indexer.stage(time.monotonic())
            await asyncio.sleep(0.1)
        await indexer.wait()

    thread = threading.Thread(target=asyncio.run, args=(ticks(),), daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)


def test_memory_commands_go_through_the_running_app(
    running_app: str, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pending, "GRACE_SECONDS", 0.0)  # the memory this test adds is seconds old
    assert main(["memory", "add", "The spare key is under the blue flowerpot.", "--persona", "azera"]) == 0
    added = capsys.readouterr()
    assert f"through the running app at {running_app}" in added.err and "added " in added.out
    assert main(["memory", "search", "where is the spare key", "--persona", "azera"]) == 0
    found = capsys.readouterr()
    assert "1. [" in found.out and "blue flowerpot" in found.out and "lexical" in found.out
    with tick_loop_indexer():
        assert main(["memory", "reindex"]) == 0
    rebuilt = capsys.readouterr()
    assert "indexed 1 of 1 (100 %)" in rebuilt.err and "reindexed 1 memories from SQL" in rebuilt.out
    assert main(["memory", "search", "where is the spare key", "--persona", "azera"]) == 0
    assert "blue flowerpot" in capsys.readouterr().out  # found again in the rebuilt indexes
    assert main(["memory", "search", "x", "--persona", "nobody"]) == 2
    assert "Unknown persona 'nobody'" in capsys.readouterr().err


def test_the_local_token_is_only_in_the_data_folder(running_app: str) -> None:
    token_file = get_settings().data_dir / "cli-token"
    assert oct(token_file.stat().st_mode & 0o777) == "0o600"
    token = token_file.read_text()
    assert httpx.get(running_app + "/api/journal", headers={"authorization": f"Bearer {token}"}).status_code == 200
    publish_local_access()  # the next start of the app: a new token, the old one revoked
    from azera.api.guard import credentials

    credentials.clear()
    assert httpx.get(running_app + "/api/journal", headers={"authorization": f"Bearer {token}"}).status_code == 401


def test_memory_routes_answer_with_reasons(prepared) -> None:
    with TestClient(build_api()) as client:
        added = client.post("/api/memories", json={"text": "Ingrid moved to Trondheim.", "persona": "azera"})
        assert added.status_code == 201 and added.json()["indexed"]
        assert client.post("/api/memories", json={"text": "x", "persona": "nobody"}).status_code == 404
        assert client.post("/api/memories", json={"text": "x", "kind": "gossip"}).status_code == 400
        assert client.get("/api/memories/search", params={"q": "  "}).status_code == 400


def test_chat_dream_and_reflect_go_through_the_running_app(running_app: str, capsys: pytest.CaptureFixture) -> None:
    from azera.db.engine import session_scope
    from azera.db.models import Chat
    from tests.scripted import ScriptedBackend

    runtime().backend = ScriptedBackend("The tide turns at six tonight.")  # the app's model, not one of its own
    assert main(["chat", "When does the tide turn?", "--persona", "azera"]) == 0
    out = capsys.readouterr()
    assert f"through the running app at {running_app}" in out.err
    assert out.out.strip() == "The tide turns at six tonight." and "· complete]" in out.err
    with session_scope() as session:  # the exchange is a chat the UI lists
        assert session.exec(select(Chat).where(Chat.title == "When does the tide turn?")).first() is not None
    assert main(["chat", "hello", "--chat", "0" * 32]) == 2
    assert "Unknown chat" in capsys.readouterr().err
    # dream and reflect ask the app too; what it cannot write it says why, in one sentence
    for command in ("dream", "reflect"):
        code = main([command, "--persona", "azera"])
        err = capsys.readouterr().err
        assert f"through the running app at {running_app}" in err and "Traceback" not in err
        assert code in (0, 1)
