"""The "Import" button of the Dreams and Journal pages."""

from __future__ import annotations

from typing import Any

import reflex as rx

ARCHIVE_TYPES = {"application/json": [".json"], "text/markdown": [".md", ".markdown"], "text/plain": [".txt"]}


def import_button(upload_id: str, on_files: Any) -> rx.Component:
    """Pick JSON or markdown archives; ``on_files`` receives them at once."""
    return rx.upload.root(
        rx.button(rx.icon("upload"), "Import", type="button", variant="soft", id=f"{upload_id}-button"),
        id=upload_id,
        accept=ARCHIVE_TYPES,
        max_files=5,
        on_drop=on_files(rx.upload_files(upload_id=upload_id)),
    )
