"""Export everything, import it into a fresh install (the same data, recalled again) or merge it into one."""

import json
import zipfile
from pathlib import Path

import pytest
from sqlmodel import select

from azera.cli import main
from azera.config import get_settings
from azera.db.engine import dispose_engines, session_scope
from azera.errors import ServiceError
from azera.memory.registry import build_memory_service
from azera.services import chats
from azera.services import messages as svc
from azera.services.startup import prepare
from azera.services.transfer import TABLES, export_all, import_all


def _snapshot() -> dict[str, list[dict]]:
    """Every exported table's rows as JSON, sorted (indexing state left out: it is redone on import)."""
    with session_scope() as session:
        tables = {}
        for model in TABLES:
            rows = [json.loads(row.model_dump_json()) for row in session.exec(select(model))]
            for row in rows:
                row.pop("indexed_at", None)
            tables[model.__tablename__] = sorted(rows, key=lambda row: json.dumps(row, sort_keys=True))
        return tables


def _fill(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZERA_MEMORY_MIN_AGE_SECONDS", "0")
    get_settings.cache_clear()
    with session_scope() as session:
        chat = chats.create_chat(session, ai_persona_id="azera", title="Sister news")
        user = svc.add_user_message(session, chat.id, "My sister Ingrid moved to Trondheim.")
        reply = svc.start_reply(session, chat.id, user.id, "m")
        svc.save_reply(session, reply.id, content="Trondheim! Lovely fjords.", thinking="", status="complete")
        svc.edit_user_message(session, user.id, "My sister Ingrid moved to Bergen.")  # a second branch
        chats.create_tag(session, "family")
        chats.set_chat_tags(session, chat.id, ["family", "personal"])
    service = build_memory_service(get_settings())
    with session_scope() as session:
        memory = service.record(session, text="Ingrid, my sister, lives in Trondheim by the fjord.", persona_id="azera")
    service.index([memory.id])
    media = get_settings().data_dir / "media" / "2026" / "page.png"
    media.parent.mkdir(parents=True)
    media.write_bytes(b"\x89PNG\r\n\x1a\n fake image bytes")


def _fresh_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    dispose_engines()
    monkeypatch.setenv("AZERA_DATA_DIR", str(tmp_path / name))
    get_settings.cache_clear()
    from azera.runtime import set_runtime

    set_runtime(None)
    prepare()


def test_export_then_import_into_a_fresh_install_gives_the_same_data(
    prepared, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill(monkeypatch)
    before = _snapshot()
    archive = tmp_path / "azera-export.zip"
    counts = export_all(archive)
    assert counts["chatmessage"] == 3 and counts["memory"] == 1 and counts["chattag"] == 2

    _fresh_install(tmp_path, monkeypatch, "fresh")
    report, memories = import_all(archive)
    assert report.conflicts == [] and len(memories) == 1 and report.files >= 1
    assert _snapshot() == before  # every table, every row, the same
    assert (get_settings().data_dir / "media" / "2026" / "page.png").read_bytes().startswith(b"\x89PNG")
    service = build_memory_service(get_settings())
    service.index_all_pending()
    found = service.retrieve("Where does my sister Ingrid live?", persona_id="azera")
    assert found and "Trondheim" in found[0].text  # recalled again after re-indexing

    again, memories = import_all(archive)  # the same archive twice: nothing new, nothing reported
    assert again.added == {} and again.conflicts == [] and memories == []


def test_a_merge_keeps_what_is_here_and_reports_what_differs(
    prepared, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill(monkeypatch)
    archive = tmp_path / "azera-export.zip"
    export_all(archive)
    with session_scope() as session:
        [chat] = chats.list_chats(session)
        chats.rename_chat(session, chat.id, "Renamed here")
        chats.create_chat(session, ai_persona_id="areza", title="Only here")
    report, _ = import_all(archive)
    assert any(c.startswith(f"chat {chat.id}: already here with other content") for c in report.conflicts)
    with session_scope() as session:
        assert {c.title for c in chats.list_chats(session)} == {"Renamed here", "Only here"}  # nothing overwritten


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ({"../../evil.txt": b"x"}, "points outside the archive"),
        ({"notes.txt": b"x"}, "not an Azera export"),
        ({"manifest.json": b"{broken"}, "manifest.json is not valid JSON"),
        ({"manifest.json": json.dumps({"format": 99}).encode()}, "format 99"),
        ({"bomb.bin": b"\0" * 5_000_000}, "zip bomb"),
    ],
)
def test_bad_archives_are_refused_whole(prepared, tmp_path: Path, entries: dict, message: str) -> None:
    archive = tmp_path / "bad.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as writing:
        for name, data in entries.items():
            writing.writestr(name, data)
    with pytest.raises(ServiceError, match=message):
        import_all(archive)


def test_a_cut_archive_or_a_bad_row_imports_nothing(prepared, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fill(monkeypatch)
    archive = tmp_path / "azera-export.zip"
    export_all(archive)
    cut = tmp_path / "cut.zip"
    cut.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    with pytest.raises(ServiceError, match=r"cut\.zip"):
        import_all(cut)
    bad = tmp_path / "bad-row.zip"
    with zipfile.ZipFile(archive) as source, zipfile.ZipFile(bad, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "tables/dream.json":
                data = json.dumps([{"id": "d" * 32, "persona_id": "azera", "created_at": "not a date"}]).encode()
            target.writestr(item, data)
    _fresh_install(tmp_path, monkeypatch, "fresh")
    with pytest.raises(ServiceError, match=r"tables/dream\.json, row 1"):
        import_all(bad)
    with session_scope() as session:
        assert chats.list_chats(session) == []  # all or nothing


def test_the_export_and_import_commands(prepared, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "everything.zip"
    assert main(["export", "--out", str(out)]) == 0 and out.is_file()
    assert "exported to" in capsys.readouterr().out
    assert main(["import", str(out)]) == 0 and "rows already here" in capsys.readouterr().out
    assert main(["import", str(tmp_path / "missing.zip")]) == 2 and "missing.zip" in capsys.readouterr().err
