"""Settings page: backups (list, back up now, restore after a confirmation), import an archive or a chat."""

from __future__ import annotations

import asyncio
import logging
from typing import TypedDict

import reflex as rx

from azera.conversation.replies import RUNNING
from azera.errors import ServiceError
from azera.runtime import runtime
from azera.services import backups
from azera.state import inputs

log = logging.getLogger(__name__)


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


class TransferState(rx.State):
    """Import an archive from ``export``, or a SillyTavern chat with a persona chosen here."""

    chat_persona: str = "azera"
    personas: list[str] = []
    busy: bool = False

    @rx.event
    async def load(self):
        """Page load: the AI personas a chat can be imported with."""
        from azera.db.engine import in_db
        from azera.services.personas import list_personas

        self.personas = await in_db(lambda session: [p.id for p in list_personas(session, kind="ai")])
        if self.chat_persona not in self.personas and self.personas:
            self.chat_persona = self.personas[0]

    @rx.event
    def set_chat_persona(self, value: str):
        """Whose chat an imported SillyTavern file becomes."""
        try:
            self.chat_persona = inputs.choice(value, self.personas, what="That persona")
        except ServiceError as error:
            return rx.toast.error(str(error))
        return None

    async def _one_upload(self, files, limit: int) -> tuple[str, bytes]:
        [upload] = inputs.uploads(files)[:1] or [None]
        if upload is None:
            raise ServiceError("Choose a file first")
        data = await upload.read(limit + 1)
        if len(data) > limit:
            raise ServiceError(f"The file is larger than {limit // 1_000_000} MB")
        return upload.name or upload.filename or "upload", data

    @rx.event
    async def import_archive(self, files: list[rx.UploadFile]):
        """Merge an archive from Export everything into this Azera (all or nothing)."""
        from azera.api.transfer import MAX_ARCHIVE, _import

        self.busy = True
        try:
            _name, data = await self._one_upload(files, MAX_ARCHIVE)
            report, memories = await asyncio.to_thread(_import, data)
        except ServiceError as error:
            return rx.toast.error(str(error))
        finally:
            self.busy = False
        if memories:
            runtime().indexer.wake()
        added = sum(report.added.values())
        conflicts = f"; {len(report.conflicts)} kept as they were here (see the log)" if report.conflicts else ""
        for conflict in report.conflicts:
            log.warning("import: not imported: %s", conflict)
        return rx.toast.success(f"Imported {added} rows and {report.files} files{conflicts}")

    @rx.event
    async def import_chat(self, files: list[rx.UploadFile]):
        """A SillyTavern chat (.jsonl) becomes a chat with the chosen persona."""
        from azera.db.engine import in_db
        from azera.services.chat_import import MAX_BYTES, import_sillytavern_chat

        persona = self.chat_persona
        try:
            name, data = await self._one_upload(files, MAX_BYTES)
            title, count = await in_db(
                lambda session: _titled(import_sillytavern_chat(session, name, data, persona_id=persona))
            )
        except ServiceError as error:
            return rx.toast.error(str(error))
        runtime().indexer.wake()
        return rx.toast.success(f"Imported {count} messages into '{title}'")


def _titled(result) -> tuple[str, int]:
    chat, count = result
    return chat.title, count
