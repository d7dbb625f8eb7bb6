"""The tick loop's backup stage: every interval, when something changed, a backup in a worker thread."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time

from azera.config import get_settings
from azera.db.models import Chat, ChatMessage, Dream, JournalEntry, Memory, Persona, SettingRow
from azera.services.backups import create_backup, prune_backups

# What tells that something changed since the last backup: rows and the newest write of these tables. (The
# mental state drifts every tick on its own: it is saved with the next backup something else causes.)
CHANGE_PROBES = (
    (ChatMessage, "created_at"),
    (Memory, "created_at"),
    (Dream, "created_at"),
    (JournalEntry, "created_at"),
    (Persona, "updated_at"),
    (Chat, "updated_at"),
    (SettingRow, "updated_at"),
)


def data_fingerprint() -> str:
    """A cheap summary of the database that changes when anything worth backing up changes."""
    from sqlalchemy import text

    from azera.db.engine import get_engine

    parts = []
    with get_engine().connect() as connection:
        for model, column in CHANGE_PROBES:
            table = model.__tablename__
            row = connection.execute(text(f'SELECT count(*), max({column}) FROM "{table}"')).one()
            parts.append(f"{table}:{tuple(row)}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


log = logging.getLogger(__name__)


class BackupStage:
    """The tick loop's backup stage: every interval, when something changed, a backup in a worker thread."""

    def __init__(self) -> None:
        self.last_at = time.time()  # the first backup comes one interval after the start
        self.last_fingerprint = ""
        self.problem = ""
        self._task: asyncio.Task | None = None

    async def stage(self, now: float) -> None:
        """Start a backup when one is due and none is running."""
        interval = get_settings().backup_interval_minutes * 60
        if not interval or now - self.last_at < interval or (self._task is not None and not self._task.done()):
            return
        self.last_at = now
        self._task = asyncio.create_task(asyncio.to_thread(self._back_up))

    def _back_up(self) -> None:
        try:
            fingerprint = data_fingerprint()
            if fingerprint == self.last_fingerprint:
                return
            info = create_backup(reason="scheduled")
            self.last_fingerprint, self.problem = fingerprint, ""
            removed = prune_backups()
            log.info("backup %s taken (%d bytes); %d old ones removed", info.id, info.size_bytes, len(removed))
        except Exception as error:  # logged and shown; the next interval tries again
            self.problem = str(error)
            log.warning("scheduled backup failed: %s", error)

    async def wait(self) -> None:
        """Let a running backup finish."""
        if self._task is not None:
            await self._task
