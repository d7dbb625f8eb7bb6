"""Backups: consistent snapshots of what is Azera's truth, verified before any restore.

A backup is a folder ``<data>/backups/<id>/`` holding the database (SQLite through its online backup API,
never a copy of the live file; on PostgreSQL a ``pg_dump`` when the tool is installed), the persona files,
the media files (journal images) and ``manifest.json``: schema revision, app version, rows per table and a
SHA-256 of every file. The indexes (vectors, words) are not backed up: they are rebuilt from SQL after a
restore. A backup is written under a ``.partial-`` name and renamed when complete, so a crash mid-backup
never leaves a half backup that looks whole (partial folders are removed at the next backup).

Retention: the newest ``AZERA_BACKUP_KEEP`` backups, plus the newest of each day for
``AZERA_BACKUP_KEEP_DAYS`` days. The tick loop's stage backs up every ``AZERA_BACKUP_INTERVAL_MINUTES``
when something changed, in a worker thread.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from azera.config import PROJECT_ROOT, get_settings
from azera.db.engine import dispose_engines, migrate
from azera.errors import NotFoundError, ServiceError
from azera.memory.service import MemoryService

log = logging.getLogger(__name__)
FORMAT = 1
PARTIAL = ".partial-"
DATABASE = "azera.db"
DUMP = "azera.sql"
MANIFEST = "manifest.json"
ID_FORMAT = "%Y%m%d-%H%M%S-%f"


@dataclasses.dataclass
class BackupInfo:
    """One backup, as its manifest describes it."""

    id: str
    created_at: str
    size_bytes: int
    schema_revision: str
    app_version: str
    database: str
    counts: dict[str, int]
    reason: str


def backups_dir() -> Path:
    """Where backups live (inside the data folder)."""
    return get_settings().data_dir / "backups"


def _sqlite_path() -> Path | None:
    url = get_settings().resolved_database_url
    return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _app_version() -> str:
    for line in (PROJECT_ROOT / "pyproject.toml").read_text().splitlines():
        if line.startswith("version"):
            return line.split("=", 1)[1].strip().strip('"')
    return "unknown"


def head_revision() -> str:
    """The newest schema revision this app knows."""
    from alembic.script import ScriptDirectory

    from azera.db.engine import alembic_config

    return ScriptDirectory.from_config(alembic_config(get_settings().resolved_database_url)).get_current_head() or ""


def _known_revisions() -> list[str]:
    from alembic.script import ScriptDirectory

    from azera.db.engine import alembic_config

    script = ScriptDirectory.from_config(alembic_config(get_settings().resolved_database_url))
    return [revision.revision for revision in script.walk_revisions()]


def _copy_database(target: Path) -> tuple[str, dict[str, int]]:
    """Snapshot the live database into ``target``; returns the file name, its schema revision and row counts."""
    source_path = _sqlite_path()
    if source_path is None:
        return _dump_postgres(target)
    source = sqlite3.connect(str(source_path), timeout=30)
    copy = sqlite3.connect(str(target / DATABASE))
    try:
        source.backup(copy)  # SQLite's online backup: a consistent snapshot while the app writes
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file (the live database runs in WAL)
        return _describe(copy)
    finally:
        copy.close()
        source.close()


def _describe(db: sqlite3.Connection) -> tuple[str, dict[str, int]]:
    tables = [
        row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    ]
    counts = {table: int(db.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]) for table in sorted(tables)}
    revision = db.execute("SELECT version_num FROM alembic_version").fetchone() if "alembic_version" in tables else None
    return (revision[0] if revision else ""), counts


def _dump_postgres(target: Path) -> tuple[str, dict[str, int]]:
    tool = shutil.which("pg_dump")
    if tool is None:
        raise ServiceError(
            "The database is PostgreSQL and pg_dump is not installed: install the PostgreSQL client tools "
            "(e.g. apt-get install postgresql-client) or back the database up with your own PostgreSQL tooling"
        )
    url = get_settings().resolved_database_url.replace("postgresql+psycopg://", "postgresql://")
    with (target / DUMP).open("wb") as out:
        done = subprocess.run([tool, "--no-owner", "--dbname", url], stdout=out, stderr=subprocess.PIPE, check=False)
    if done.returncode != 0:
        raise ServiceError(f"pg_dump failed: {done.stderr.decode(errors='replace')[-500:]}")
    from sqlalchemy import inspect, text

    from azera.db.engine import get_engine

    engine = get_engine()
    with engine.connect() as connection:
        counts = {
            table: int(connection.execute(text(f'SELECT count(*) FROM "{table}"')).scalar() or 0)
            for table in sorted(inspect(engine).get_table_names())
        }
        revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar() or ""
    return str(revision), counts


def _copy_tree(source: Path, target: Path, pattern: str = "**/*") -> None:
    if not source.is_dir():
        return
    for path in source.glob(pattern):
        if path.is_file() and not path.is_symlink():
            destination = target / path.relative_to(source)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, destination)


def create_backup(reason: str = "manual") -> BackupInfo:
    """Take a backup now (blocking: call from a thread). Partial folders of a crashed backup are removed first."""
    root = backups_dir()
    root.mkdir(parents=True, exist_ok=True)
    for stale in root.glob(PARTIAL + "*"):
        shutil.rmtree(stale, ignore_errors=True)
    moment = datetime.now(UTC)
    backup_id = moment.strftime(ID_FORMAT)
    partial = root / (PARTIAL + backup_id)
    partial.mkdir()
    try:
        revision, counts = _copy_database(partial)
        settings = get_settings()
        _copy_tree(settings.resolved_personas_dir, partial / "personas", "*.md")
        _copy_tree(settings.data_dir / "media", partial / "media")
        files = {str(path.relative_to(partial)): _sha256(path) for path in sorted(partial.rglob("*")) if path.is_file()}
        manifest = {
            "format": FORMAT,
            "id": backup_id,
            "created_at": moment.isoformat(timespec="seconds"),
            "reason": reason,
            "app_version": _app_version(),
            "schema_revision": revision,
            "database": "sqlite" if _sqlite_path() else "postgresql",
            "counts": counts,
            "files": files,
            "size_bytes": sum((partial / name).stat().st_size for name in files),
        }
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=2))
        partial.rename(root / backup_id)  # complete: only now does it count as a backup
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return _info(manifest)


def _info(manifest: dict) -> BackupInfo:
    return BackupInfo(
        id=manifest["id"],
        created_at=manifest["created_at"],
        size_bytes=int(manifest.get("size_bytes", 0)),
        schema_revision=manifest.get("schema_revision", ""),
        app_version=manifest.get("app_version", ""),
        database=manifest.get("database", "sqlite"),
        counts=dict(manifest.get("counts", {})),
        reason=manifest.get("reason", ""),
    )


def _manifest(folder: Path) -> dict:
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError) as error:
        raise ServiceError(f"Backup {folder.name}: its manifest is missing or unreadable ({error})") from error
    if (
        not isinstance(manifest, dict)
        or manifest.get("id") != folder.name
        or not isinstance(manifest.get("files"), dict)
    ):
        raise ServiceError(f"Backup {folder.name}: its manifest does not describe this backup")
    return manifest


def list_backups() -> list[BackupInfo]:
    """Complete backups, newest first (a folder without a readable manifest is not one)."""
    root = backups_dir()
    found = []
    for folder in sorted(root.iterdir(), reverse=True) if root.is_dir() else []:
        if folder.is_dir() and not folder.name.startswith(PARTIAL):
            try:
                found.append(_info(_manifest(folder)))
            except ServiceError:
                continue
    return found


def _folder(backup_id: str) -> Path:
    try:
        datetime.strptime(backup_id, ID_FORMAT)
    except ValueError as error:
        raise NotFoundError(f"No backup '{backup_id[:40]}' (ids look like 20261124-193512-123456)") from error
    folder = backups_dir() / backup_id
    if not folder.is_dir():
        raise NotFoundError(f"No backup '{backup_id}'")
    return folder


def verify_backup(backup_id: str) -> BackupInfo:
    """Check a backup before trusting it; raises ServiceError naming what is wrong.

    Checked: the manifest, every file's checksum, the database's own integrity check, a schema this app reads.
    """
    folder = _folder(backup_id)
    manifest = _manifest(folder)
    if manifest.get("format") != FORMAT:
        raise ServiceError(f"Backup {backup_id} is in format {manifest.get('format')!r}; this app reads {FORMAT}")
    for name, digest in manifest["files"].items():
        path = (folder / name).resolve()
        if not path.is_relative_to(folder.resolve()) or not path.is_file():
            raise ServiceError(f"Backup {backup_id} is damaged: {name} is missing")
        if _sha256(path) != digest:
            raise ServiceError(f"Backup {backup_id} is damaged: {name} does not match its checksum")
    revision = manifest.get("schema_revision", "")
    if revision and revision not in _known_revisions():
        raise ServiceError(
            f"Backup {backup_id} was made by a newer Azera (schema {revision}); update Azera before restoring it"
        )
    if manifest.get("database") == "sqlite":
        db = sqlite3.connect(f"file:{folder / DATABASE}?mode=ro", uri=True)
        try:
            result = db.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            db.close()
        if result != "ok":
            raise ServiceError(f"Backup {backup_id} is damaged: its database fails SQLite's integrity check")
    return _info(manifest)


def restore_backup(backup_id: str, memory: MemoryService | None = None) -> BackupInfo:
    """Make a verified backup the live data (blocking; with the app's services stopped or about to restart).

    The current data is backed up first ("before restore"). The database comes back through SQLite's backup
    API, persona and media files are replaced, an older schema is migrated, and every memory is flagged for
    re-indexing (the tick loop, or ``memory reindex``, rebuilds the indexes in the background).
    """
    info = verify_backup(backup_id)
    if info.database != "sqlite" or _sqlite_path() is None:
        raise ServiceError(
            "Restoring is automatic for SQLite only: on PostgreSQL load the backup's azera.sql with psql"
        )
    folder = _folder(backup_id)
    create_backup(reason=f"before restoring {backup_id}")
    dispose_engines()
    live = sqlite3.connect(str(_sqlite_path()), timeout=30)
    saved = sqlite3.connect(f"file:{folder / DATABASE}?mode=ro", uri=True)
    try:
        saved.backup(live)
    finally:
        saved.close()
        live.close()
    settings = get_settings()
    for name, target in (("personas", settings.resolved_personas_dir), ("media", settings.data_dir / "media")):
        if target.is_dir():
            for path in target.glob("*.md" if name == "personas" else "**/*"):
                if path.is_file():
                    path.unlink()
        _copy_tree(folder / name, target)
    migrate()
    _flag_for_reindex(memory)
    return info


def _flag_for_reindex(memory: MemoryService | None) -> None:
    """Every memory waits to be indexed again; the indexes are emptied (the running app passes its service)."""
    from azera.memory.registry import build_memory_service

    try:
        (memory or build_memory_service(get_settings())).rebuild()
    except Exception as error:  # the indexes rebuild at the next start instead (their layout check)
        log.warning("after the restore, flagging memories for re-indexing failed: %s", error)


def prune_backups(now: datetime | None = None) -> list[str]:
    """Remove backups beyond the retention; returns the ids removed.

    Kept: the newest ``backup_keep``, and the newest of each of the last ``backup_keep_days`` days.
    """
    settings = get_settings()
    now = now or datetime.now(UTC)
    backups = list_backups()  # newest first
    keep = {b.id for b in backups[: settings.backup_keep]}
    days: set[str] = set()
    for backup in backups:
        created = datetime.fromisoformat(backup.created_at)
        day = created.strftime("%Y-%m-%d")
        if now - created <= timedelta(days=settings.backup_keep_days) and day not in days:
            days.add(day)
            keep.add(backup.id)
    removed = [b.id for b in backups if b.id not in keep]
    for backup_id in removed:
        shutil.rmtree(backups_dir() / backup_id, ignore_errors=True)
    return removed
