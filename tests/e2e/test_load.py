"""``bench load`` against the running app: many sessions' events answered while a reply streams.

Timings are reported by the benchmark, never asserted here: this checks that the benchmark measures
what it says (every round trip answered, none lost, the reply streamed meanwhile).
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from azera.bench.load import bench_load
from azera.config import get_settings

pytestmark = pytest.mark.browser


def test_bench_load_sessions_are_answered_while_a_reply_streams(
    app_server, app_data: Path, owner_cookie: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZERA_DATA_DIR", str(app_data))  # the chats it makes go to the app's database
    get_settings.cache_clear()
    url, supervisor = app_server
    report = bench_load(sessions=6, replies=1, seconds=4, url=url, cookie=owner_cookie, pid=supervisor.pid)
    for phase in ("idle", "while_streaming", "idle_again"):
        assert report[phase]["n"] >= 6 and report[phase]["errors"] == 0, report
        assert 0 < report[phase]["p50_ms"] <= report[phase]["p99_ms"]
    assert report["rss_mb"]["start"] > 0
    [chat_id] = report["chats"]
    deadline = time.monotonic() + 240  # the reply it asked for is written to its end (the next tests count rows)
    while time.monotonic() < deadline:
        with sqlite3.connect(f"file:{app_data / 'azera.db'}?mode=ro", uri=True) as db:
            row = db.execute(
                "SELECT status, content FROM chatmessage WHERE chat_id = ? AND role = 'assistant'", (chat_id,)
            ).fetchone()
        if row and row[0] != "streaming":
            break
        time.sleep(1)
    assert row and row[0] in ("complete", "repeated") and row[1], row
    time.sleep(5)  # its mood call and memory indexing settle before the next test
