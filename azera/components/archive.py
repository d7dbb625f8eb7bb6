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


def writings_toolbar(
    state: Any, *, name: str, search: str, button: tuple[str, str, str], busy: tuple[str, str]
) -> rx.Component:
    """Search, persona, "write now" (icon, label, id), import, and the busy indicator (text, id)."""
    icon, label, button_id = button
    busy_text, busy_id = busy
    return rx.fragment(
        rx.hstack(
            rx.input(
                placeholder=search,
                value=state.query,
                on_change=state.set_query.debounce(300),
                width="260px",
                id=f"{name}-search",
            ),
            rx.spacer(),
            rx.select(state.personas, value=state.persona, on_change=state.set_persona),
            rx.button(rx.icon(icon), label, on_click=state.write_now, id=button_id),
            import_button(f"{name}-import", state.import_archive),
            width="100%",
            align="center",
        ),
        rx.cond(
            state.busy.length() > 0,
            rx.hstack(rx.spinner(size="1"), rx.text(state.busy.join(", "), busy_text), id=busy_id),
        ),
        rx.moment(interval=5000, on_change=state.poll, display="none"),
    )
