"""``bench load`` against the running app: many sessions' events answered while a reply streams.

Timings are reported by the benchmark, never asserted here: this checks that the benchmark measures
what it says (every round trip answered, none lost, the reply streamed meanwhile).
"""

from __future__ import annotations

import sqlite3
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
    with sqlite3.connect(f"file:{app_data / 'azera.db'}?mode=ro", uri=True) as db:
        [chat_id] = report["chats"]  # the reply it asked for was written (complete, or still streaming)
        written = db.execute(
            "SELECT content FROM chatmessage WHERE chat_id = ? AND role = 'assistant'", (chat_id,)
        ).fetchone()
    assert written and written[0]
