"""Settings page: display and input preferences."""

from __future__ import annotations

import reflex as rx
from reflex_base.style import set_color_mode

from azera.components.shell import page_header, shell
from azera.state.preferences import FONT_STACKS, PreferencesState


def row(label: str, hint: str, control: rx.Component) -> rx.Component:
    """A labelled setting."""
    return rx.hstack(
        rx.vstack(rx.text(label, weight="medium"), rx.text(hint, size="1", color=rx.color("gray", 10)), spacing="0"),
        rx.spacer(),
        control,
        width="100%",
        padding="12px 0",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
    )


@shell("Settings")
def settings_page() -> rx.Component:
    """The settings page."""
    return rx.box(
        page_header("Settings", "Saved on the server and mirrored to this browser."),
        row(
            "Show thinking",
            "Show <think> blocks, collapsed, above replies.",
            rx.switch(
                checked=PreferencesState.show_thinking, on_change=PreferencesState.set_show_thinking, id="show-thinking"
            ),
        ),
        row(
            "Send on Enter",
            "Off: Enter adds a line and Ctrl+Enter sends.",
            rx.switch(
                checked=PreferencesState.send_on_enter, on_change=PreferencesState.set_send_on_enter, id="send-on-enter"
            ),
        ),
        row(
            "Theme",
            "Dark or light.",
            rx.select(
                ["dark", "light"],
                value=PreferencesState.theme,
                on_change=lambda value: [PreferencesState.set_theme(value), set_color_mode(value)],
                id="theme",
            ),
        ),
        row(
            "Font",
            "Interface font.",
            rx.select(list(FONT_STACKS), value=PreferencesState.font, on_change=PreferencesState.set_font, id="font"),
        ),
        row(
            "Code font",
            "Font for code blocks.",
            rx.select(
                ["JetBrains Mono", "Fira Code", "System Mono"],
                value=PreferencesState.code_font,
                on_change=PreferencesState.set_code_font,
            ),
        ),
        row(
            "Font size",
            "Base size in pixels.",
            rx.select(
                [str(size) for size in range(12, 21)],
                value=PreferencesState.font_size.to_string(),
                on_change=PreferencesState.set_font_size,
            ),
        ),
        padding="32px",
        max_width="720px",
    )
