"""Journal mode in the chat: the drafts kept so far, the banner with Done and Cancel, adding images."""

from __future__ import annotations

import reflex as rx

from azera.components.dialogs import confirm_delete
from azera.state.chat_rows import DraftRow
from azera.state.conversation import ConversationState
from azera.state.journal_mode import JournalModeState

JOURNAL_UPLOAD_ID = "journal-image"


def draft_row(draft: DraftRow) -> rx.Component:
    """A journal-mode draft: kept silently, marked with a ✓."""
    return rx.hstack(
        rx.icon("check", color=rx.color("grass", 10), size=16, class_name="draft-check"),
        rx.cond(
            draft["kind"] == "image",
            rx.image(src=draft["image_url"], alt=draft["content"], max_width="240px", border_radius="8px"),
            rx.text(draft["content"], white_space="pre-wrap"),
        ),
        rx.spacer(),
        rx.text(draft["time"], size="1", color=rx.color("gray", 10)),
        class_name="journal-draft",
        width="100%",
        padding="6px 12px",
        border_left=f"3px solid {rx.color('grass', 8)}",
        align="start",
    )


def journal_banner() -> rx.Component:
    """Shown while the chat is in journal mode: what is happening, done and cancel."""
    return rx.hstack(
        rx.icon("notebook-pen", color=rx.color("grass", 10)),
        rx.text(
            "Journal mode — nothing is answered; each message is kept as a draft (",
            ConversationState.drafts.length(),
            "). Done turns them into a journal article.",
            size="2",
        ),
        rx.spacer(),
        rx.button(
            rx.icon("book-check"),
            "Done",
            on_click=JournalModeState.finish,
            loading=JournalModeState.compiling,
            color_scheme="grass",
            id="journal-done",
        ),
        confirm_delete(
            rx.button("Cancel", variant="soft", color_scheme="gray", id="journal-cancel"),
            "Discard this journal session?",
            "Its drafts are deleted and nothing is saved to the journal.",
            JournalModeState.cancel,
            "confirm-journal-cancel",
        ),
        width="100%",
        align="center",
        padding="8px 16px",
        background=rx.color("grass", 3),
        id="journal-banner",
    )


def journal_image_button() -> rx.Component:
    """Add images to the journal session (checked by content on the server)."""
    return rx.upload.root(
        rx.icon_button(rx.icon("image-plus"), type="button", variant="soft", id="journal-image-button"),
        id=JOURNAL_UPLOAD_ID,
        accept={"image/png": [".png"], "image/jpeg": [".jpg", ".jpeg"], "image/gif": [".gif"], "image/webp": [".webp"]},
        max_files=5,
        on_drop=JournalModeState.upload_image(rx.upload_files(upload_id=JOURNAL_UPLOAD_ID)),
    )
