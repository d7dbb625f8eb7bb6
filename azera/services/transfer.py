"""Export everything to one archive and import it again: your data, in a form you can take elsewhere.

The archive is a zip: ``manifest.json`` (format, app version, schema revision, rows per table),
``tables/<table>.json`` (every row of every table as JSON, ids kept), ``personas/<id>.md`` (the persona
files) and ``media/…`` (journal images). Sessions and API tokens are not exported: they belong to an
install, not to your data.

Import checks the whole archive first (entry names, sizes, a known format and schema) and writes in one
transaction. Into a fresh install (no chat, memory, dream or journal entry yet) it gives the same personas,
chats, branches, memories, dreams, journal and mental state. Into one with data it merges: a row whose id
is new is added, one already there with the same content is skipped, and one with the same id and other
content is reported and left as it is (rows that point at such a row are skipped and reported too).
Imported memories are indexed again in the background.
"""

from __future__ import annotations

import dataclasses
import json
import zipfile
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, SQLModel, select

from azera.config import get_settings
from azera.db.engine import session_scope
from azera.db.models import (
    Chat,
    ChatGroup,
    ChatMessage,
    ChatTag,
    Dream,
    GeneratedImage,
    JournalDraft,
    JournalEntry,
    Memory,
    MentalStateRow,
    Persona,
    PersonaVersion,
    SettingRow,
    Tag,
    VoiceSample,
)
from azera.errors import ServiceError
from azera.services.backups import head_revision
from azera.services.chats import default_group

FORMAT = 1
# Parents before children, so every row's references exist when it is added.
TABLES: tuple[type[SQLModel], ...] = (
    Persona,
    PersonaVersion,
    ChatGroup,
    Tag,
    Chat,
    ChatTag,
    ChatMessage,
    Memory,
    Dream,
    JournalEntry,
    JournalDraft,
    SettingRow,
    GeneratedImage,
    VoiceSample,
    MentalStateRow,
)
# Which columns point at which table (a row whose parent was a conflict is skipped).
REFERENCES: dict[str, dict[str, str]] = {
    "personaversion": {"persona_id": "persona"},
    "chat": {"ai_persona_id": "persona", "user_persona_id": "persona"},  # a refused group: "General" instead
    "chattag": {"chat_id": "chat", "tag_id": "tag"},
    "chatmessage": {"chat_id": "chat"},
    "memory": {"persona_id": "persona", "chat_id": "chat"},
    "dream": {"persona_id": "persona"},
    "journalentry": {"persona_id": "persona"},
    "journaldraft": {"chat_id": "chat"},
    "mentalstate": {"persona_id": "persona"},
}
MAX_ENTRIES = 100_000
MAX_TOTAL_BYTES = 2_000_000_000  # uncompressed
MAX_RATIO = 200  # an entry expanding more than this is a zip bomb


@dataclasses.dataclass
class TransferReport:
    """What an import did."""

    added: dict[str, int] = dataclasses.field(default_factory=dict)
    unchanged: dict[str, int] = dataclasses.field(default_factory=dict)
    conflicts: list[str] = dataclasses.field(default_factory=list)  # "table id: why", for the user to look at
    files: int = 0
    kept_personas: set[str] = dataclasses.field(default_factory=set)  # ids whose local version was kept


def _table(model: type[SQLModel]) -> str:
    return str(model.__tablename__)


def _keys(model: type[SQLModel]) -> list[str]:
    return [column.name for column in model.__table__.primary_key.columns]  # type: ignore[attr-defined]


def _row_json(row: SQLModel) -> dict[str, Any]:
    return json.loads(row.model_dump_json())


def export_all(target: Path) -> dict[str, int]:
    """Write the archive to ``target`` (blocking); returns rows per table."""
    settings = get_settings()
    counts: dict[str, int] = {}
    partial = target.with_name(target.name + ".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with session_scope() as session:
            for model in TABLES:
                rows = [_row_json(row) for row in session.exec(select(model))]
                counts[_table(model)] = len(rows)
                archive.writestr(f"tables/{_table(model)}.json", json.dumps(rows, ensure_ascii=False))
        for folder, prefix, pattern in (
            (settings.resolved_personas_dir, "personas", "*.md"),
            (settings.data_dir / "media", "media", "**/*"),
        ):
            for path in sorted(folder.glob(pattern)) if folder.is_dir() else []:
                if path.is_file() and not path.is_symlink():
                    archive.write(path, f"{prefix}/{path.relative_to(folder).as_posix()}")
        manifest = {
            "format": FORMAT,
            "exported_at": datetime.now().astimezone().isoformat(timespec="seconds"),
            "schema_revision": head_revision(),
            "counts": counts,
        }
        archive.writestr("manifest.json", json.dumps(manifest, indent=2))
    partial.replace(target)
    return counts


def _checked(archive: zipfile.ZipFile, name: str) -> dict[str, zipfile.ZipInfo]:
    """Every entry, after the checks that keep a hostile archive from doing harm; raises ServiceError."""
    entries = archive.infolist()
    if len(entries) > MAX_ENTRIES:
        raise ServiceError(f"{name} holds {len(entries):,} files; an Azera archive holds at most {MAX_ENTRIES:,}")
    total = 0
    found: dict[str, zipfile.ZipInfo] = {}
    for entry in entries:
        path = PurePosixPath(entry.filename)
        if entry.filename.startswith("/") or ".." in path.parts or "\\" in entry.filename or ":" in entry.filename:
            raise ServiceError(f"{name}: the entry '{entry.filename[:100]}' points outside the archive")
        total += entry.file_size
        if total > MAX_TOTAL_BYTES or entry.file_size > MAX_RATIO * max(entry.compress_size, 1_000):
            raise ServiceError(f"{name}: '{entry.filename[:100]}' expands far beyond its size (a zip bomb?)")
        found[entry.filename] = entry
    return found


def _read_json(archive: zipfile.ZipFile, entry: str, name: str) -> Any:
    try:
        return json.loads(archive.read(entry))
    except (ValueError, UnicodeDecodeError) as error:
        raise ServiceError(f"{name}: {entry} is not valid JSON ({error})") from error


def _load(archive: zipfile.ZipFile, entries: dict[str, zipfile.ZipInfo], name: str) -> dict[str, list[dict]]:
    if "manifest.json" not in entries:
        raise ServiceError(f"{name} is not an Azera export (no manifest.json)")
    manifest = _read_json(archive, "manifest.json", name)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ServiceError(f"{name}: an export in format {manifest.get('format')!r}; this Azera reads {FORMAT}")
    if manifest.get("schema_revision") != head_revision():
        raise ServiceError(
            f"{name} was exported with schema {manifest.get('schema_revision')!r}; this Azera has {head_revision()!r}:"
            " import it with the same version (or restore it as a backup, which migrates)"
        )
    tables: dict[str, list[dict]] = {}
    for model in TABLES:
        entry = f"tables/{_table(model)}.json"
        rows = _read_json(archive, entry, name) if entry in entries else []
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise ServiceError(f"{name}: {entry} is not a list of rows")
        tables[_table(model)] = rows
    return tables


def _merge(session: Session, tables: dict[str, list[dict]], report: TransferReport) -> list[str]:
    """Add the new rows; returns the ids of the memories added (to index)."""
    refused: dict[str, set[str]] = {}
    memories: list[str] = []
    for model in TABLES:
        table, keys = _table(model), _keys(model)
        for number, data in enumerate(tables[table], start=1):
            try:
                row = model.model_validate(data)
            except ValueError as error:
                raise ServiceError(f"tables/{table}.json, row {number}: {error}") from error
            key = tuple(getattr(row, k) for k in keys)
            label = f"{table} {'/'.join(map(str, key))}"
            if table == "chat" and str(data.get("group_id")) in refused.get("chatgroup", set()):
                row.group_id = default_group(session).id  # type: ignore[attr-defined]
            parents = REFERENCES.get(table, {})
            missing = [
                f"{column} {data.get(column)}"
                for column, parent in parents.items()
                if str(data.get(column)) in refused.get(parent, set())
            ]
            if missing:
                report.conflicts.append(f"{label}: skipped, it belongs to a row that was not imported ({missing[0]})")
                refused.setdefault(table, set()).add("/".join(map(str, key)))
                continue
            existing = session.get(model, key[0] if len(key) == 1 else key)
            if existing is None:
                if table == "memory":
                    row.indexed_at = None  # type: ignore[attr-defined]
                    memories.append(row.id)  # type: ignore[attr-defined]
                session.add(row)
                report.added[table] = report.added.get(table, 0) + 1
            elif _row_json(existing) == _row_json(row) or (table == "memory" and _same_memory(existing, row)):
                report.unchanged[table] = report.unchanged.get(table, 0) + 1
            else:
                report.conflicts.append(f"{label}: already here with other content, kept as it is")
                refused.setdefault(table, set()).add("/".join(map(str, key)))
                if table == "persona":
                    report.kept_personas.add(str(key[0]))
        session.flush()
    return memories


def _same_memory(here: SQLModel, there: SQLModel) -> bool:
    """A memory is the same whatever its indexing state."""
    ignore = {"indexed_at"}
    return {k: v for k, v in _row_json(here).items() if k not in ignore} == {
        k: v for k, v in _row_json(there).items() if k not in ignore
    }


def _is_fresh(session: Session) -> bool:
    """Nothing the owner made yet: no chat, memory, dream or journal entry (only the seeded personas and so on)."""
    return not any(session.exec(select(model).limit(1)).first() for model in (Chat, Memory, Dream, JournalEntry))


def _write_files(
    archive: zipfile.ZipFile, entries: dict[str, zipfile.ZipInfo], report: TransferReport, *, replace_personas: bool
) -> None:
    """Persona files (not those of a persona whose local version was kept) and media.

    Never over a file, except the seeded persona files of a fresh install.
    """
    settings = get_settings()
    for prefix, folder in (("personas/", settings.resolved_personas_dir), ("media/", settings.data_dir / "media")):
        for entry in entries:
            if not entry.startswith(prefix) or entry.endswith("/"):
                continue
            relative = entry[len(prefix) :]
            if prefix == "personas/" and Path(relative).stem in report.kept_personas:
                continue
            target = folder / relative
            data = archive.read(entry)
            if target.exists() and not (replace_personas and prefix == "personas/"):
                if target.read_bytes() != data:
                    report.conflicts.append(f"{entry}: a different file is already here, kept as it is")
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            report.files += 1


def import_all(source: Path) -> tuple[TransferReport, list[str]]:
    """Import an archive (blocking); all or nothing. Returns the report and the memory ids to index."""
    name = source.name
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as error:
        raise ServiceError(f"{name} is not a readable zip archive ({error})") from error
    with archive:
        try:
            entries = _checked(archive, name)
            tables = _load(archive, entries, name)
            report = TransferReport()
            with session_scope() as session:
                fresh = _is_fresh(session)
                if fresh:  # only what every install starts with is here: the archive's versions replace it
                    for model in reversed(TABLES):
                        session.exec(delete(model))  # type: ignore[call-overload]
                    session.flush()
                memories = _merge(session, tables, report)
            _write_files(archive, entries, report, replace_personas=fresh)
        except (zipfile.BadZipFile, EOFError) as error:
            raise ServiceError(f"{name} is damaged or cut short ({error})") from error
    return report, memories
