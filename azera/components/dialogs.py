"""A confirmation dialog shared by every destructive action."""

from __future__ import annotations

from typing import Any

import reflex as rx


def confirm_delete(
    trigger: rx.Component, title: Any, description: Any, on_confirm: Any, confirm_id: str = ""
) -> rx.Component:
    """Open on ``trigger``; the red button runs ``on_confirm``."""
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(trigger),
        rx.alert_dialog.content(
            rx.alert_dialog.title(title),
            rx.alert_dialog.description(description),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft")),
                rx.alert_dialog.action(
                    rx.button(
                        "Delete", color_scheme="red", on_click=on_confirm, **({"id": confirm_id} if confirm_id else {})
                    )
                ),
                justify="end",
                spacing="3",
            ),
        ),
    )
