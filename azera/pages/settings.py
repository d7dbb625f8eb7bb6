"""Settings page: display and input preferences."""

from __future__ import annotations

import reflex as rx
from reflex_base.style import set_color_mode

from azera.components.shell import page_header, shell
from azera.pages.voice_settings import voice_section
from azera.state.backups import BackupRow, BackupsState, TransferState
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


def backup_row(backup: BackupRow) -> rx.Component:
    """A backup with its restore button."""
    return rx.hstack(
        rx.vstack(
            rx.text(backup["created"], " · ", backup["size"], " · ", backup["reason"], weight="medium"),
            rx.text(backup["counts"], size="1", color=rx.color("gray", 10)),
            spacing="0",
        ),
        rx.spacer(),
        rx.button(
            "Restore", variant="soft", size="1", on_click=BackupsState.ask_restore(backup["id"]), class_name="restore"
        ),
        width="100%",
        class_name="backup-row",
    )


def backups_section() -> rx.Component:
    """Backups: taken every few minutes when something changed; back up now; restore after a confirmation."""
    return rx.vstack(
        rx.heading("Backups", size="4", padding_top="24px"),
        rx.text(
            "Azera backs up your chats, memories, personas and images every few minutes when something changed "
            "(data/backups; python -m azera backup for more).",
            size="2",
            color=rx.color("gray", 10),
        ),
        rx.button("Back up now", on_click=BackupsState.create, loading=BackupsState.busy, id="backup-now"),
        rx.foreach(BackupsState.backups, backup_row),
        rx.alert_dialog.root(
            rx.alert_dialog.content(
                rx.alert_dialog.title("Restore this backup?"),
                rx.alert_dialog.description(
                    "Every chat, memory, dream, journal entry and persona is replaced by the backup's. What is here "
                    "now is backed up first, so you can come back to it. Azera restarts its services: a reply being "
                    "written stops, and memories are re-indexed in the background."
                ),
                rx.hstack(
                    rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", on_click=BackupsState.cancel_restore)),
                    rx.alert_dialog.action(
                        rx.button("Restore", color_scheme="red", on_click=BackupsState.restore, id="confirm-restore")
                    ),
                    justify="end",
                    spacing="3",
                ),
            ),
            open=BackupsState.confirming != "",
        ),
        width="100%",
        spacing="3",
    )


def _upload_button(label: str, upload_id: str, accept: dict, on_drop, button_id: str) -> rx.Component:
    return rx.upload(
        rx.button(rx.icon("upload"), label, variant="soft", loading=TransferState.busy, id=button_id),
        id=upload_id,
        accept=accept,
        multiple=False,
        on_drop=on_drop,
        border="none",
        padding="0",
    )


def your_data() -> rx.Component:
    """Export everything, import an archive, import a SillyTavern chat."""
    return rx.vstack(
        rx.heading("Your data", size="4", padding_top="24px"),
        rx.text(
            "Everything in one zip (chats, memories, dreams, journal, personas, images), to keep or to move to "
            "another Azera; importing merges without duplicates.",
            size="2",
            color=rx.color("gray", 10),
        ),
        rx.hstack(
            rx.button(
                rx.icon("download"),
                "Export everything",
                variant="soft",
                on_click=rx.download(url="/api/export", filename="azera-export.zip"),
                id="export",
            ),
            _upload_button(
                "Import an archive",
                "archive-upload",
                {"application/zip": [".zip"]},
                TransferState.import_archive(rx.upload_files(upload_id="archive-upload")),
                "import-archive",
            ),
            spacing="3",
        ),
        rx.hstack(
            rx.text("SillyTavern chat with"),
            rx.select(
                TransferState.personas, value=TransferState.chat_persona, on_change=TransferState.set_chat_persona
            ),
            _upload_button(
                "Import chat (.jsonl)",
                "chat-upload",
                {"application/jsonl": [".jsonl"], "application/json": [".json"]},
                TransferState.import_chat(rx.upload_files(upload_id="chat-upload")),
                "import-chat",
            ),
            align="center",
            spacing="3",
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
        voice_section(),
        backups_section(),
        your_data(),
        api_tokens(),
        padding="32px",
        max_width="720px",
    )
