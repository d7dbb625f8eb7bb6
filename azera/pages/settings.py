"""Settings page: display and input preferences."""

from __future__ import annotations

import reflex as rx
from reflex_base.style import set_color_mode

from azera.components.shell import page_header, shell
from azera.state.preferences import FONT_STACKS, PreferencesState
from azera.state.tokens import TokenRow, TokensState


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


def token_row(token: TokenRow) -> rx.Component:
    """An active API token with its revoke button."""
    return rx.hstack(
        rx.vstack(
            rx.text(token["name"], weight="medium"),
            rx.text(
                rx.code(token["prefix"]), " · created ", token["created"], " · last used ", token["last_used"], size="1"
            ),
            spacing="0",
        ),
        rx.spacer(),
        rx.button("Revoke", color_scheme="red", variant="soft", size="1", on_click=TokensState.revoke(token["id"])),
        width="100%",
        class_name="token-row",
    )


def api_tokens() -> rx.Component:
    """API tokens for scripts and OpenAI-style clients; log out."""
    return rx.vstack(
        rx.heading("API tokens", size="4", padding_top="24px"),
        rx.text(
            "Scripts and apps send a token as 'Authorization: Bearer …'. It is shown once; revoke it when done.",
            size="2",
            color=rx.color("gray", 10),
        ),
        rx.hstack(
            rx.input(
                placeholder="What will use it (e.g. phone app)",
                value=TokensState.new_name,
                on_change=TokensState.set_new_name,
                max_length=80,
                flex="1",
                id="token-name",
            ),
            rx.button("Create token", on_click=TokensState.create, id="create-token"),
            width="100%",
        ),
        rx.cond(
            TokensState.created_secret != "",
            rx.callout(
                rx.hstack(rx.code(TokensState.created_secret, id="token-secret"), rx.spacer(), width="100%"),
                icon="key-round",
                color_scheme="grass",
                width="100%",
            ),
        ),
        rx.foreach(TokensState.tokens, token_row),
        # Reflex forms never submit natively; form.submit() does, and the browser follows the redirect to /login.
        rx.el.form(id="logout-form", action="/auth/logout", method="post"),
        rx.button(
            "Log out",
            variant="soft",
            color_scheme="gray",
            id="logout",
            on_click=rx.call_script("document.getElementById('logout-form').submit()"),
            margin_top="24px",
        ),
        width="100%",
        spacing="3",
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
        api_tokens(),
        padding="32px",
        max_width="720px",
    )
