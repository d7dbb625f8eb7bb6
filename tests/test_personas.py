from pathlib import Path

import pytest
from sqlmodel import Session

from azera.config import SEED_PERSONAS_DIR
from azera.errors import NotFoundError, ServiceError
from azera.services import personas as svc
from azera.services.persona_files import parse_persona


def test_startup_seeds_the_three_personas_with_files(prepared, session: Session, personas_dir: Path) -> None:
    assert sorted(prepared.seeded) == ["areza", "azera", "protag"]
    by_id = {p.id: p for p in svc.list_personas(session)}
    assert by_id["azera"].kind == "ai" and "Architect" in by_id["azera"].body
    assert by_id["areza"].kind == "ai" and "Storyteller" in by_id["areza"].body
    assert by_id["protag"].kind == "user"
    assert {path.name for path in personas_dir.glob("*.md")} == {"azera.md", "areza.md", "protag.md"}


def test_missing_file_is_regenerated_from_the_database(prepared, session: Session, personas_dir: Path) -> None:
    (personas_dir / "azera.md").unlink()
    report = svc.sync_personas(session, personas_dir, SEED_PERSONAS_DIR)
    assert report.regenerated == ["azera"]
    assert parse_persona((personas_dir / "azera.md").read_text()).name == "Azera"


def test_hand_edit_on_disk_is_loaded_and_the_old_text_kept(prepared, session: Session, personas_dir: Path) -> None:
    path = personas_dir / "areza.md"
    before = path.read_text()
    path.write_text(before.replace("temperature: 0.9", "temperature: 1.1"))
    report = svc.sync_personas(session, personas_dir, SEED_PERSONAS_DIR)
    assert report.updated == ["areza"]
    assert svc.get_persona(session, "areza").temperature == 1.1
    assert any(v.document == before for v in svc.list_versions(session, "areza"))


def test_bad_files_are_reported_and_the_rest_still_load(prepared, session: Session, personas_dir: Path) -> None:
    (personas_dir / "broken.md").write_text("---\nname: [oops\n---\nbody")
    (personas_dir / "nameless.md").write_text("---\nkind: ai\n---\nbody")
    (personas_dir / "twin.md").write_text("---\nid: twin\nname: Azera\n---\nA second Azera")
    (personas_dir / "fresh.md").write_text("---\nname: Fresh\n---\nNew here")
    report = svc.sync_personas(session, personas_dir, SEED_PERSONAS_DIR)
    problems = "\n".join(report.problems)
    assert "broken.md: the YAML front matter is malformed" in problems
    assert "nameless.md: field 'name' is missing" in problems
    assert "twin.md: The name 'Azera' is already used by persona 'azera'" in problems
    assert report.loaded == ["fresh"]
    assert {p.id for p in svc.list_personas(session)} == {"areza", "azera", "protag", "fresh"}


def test_save_keeps_every_version_and_restore_brings_one_back(session: Session, personas_dir: Path) -> None:
    original = (personas_dir / "azera.md").read_text()
    svc.save_persona(session, personas_dir, "azera", original.replace("The Architect", "The Engineer"))
    assert "The Engineer" in (personas_dir / "azera.md").read_text()
    versions = svc.list_versions(session, "azera")
    assert [v.number for v in versions] == [2, 1]
    svc.restore_version(session, personas_dir, "azera", 1)
    assert "The Architect" in svc.get_persona(session, "azera").body
    assert (personas_dir / "azera.md").read_text() == original
    assert len(svc.list_versions(session, "azera")) == 3


def test_saving_never_overwrites_a_hand_edit_without_keeping_it(session: Session, personas_dir: Path) -> None:
    path = personas_dir / "azera.md"
    hand_edit = path.read_text() + "\nA line I typed in my editor.\n"
    path.write_text(hand_edit)
    svc.save_persona(session, personas_dir, "azera", hand_edit.replace("ISTJ", "INTJ"))
    kept = [v.document for v in svc.list_versions(session, "azera")]
    assert hand_edit in kept


def test_create_from_template_and_name_clash(session: Session, personas_dir: Path) -> None:
    template = (SEED_PERSONAS_DIR / "_template.md").read_text()
    created = svc.create_persona(
        session, personas_dir, template.replace("new-persona", "muse").replace("New Persona", "Muse")
    )
    assert created.id == "muse" and (personas_dir / "muse.md").exists()
    with pytest.raises(ServiceError, match="already used"):
        svc.create_persona(session, personas_dir, "---\nid: other\nname: muse\n---\nx")
    with pytest.raises(ServiceError, match="already exists"):
        svc.create_persona(session, personas_dir, "---\nid: muse\nname: Different\n---\nx")


def test_deleting_a_seeded_persona_needs_confirmation(session: Session, personas_dir: Path) -> None:
    with pytest.raises(ServiceError, match="confirm"):
        svc.delete_persona(session, personas_dir, "areza")
    svc.delete_persona(session, personas_dir, "areza", confirm=True)
    assert "areza" not in {p.id for p in svc.list_personas(session)}
    assert not (personas_dir / "areza.md").exists()
    assert list((personas_dir / ".trash").glob("areza-*.md"))
    assert svc.list_versions(session, "areza")  # history is kept
    with pytest.raises(NotFoundError):
        svc.get_persona(session, "areza")


def test_deleted_seed_is_not_resurrected_on_restart(session: Session, personas_dir: Path) -> None:
    svc.delete_persona(session, personas_dir, "areza", confirm=True)
    report = svc.sync_personas(session, personas_dir, SEED_PERSONAS_DIR)
    assert "areza" not in report.seeded
    assert "areza" not in {p.id for p in svc.list_personas(session)}


def test_unknown_persona_and_version(session: Session, personas_dir: Path) -> None:
    with pytest.raises(NotFoundError, match="Unknown persona 'ghost'"):
        svc.save_persona(session, personas_dir, "ghost", "---\nname: Ghost\n---\n")
    with pytest.raises(NotFoundError, match="no version 99"):
        svc.restore_version(session, personas_dir, "azera", 99)
