"""Persona records: create, edit, delete, versions, and sync with the files on disk."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session, col, select

from azera.db.models import Persona, PersonaVersion, utcnow
from azera.errors import NotFoundError, ServiceError
from azera.services.persona_files import (
    PersonaDocument,
    PersonaFileError,
    parse_persona,
    read_persona_file,
    render_persona,
)

log = logging.getLogger(__name__)
TRASH_FOLDER = ".trash"


def document_of(persona: Persona) -> PersonaDocument:
    """The document form of a persona record."""
    return PersonaDocument(
        id=persona.id,
        name=persona.name,
        kind=persona.kind,  # type: ignore[arg-type]
        emoji=persona.emoji,
        color=persona.color,
        model=persona.model,
        temperature=persona.temperature,
        sampling=dict(persona.sampling or {}),
        voice=persona.voice,
        image_style=persona.image_style,
        memory=persona.memory_enabled,
        body=persona.body,
    )


def _apply(persona: Persona, document: PersonaDocument) -> None:
    persona.name = document.name
    persona.kind = document.kind
    persona.emoji = document.emoji
    persona.color = document.color
    persona.model = document.model
    persona.temperature = document.temperature
    persona.sampling = dict(document.sampling)
    persona.voice = document.voice
    persona.image_style = document.image_style
    persona.memory_enabled = document.memory
    persona.body = document.body
    persona.updated_at = utcnow()


def list_personas(session: Session, *, kind: str | None = None) -> list[Persona]:
    """Personas that are not deleted, AI first, then by name."""
    query = select(Persona).where(col(Persona.deleted_at).is_(None))
    if kind:
        query = query.where(Persona.kind == kind)
    return list(session.exec(query.order_by(Persona.kind, Persona.name)))


def get_persona(session: Session, persona_id: str) -> Persona:
    """A persona by id (deleted ones are not found)."""
    persona = session.get(Persona, persona_id)
    if persona is None or persona.deleted_at is not None:
        raise NotFoundError(f"Unknown persona '{persona_id}'")
    return persona


def _check_name_free(session: Session, name: str, persona_id: str) -> None:
    clash = session.exec(
        select(Persona).where(
            func.lower(Persona.name) == name.lower(),
            Persona.id != persona_id,
            col(Persona.deleted_at).is_(None),
        )
    ).first()
    if clash:
        raise ServiceError(f"The name '{name}' is already used by persona '{clash.id}'")


def _snapshot(session: Session, persona_id: str, document_text: str, note: str) -> PersonaVersion | None:
    """Store a version unless it equals the newest one."""
    newest = _newest_version(session, persona_id)
    if newest and newest.document == document_text:
        return None
    version = PersonaVersion(
        persona_id=persona_id, number=(newest.number + 1) if newest else 1, document=document_text, note=note
    )
    session.add(version)
    session.flush()
    return version


def _file_path(folder: Path, persona_id: str) -> Path:
    return folder / f"{persona_id}.md"


def _newest_version(session: Session, persona_id: str) -> PersonaVersion | None:
    return session.exec(
        select(PersonaVersion)
        .where(PersonaVersion.persona_id == persona_id)
        .order_by(col(PersonaVersion.number).desc())
    ).first()


def _keep_hand_edit(session: Session, folder: Path, persona_id: str) -> None:
    """If the file on disk was edited by hand since the last save, keep its text as a version."""
    path = _file_path(folder, persona_id)
    newest = _newest_version(session, persona_id)
    if path.exists() and newest is not None:
        on_disk = path.read_text(encoding="utf-8", errors="replace")
        if on_disk != newest.document:
            _snapshot(session, persona_id, on_disk, "hand edit on disk, kept before overwrite")


def _write_file(folder: Path, persona: Persona) -> None:
    """Write the persona's file atomically (callers keep hand edits first)."""
    path = _file_path(folder, persona.id)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(render_persona(document_of(persona)), encoding="utf-8")
    tmp.replace(path)


def create_persona(session: Session, folder: Path, text: str, *, seeded: bool = False) -> Persona:
    """Create a persona from a markdown document and write its file."""
    document = parse_persona(text)
    existing = session.get(Persona, document.id)
    if existing is not None and existing.deleted_at is None:
        raise ServiceError(f"A persona with id '{document.id}' already exists")
    _check_name_free(session, document.name, document.id)
    persona = existing or Persona(id=document.id, name=document.name, seeded=seeded)
    persona.deleted_at = None
    _apply(persona, document)
    session.add(persona)
    session.flush()
    _snapshot(session, persona.id, render_persona(document), "created")
    _write_file(folder, persona)
    return persona


def save_persona(session: Session, folder: Path, persona_id: str, text: str, note: str = "edited") -> Persona:
    """Replace a persona's content with ``text``; the id cannot change."""
    persona = get_persona(session, persona_id)
    document = parse_persona(text)
    if document.id != persona_id:
        document = document.model_copy(update={"id": persona_id})
    _check_name_free(session, document.name, persona_id)
    _keep_hand_edit(session, folder, persona_id)
    _apply(persona, document)
    session.add(persona)
    _snapshot(session, persona_id, render_persona(document), note)
    _write_file(folder, persona)
    return persona


def delete_persona(session: Session, folder: Path, persona_id: str, *, confirm: bool = False) -> None:
    """Soft-delete a persona; its file moves to the trash folder and its versions stay.

    Raises:
        ServiceError: ``persona_id`` is a seeded persona and ``confirm`` is false.

    """
    persona = get_persona(session, persona_id)
    if persona.seeded and not confirm:
        raise ServiceError(f"'{persona.name}' is a built-in persona: confirm to delete it")
    persona.deleted_at = utcnow()
    session.add(persona)
    path = _file_path(folder, persona_id)
    if path.exists():
        trash = folder / TRASH_FOLDER
        trash.mkdir(exist_ok=True)
        path.replace(trash / f"{persona_id}-{persona.deleted_at:%Y%m%d%H%M%S}.md")


def list_versions(session: Session, persona_id: str) -> list[PersonaVersion]:
    """A persona's versions, newest first."""
    return list(
        session.exec(
            select(PersonaVersion)
            .where(PersonaVersion.persona_id == persona_id)
            .order_by(col(PersonaVersion.number).desc())
        )
    )


def restore_version(session: Session, folder: Path, persona_id: str, number: int) -> Persona:
    """Make version ``number`` the current content (itself saved as a new version)."""
    version = session.exec(
        select(PersonaVersion).where(PersonaVersion.persona_id == persona_id, PersonaVersion.number == number)
    ).first()
    if version is None:
        raise NotFoundError(f"Persona '{persona_id}' has no version {number}")
    return save_persona(session, folder, persona_id, version.document, note=f"restored version {number}")


@dataclasses.dataclass
class SyncReport:
    """What a start-up sync did; ``problems`` name the file and field at fault."""

    seeded: list[str] = dataclasses.field(default_factory=list)
    loaded: list[str] = dataclasses.field(default_factory=list)
    updated: list[str] = dataclasses.field(default_factory=list)
    regenerated: list[str] = dataclasses.field(default_factory=list)
    problems: list[str] = dataclasses.field(default_factory=list)


def _seed(session: Session, folder: Path, seed_dir: Path, report: SyncReport) -> None:
    for path in sorted(seed_dir.glob("*.md")):
        if path.name.startswith("_"):
            continue
        try:
            document = read_persona_file(path)
        except PersonaFileError as error:
            report.problems.append(f"seed {error}")
            continue
        if session.get(Persona, document.id) is None:
            create_persona(session, folder, render_persona(document), seeded=True)
            report.seeded.append(document.id)


def _load_file(session: Session, folder: Path, path: Path, report: SyncReport) -> str | None:
    """Bring one live file into the database; returns its persona id."""
    document = read_persona_file(path)
    persona = session.get(Persona, document.id)
    if persona is None or persona.deleted_at is not None:
        _check_name_free(session, document.name, document.id)
        create_persona(session, folder, render_persona(document))
        report.loaded.append(document.id)
    elif render_persona(document) != render_persona(document_of(persona)):
        _check_name_free(session, document.name, document.id)
        _snapshot(session, persona.id, render_persona(document_of(persona)), "database before hand edit")
        _apply(persona, document)
        session.add(persona)
        _snapshot(session, persona.id, render_persona(document), f"hand edit of {path.name}")
        report.updated.append(document.id)
    return document.id


def sync_personas(session: Session, folder: Path, seed_dir: Path) -> SyncReport:
    """Seed built-in personas, load hand-made files and regenerate missing ones.

    A bad file is reported (file and field named) and skipped; the rest still load.
    """
    report = SyncReport()
    folder.mkdir(parents=True, exist_ok=True)
    _seed(session, folder, seed_dir, report)
    seen: set[str] = set()
    for path in sorted(folder.glob("*.md")):
        try:
            with session.begin_nested():
                persona_id = _load_file(session, folder, path, report)
        except ServiceError as error:
            message = str(error) if str(error).startswith(path.name) else f"{path.name}: {error}"
            report.problems.append(message)
            continue
        if persona_id:
            seen.add(persona_id)
    for persona in list_personas(session):
        if persona.id not in seen:
            _write_file(folder, persona)
            report.regenerated.append(persona.id)
    for problem in report.problems:
        log.error("persona file problem: %s", problem)
    return report
