"""Settings page: backups (list, back up now, restore after a confirmation)."""

from __future__ import annotations

import asyncio
from typing import TypedDict

import reflex as rx

from azera.conversation.replies import RUNNING
from azera.errors import ServiceError
from azera.runtime import runtime
from azera.services import backups
from azera.state import inputs


class BackupRow(TypedDict):
    """One backup in the list."""

    id: str
    created: str
    size: str
    counts: str
    reason: str


def _row(info: backups.BackupInfo) -> BackupRow:
    counts = info.counts
    return BackupRow(
        id=info.id,
        created=info.created_at.replace("T", " ")[:16] + " UTC",
        size=f"{info.size_bytes / 1e6:.1f} MB",
        counts=f"{counts.get('chat', 0)} chats · {counts.get('chatmessage', 0)} messages · "
        f"{counts.get('memory', 0)} memories · {counts.get('dream', 0)} dreams",
        reason=info.reason,
    )


def _restore(backup_id: str) -> backups.BackupInfo:
    """Restore in the running app: stop replies, swap the data, reload the mind, re-index in the background."""
    for stop in list(RUNNING.values()):
        stop.set()
    service = runtime().memory()
    info = backups.restore_backup(backup_id, memory=service)
    runtime().mind.reload()
    runtime().indexer.wake()
    return info


class BackupsState(rx.State):
    """The backup list, and the one a restore is being confirmed for."""

    backups: list[BackupRow] = []
    confirming: str = ""
    busy: bool = False

    async def _refresh(self) -> None:
        self.backups = [_row(info) for info in await asyncio.to_thread(backups.list_backups)]

    @rx.event
    async def load(self):
        """Page load."""
        self.confirming = ""
        await self._refresh()

    @rx.event
    async def create(self):
        """Back up now."""
        if self.busy:
            return None
        self.busy = True
        try:
            info = await asyncio.to_thread(backups.create_backup, "manual")
        except ServiceError as error:
            return rx.toast.error(str(error))
        finally:
            self.busy = False
        await self._refresh()
        return rx.toast.success(f"Backed up: {info.size_bytes / 1e6:.1f} MB")

    @rx.event
    def ask_restore(self, backup_id: str):
        """Open the confirmation for one backup."""
        try:
            self.confirming = inputs.choice(backup_id, [row["id"] for row in self.backups], what="That backup")
        except ServiceError as error:
            return rx.toast.error(str(error))
        return None

    @rx.event
    def cancel_restore(self):
        """Close the confirmation."""
        self.confirming = ""

    @rx.event
    async def restore(self):
        """Restore the backup being confirmed (verified first; the current data is backed up before)."""
        backup_id, self.confirming = self.confirming, ""
        if not backup_id or self.busy:
            return None
        self.busy = True
        try:
            info = await asyncio.to_thread(_restore, backup_id)
        except ServiceError as error:
            return rx.toast.error(str(error))
        finally:
            self.busy = False
        await self._refresh()
        return rx.toast.success(
            f"Restored the backup of {info.created_at[:16].replace('T', ' ')}; re-indexing memories"
        )
