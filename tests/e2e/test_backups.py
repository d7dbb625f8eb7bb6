"""Backups in the browser: back up now, then restore after the confirmation; what came after is gone."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def _titles(app_data: Path) -> set[str]:
    with sqlite3.connect(f"file:{app_data / 'azera.db'}?mode=ro", uri=True, timeout=10) as db:
        return {row[0] for row in db.execute("SELECT title FROM chat")}


def test_back_up_now_then_restore_it(page: Page, app_url: str, app_data: Path) -> None:
    page.goto(app_url + "/settings")
    rows = page.locator(".backup-row")
    before = rows.count()
    page.click("#backup-now")
    expect(rows).to_have_count(before + 1, timeout=30_000)
    expect(rows.first).to_contain_text("manual")
    kept = _titles(app_data)

    with sqlite3.connect(app_data / "azera.db", timeout=10) as db:  # something made after the backup
        group = db.execute("SELECT id FROM chatgroup WHERE name = 'General'").fetchone()[0]
        db.execute(
            "INSERT INTO chat (id, title, ai_persona_id, user_persona_id, group_id, model_override, "
            "sampling_override, journal_mode, created_at, updated_at) VALUES "
            "(?, 'Made after the backup', 'azera', 'protag', ?, '', '{}', 0, datetime('now'), datetime('now'))",
            ("f" * 32, group),
        )
    assert "Made after the backup" in _titles(app_data)

    rows.first.locator(".restore").click()
    expect(page.get_by_text("Restore this backup?")).to_be_visible()
    page.click("#confirm-restore")
    expect(rows.first).to_contain_text("before restoring", timeout=60_000)  # what was replaced is kept
    assert _titles(app_data) == kept  # the chat made after the backup is gone, the rest is back
    with sqlite3.connect(f"file:{app_data / 'azera.db'}?mode=ro", uri=True) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_export_everything_and_import_a_sillytavern_chat(
    page: Page, app_url: str, app_data: Path, tmp_path: Path
) -> None:
    import zipfile

    from tests.test_chat_import import HEADER, LINES, _jsonl

    page.goto(app_url + "/settings")
    with page.expect_download() as download:
        page.click("#export")
    with zipfile.ZipFile(download.value.path()) as archive:
        names = set(archive.namelist())
    assert {"manifest.json", "tables/chat.json", "personas/azera.md"} <= names

    chat = tmp_path / "mira-e2e.jsonl"
    chat.write_bytes(_jsonl(HEADER, *LINES))
    page.locator("#chat-upload input[type=file]").set_input_files(str(chat))
    expect(page.get_by_text("Imported 6 messages")).to_be_visible(timeout=30_000)
    assert "Mira (imported)" in _titles(app_data)
