"""Backups: consistent snapshots (even mid-write), verified before restore, retention, the tick-loop stage."""

import json
import shutil
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from azera.cli import main
from azera.config import PROJECT_ROOT, get_settings
from azera.db.engine import session_scope
from azera.errors import NotFoundError, ServiceError
from azera.services import backups, chats
from azera.services import messages as svc
from azera.services.backup_stage import BackupStage


def _chat_with(text: str) -> str:
    with session_scope() as session:
        chat = chats.create_chat(session, ai_persona_id="azera", title=text)
        svc.add_user_message(session, chat.id, text)
        return chat.id


def _titles() -> set[str]:
    with session_scope() as session:
        return {chat.title for chat in chats.list_chats(session)}


def test_a_backup_restores_what_was_there_and_keeps_what_it_replaced(prepared) -> None:
    _chat_with("Plans for the lighthouse")
    persona_file = get_settings().resolved_personas_dir / "azera.md"
    original = persona_file.read_text()
    taken = backups.create_backup()
    assert taken.counts["chat"] == 1 and taken.counts["chatmessage"] == 1 and taken.schema_revision
    manifest = json.loads((backups.backups_dir() / taken.id / "manifest.json").read_text())
    assert {"azera.db", "personas/azera.md"} <= set(manifest["files"])

    _chat_with("Something said after the backup")
    persona_file.write_text(original.replace("Azera", "Azura"))
    restored = backups.restore_backup(taken.id)
    assert restored.id == taken.id
    assert _titles() == {"Plans for the lighthouse"}
    assert persona_file.read_text() == original
    before = [b for b in backups.list_backups() if b.reason.startswith("before restoring")]
    assert len(before) == 1 and before[0].counts["chat"] == 2  # what the restore replaced is a backup too
    db = sqlite3.connect(get_settings().data_dir / "azera.db")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("SELECT count(*) FROM memory WHERE indexed_at IS NOT NULL").fetchone()[0] == 0  # re-indexed


def test_a_backup_taken_while_writes_go_on_is_consistent(prepared) -> None:
    chat_id = _chat_with("busy")
    stop = threading.Event()

    def writing() -> None:
        n = 0
        while not stop.is_set():
            with session_scope() as session:
                svc.add_user_message(session, chat_id, f"message {n}")
            n += 1

    writer = threading.Thread(target=writing)
    writer.start()
    try:
        taken = [backups.create_backup() for _ in range(3)]
    finally:
        stop.set()
        writer.join()
    for info in taken:
        assert backups.verify_backup(info.id).id == info.id
        db = sqlite3.connect(backups.backups_dir() / info.id / "azera.db")
        assert db.execute("SELECT count(*) FROM chatmessage").fetchone()[0] == info.counts["chatmessage"]
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_damaged_newer_or_half_written_backups_are_never_used(prepared) -> None:
    good = backups.create_backup()
    damaged = backups.create_backup()
    db = sqlite3.connect(backups.backups_dir() / damaged.id / "azera.db")
    db.execute("UPDATE chatgroup SET name = 'tampered'")
    db.commit()
    db.close()
    with pytest.raises(ServiceError, match=r"azera\.db does not match its checksum"):
        backups.restore_backup(damaged.id)
    newer = backups.create_backup()
    manifest_path = backups.backups_dir() / newer.id / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest_path.write_text(json.dumps({**manifest, "schema_revision": "9999"}))
    with pytest.raises(ServiceError, match="newer Azera"):
        backups.verify_backup(newer.id)
    # a backup cut by a crash: its folder has the partial name, and no manifest yet
    half = backups.backups_dir() / (backups.PARTIAL + "20261124-000000-000000")
    shutil.copytree(backups.backups_dir() / good.id, half)
    (half / "manifest.json").unlink()
    assert half.name not in {b.id for b in backups.list_backups()}
    backups.create_backup()
    assert not half.exists()  # removed by the next backup
    with pytest.raises(NotFoundError):
        backups.verify_backup("../../etc")
    assert backups.verify_backup(good.id).id == good.id


def test_retention_keeps_the_newest_and_one_a_day(prepared, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZERA_BACKUP_KEEP", "3")
    monkeypatch.setenv("AZERA_BACKUP_KEEP_DAYS", "2")
    get_settings.cache_clear()
    made = [backups.create_backup() for _ in range(6)]
    now = datetime.now(UTC)
    for n, info in enumerate(made[:3]):  # three old ones: two days ago (twice) and ten days ago
        when = now - timedelta(days=(2 if n < 2 else 10), minutes=n)
        path = backups.backups_dir() / info.id / "manifest.json"
        path.write_text(json.dumps({**json.loads(path.read_text()), "created_at": when.isoformat()}))
    removed = backups.prune_backups(now)
    kept = {b.id for b in backups.list_backups()}
    assert {b.id for b in made[3:]} <= kept  # the newest three
    assert made[0].id in kept and made[1].id not in kept  # the newest of two days ago
    assert made[2].id not in kept and set(removed) == {made[1].id, made[2].id}


async def test_the_stage_backs_up_only_when_something_changed(prepared, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZERA_BACKUP_INTERVAL_MINUTES", "5")
    get_settings.cache_clear()
    stage = BackupStage()
    start = stage.last_at
    await stage.stage(start + 60)  # not due yet
    await stage.wait()
    assert backups.list_backups() == []
    await stage.stage(start + 301)
    await stage.wait()
    assert len(backups.list_backups()) == 1
    await stage.stage(start + 602)  # nothing changed since
    await stage.wait()
    assert len(backups.list_backups()) == 1
    _chat_with("news")
    await stage.stage(start + 903)
    await stage.wait()
    assert len(backups.list_backups()) == 2 and stage.problem == ""


def test_the_backup_commands(prepared, capsys: pytest.CaptureFixture) -> None:
    assert main(["backup", "create"]) == 0
    backup_id = capsys.readouterr().out.split()[1].rstrip(":")
    assert main(["backup", "list"]) == 0 and backup_id in capsys.readouterr().out
    assert main(["backup", "verify", backup_id]) == 0 and "is whole" in capsys.readouterr().out
    assert main(["backup", "restore"]) == 2 and "needs a backup id" in capsys.readouterr().err
    assert main(["backup", "restore", "20990101-000000-000000"]) == 2 and "No backup" in capsys.readouterr().err
    assert main(["backup", "restore", backup_id]) == 0 and "restored" in capsys.readouterr().out
    assert Path(get_settings().data_dir / "backups").is_dir()


def test_kill_9_during_a_backup_leaves_the_earlier_ones_valid_and_no_half_one(
    prepared, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    earlier = backups.create_backup()
    big = get_settings().data_dir / "media" / "big.bin"  # a backup that takes a while to copy
    big.parent.mkdir(parents=True, exist_ok=True)
    big.write_bytes(os.urandom(1 << 20) * 100)
    child = subprocess.Popen(
        [sys.executable, "-c", "from azera.services.backups import create_backup; create_backup('doomed')"],
        env={**os.environ, "AZERA_DATA_DIR": str(get_settings().data_dir), "PYTHONPATH": str(PROJECT_ROOT)},
    )
    deadline = time.monotonic() + 60
    while not list(backups.backups_dir().glob(backups.PARTIAL + "*")) and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert list(backups.backups_dir().glob(backups.PARTIAL + "*"))  # it was cut mid-way
    assert [b.id for b in backups.list_backups()] == [earlier.id]  # no half backup listed
    assert backups.verify_backup(earlier.id).id == earlier.id


@pytest.mark.skipif(shutil.which("pg_dump") is None, reason="PostgreSQL client tools are not installed")
def test_on_postgresql_a_backup_is_a_pg_dump_and_restore_says_how(data_dir: Path, monkeypatch) -> None:
    from tests.postgres import find_bin_dir, running_postgres

    if find_bin_dir() is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    from azera.db import engine as db_engine
    from azera.services.startup import prepare

    with running_postgres() as url:
        monkeypatch.setenv("AZERA_DATABASE_URL", url)
        get_settings.cache_clear()
        prepare()
        _chat_with("Kept on PostgreSQL")
        taken = backups.create_backup()
        dump = (backups.backups_dir() / taken.id / "azera.sql").read_text()
        assert taken.database == "postgresql" and taken.counts["chat"] == 1
        assert "CREATE TABLE" in dump and "Kept on PostgreSQL" in dump
        assert backups.verify_backup(taken.id).id == taken.id
        with pytest.raises(ServiceError, match=r"load the backup's azera\.sql with psql"):
            backups.restore_backup(taken.id)
        db_engine.dispose_engines()
