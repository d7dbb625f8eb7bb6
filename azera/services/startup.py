"""What runs once when Azera starts: folders, migrations, defaults, persona sync."""

from __future__ import annotations

import logging
import shutil

from azera.config import SEED_PERSONAS_DIR, get_settings
from azera.db.engine import migrate, session_scope
from azera.services import auth
from azera.services.chats import ensure_defaults
from azera.services.messages import mark_interrupted
from azera.services.personas import SyncReport, sync_personas

log = logging.getLogger(__name__)
_last_report: SyncReport | None = None


def prepare() -> SyncReport:
    """Create folders, migrate the database, seed defaults and sync persona files."""
    global _last_report
    settings = get_settings()
    settings.ensure_dirs()
    migrate()
    with session_scope() as session:
        ensure_defaults(session)
        report = sync_personas(session, settings.resolved_personas_dir, SEED_PERSONAS_DIR)
    log.info(
        "personas: %d seeded, %d loaded, %d updated from disk, %d files regenerated, %d problems",
        len(report.seeded),
        len(report.loaded),
        len(report.updated),
        len(report.regenerated),
        len(report.problems),
    )
    _last_report = report
    return report


def last_sync_problems() -> list[str]:
    """Problems found in persona files at the last start-up (shown on the Personas page)."""
    return list(_last_report.problems) if _last_report else []


def announce_owner() -> None:
    """Print the one-time setup link while nobody owns this Azera; warn loudly when login is off."""
    settings = get_settings()
    if not settings.auth:
        log.warning("AZERA_AUTH=false: anyone who can reach %s can use Azera without logging in", settings.host)
        return
    with session_scope() as session:
        if auth.owner_exists(session):
            return
    link = auth.setup_link(settings.local_url)
    log.warning("No owner yet. Open this one-time link to set the owner's password:\n\n    %s\n", link)


def recover_after_crash() -> tuple[int, int]:
    """At the app's start: mark replies a crash cut off, and remove every upload staging folder.

    Returns (replies marked, staging folders removed). Only the app calls this, before it serves anyone:
    no reply can be streaming and no upload staged then (which files a browser staged lived in the last
    process's memory), so whatever is left was cut off. A CLI command run beside a streaming reply must
    not mark it.
    """
    with session_scope() as session:
        interrupted = mark_interrupted(session)
    staging = get_settings().data_dir / "uploads"
    removed = 0
    for folder in staging.glob("*") if staging.is_dir() else []:
        shutil.rmtree(folder, ignore_errors=True)
        removed += 1
    if interrupted or removed:
        log.warning(
            "after an interrupted run: %d replies marked interrupted, %d staging folders removed", interrupted, removed
        )
    return interrupted, removed


APP_FILE = "app.json"


def publish_local_access() -> None:
    """Tell commands on this machine where the running app is, with a token to reach it (data folder, 0600)."""
    import json

    settings = get_settings()
    with session_scope() as session:
        auth.issue_local_token(session)
    (settings.data_dir / APP_FILE).write_text(json.dumps({"url": settings.local_url}))
