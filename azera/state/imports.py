"""Importing dream and journal archives from the browser (shared by the Dreams and Journal pages)."""

from __future__ import annotations

from pathlib import Path

import reflex as rx

from azera.errors import ServiceError
from azera.mind.archive import MAX_ARCHIVE_BYTES, Kind, import_archive_async
from azera.runtime import runtime
from azera.state import inputs


async def import_uploads(kind: Kind, files: list[rx.UploadFile], persona_id: str) -> rx.event.EventSpec:
    """Import each uploaded archive for ``persona_id``; a toast says what happened (or why nothing did)."""
    try:
        files = inputs.uploads(files)
    except ServiceError as error:
        return rx.toast.error(str(error))
    if not files:
        return rx.toast.warning("Choose a .json or .md archive first")
    imported = duplicates = 0
    for upload in files:
        name = Path(upload.name or upload.filename or "archive").name
        data = await upload.read(MAX_ARCHIVE_BYTES + 1)
        try:
            report = await import_archive_async(
                kind, data, filename=name, persona_id=persona_id, memory=runtime().memory
            )
        except ServiceError as error:
            return rx.toast.error(f"{name}: {error}")
        imported, duplicates = imported + report.imported, duplicates + report.duplicates
    already = f", {duplicates} already there" if duplicates else ""
    return rx.toast.success(f"Imported {imported}{already}")
