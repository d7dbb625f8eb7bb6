"""``bench api`` against the running app: it measures what it says (figures reported, never asserted here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from azera.bench.api import bench_api
from azera.config import get_settings

pytestmark = pytest.mark.browser


def test_bench_api_lists_chats_and_times_first_tokens_by_each_way_in(
    app_server, app_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZERA_DATA_DIR", str(app_data))  # the chats it lists are made in the app's database
    get_settings.cache_clear()
    url, _ = app_server
    report = bench_api(seconds=2, clients=2, runs=1, max_tokens=8, url=url, data=str(app_data), pause=1)
    listing = report["list_chats"]
    assert listing["n"] > 2 and listing["errors"] == 0 and listing["requests_per_second"] > 0, report
    first = report["first_token_ms"]
    assert first["v1_stream"]["n"] == 1 and first["v1_stream"]["p50_ms"] > 0, report
    assert first["api_sse"]["n"] == 1 and first["api_sse"]["p50_ms"] > 0, report
    assert "in_process" not in first  # the CLI's own way needs the app stopped (its vector store is locked)
