"""Chat messages: markdown, collapsed thinking, copy, edit, regenerate, branch selector; the composer."""

from __future__ import annotations

import reflex as rx
from reflex.vars import Var

from azera.components.dialogs import confirm_delete
from azera.components.markdown import safe_markdown
from azera.components.shell import ACCENT
from azera.state.chat_rows import DraftRow, MessageRow, RecallRow
from azera.state.conversation import ConversationState
from azera.state.journal_mode import JournalModeState
from azera.state.preferences import PreferencesState


def _composer_keys(send_on_enter: Var[bool]) -> Var:
    """Enter (or Ctrl/⌘+Enter when "Send on Enter" is off) submits; Shift+Enter always adds a line."""
    return Var(
        _js_expr=(
            "(e) => { if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing && "
            f"(({send_on_enter!s}) || e.ctrlKey || e.metaKey)) {{ e.preventDefault(); "
            "if (!e.repeat && e.target.form) { e.target.form.requestSubmit(); } } }"
        ),
        _var_data=send_on_enter._get_all_var_data(),
    )


def _branch_arrow(icon: str, target_id: rx.Var[str], class_name: str) -> rx.Component:
    return rx.icon_button(
        rx.icon(icon, size=14),
        size="1",
        variant="ghost",
        disabled=(target_id == "") | ConversationState.streaming,
        on_click=ConversationState.switch_branch(target_id),
        class_name=class_name,
    )


def branch_selector(message: MessageRow) -> rx.Component:
    """``‹ n/m ›`` between alternative versions of a message."""
    return rx.cond(
        message["position"] != "",
        rx.hstack(
            _branch_arrow("chevron-left", message["previous_id"], "branch-previous"),
            rx.text(message["position"], size="1", class_name="branch-position"),
            _branch_arrow("chevron-right", message["next_id"], "branch-next"),
            spacing="1",
            align="center",
        ),
    )


def thinking_block(message: MessageRow) -> rx.Component:
    """Reasoning, collapsed; hidden entirely when "Show thinking" is off."""
    return rx.cond(
        PreferencesState.show_thinking & (message["thinking"] != ""),
        rx.el.details(
            rx.el.summary("thinking…", cursor="pointer", color=rx.color("gray", 10)),
            rx.text(message["thinking"], white_space="pre-wrap", size="2", color=rx.color("gray", 10)),
            class_name="thinking-block",
            padding_bottom="6px",
        ),
    )


def recall_item(memory: RecallRow) -> rx.Component:
    """One recalled memory with its scores."""
    return rx.vstack(
        rx.text("[", memory["created_at"], "] (", memory["kind"], ") ", memory["text"], size="2"),
        rx.text(memory["why"], size="1", color=rx.color("gray", 10)),
        spacing="0",
        class_name="recalled-item",
    )


def recalled_block(message: MessageRow) -> rx.Component:
    """Which memories this reply was given ("why was this recalled")."""
    return rx.cond(
        message["recalled"].length() > 0,
        rx.el.details(
            rx.el.summary(
                "recalled ", message["recalled"].length(), " memories", cursor="pointer", color=rx.color("teal", 11)
            ),
            rx.vstack(rx.foreach(message["recalled"], recall_item), spacing="2", padding="6px 0"),
            class_name="recalled-block",
        ),
    )


def status_badge(message: MessageRow) -> rx.Component:
    """Marks a reply that was stopped or failed."""
    return rx.match(
        message["status"],
        ("stopped", rx.badge("stopped", color_scheme="amber", class_name="status-badge")),
        ("error", rx.badge("failed", color_scheme="red", class_name="status-badge")),
        rx.fragment(),
    )


def inline_editor(message: MessageRow) -> rx.Component:
    """Edit a user message; sending it starts a new branch."""
    return rx.form(
        rx.vstack(
            rx.text_area(name="message", default_value=message["content"], width="100%", id="edit-message"),
            rx.hstack(
                rx.button("Cancel", type="button", variant="soft", on_click=ConversationState.cancel_edit),
                rx.button("Send as new branch", type="submit", id="send-edit"),
                justify="end",
                width="100%",
            ),
            width="100%",
        ),
        on_submit=ConversationState.save_edit,
        width="100%",
    )


def _small_button(icon: str, on_click, class_name: str, *, busy: bool = False) -> rx.Component:
    """A ghost icon button under a message; ``busy`` ones are disabled while a reply streams."""
    return rx.icon_button(
        rx.icon(icon, size=14),
        size="1",
        variant="ghost",
        on_click=on_click,
        disabled=ConversationState.streaming if busy else False,
        class_name=class_name,
    )


def message_actions(message: MessageRow) -> rx.Component:
    """Copy, edit / regenerate, branch selector."""
    is_user = message["role"] == "user"
    return rx.hstack(
        branch_selector(message),
        _small_button("copy", [rx.set_clipboard(message["content"]), rx.toast.info("Copied")], "copy-message"),
        rx.cond(
            is_user,
            _small_button("pencil", ConversationState.start_edit(message["id"]), "edit-message", busy=True),
            _small_button("refresh-cw", ConversationState.regenerate(message["id"]), "regenerate", busy=True),
        ),
        status_badge(message),
        spacing="2",
        align="center",
    )


def message_bubble(message: MessageRow) -> rx.Component:
    """One message."""
    is_user = message["role"] == "user"
    return rx.box(
        rx.cond(
            ConversationState.editing_id == message["id"],
            inline_editor(message),
            rx.vstack(
                thinking_block(message),
                rx.box(
                    rx.cond(
                        (message["content"] == "") & (message["status"] == "streaming"),
                        rx.hstack(rx.spinner(size="1"), rx.text("…", color=rx.color("gray", 10))),
                        safe_markdown(message["content"], class_name="message-text"),
                    ),
                    background=rx.cond(is_user, rx.color("violet", 4), rx.color("gray", 3)),
                    border=rx.cond(is_user, f"1px solid {ACCENT}55", f"1px solid {rx.color('gray', 5)}"),
                    padding="4px 14px",
                    border_radius="14px",
                    max_width="100%",
                ),
                message_actions(message),
                recalled_block(message),
                align=rx.cond(is_user, "end", "start"),
                spacing="1",
            ),
        ),
        class_name=rx.cond(is_user, "message user-message", "message assistant-message"),
        align_self=rx.cond(is_user, "flex-end", "flex-start"),
        max_width="80%",
    )


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


def composer() -> rx.Component:
    """The message box with send and stop."""
    return rx.form(
        rx.hstack(
            rx.text_area(
                name="message",
                id="composer",
                placeholder=rx.cond(
                    ConversationState.journal_mode,
                    "Write in your journal… (kept as a draft, no reply)",
                    rx.cond(
                        PreferencesState.send_on_enter,
                        "Message… (Enter sends, Shift+Enter for a new line)",
                        "Message… (Ctrl+Enter sends)",
                    ),
                ),
                custom_attrs={"on_key_down": _composer_keys(PreferencesState.send_on_enter)},
                flex="1",
                rows="3",
                max_length=16_000,
            ),
            rx.cond(
                ConversationState.streaming,
                rx.button(
                    rx.icon("square"),
                    "Stop",
                    type="button",
                    color_scheme="red",
                    on_click=ConversationState.stop,
                    id="stop",
                ),
                rx.button(rx.icon("send"), "Send", type="submit", id="send"),
            ),
            rx.cond(ConversationState.journal_mode, journal_image_button()),
            width="100%",
            align="end",
        ),
        on_submit=ConversationState.send,
        width="100%",
        padding="12px 16px",
        border_top=f"1px solid {rx.color('gray', 4)}",
    )


def model_controls() -> rx.Component:
    """Model and temperature for this chat."""
    return rx.hstack(
        rx.text("Model", size="2", color=rx.color("gray", 10)),
        rx.select.root(
            rx.select.trigger(placeholder=ConversationState.model_label, id="chat-model", min_width="180px"),
            rx.select.content(
                rx.select.item("persona default", value="persona default"),
                rx.foreach(ConversationState.models, lambda name: rx.select.item(name, value=name)),
            ),
            value=rx.cond(ConversationState.model_override == "", "persona default", ConversationState.model_override),
            on_change=ConversationState.set_model,
        ),
        rx.text("Temperature ", ConversationState.temperature, size="2", color=rx.color("gray", 10)),
        rx.slider(
            value=[ConversationState.temperature],
            min=0,
            max=2,
            step=0.1,
            on_value_commit=ConversationState.set_temperature,
            width="140px",
            id="temperature",
        ),
        align="center",
        spacing="2",
    )


def mind_bars() -> rx.Component:
    """The persona's mood, energy and focus, live."""
    return rx.hstack(
        rx.badge(ConversationState.mood, color_scheme="teal", id="mood-label"),
        rx.text("energy", size="1", color=rx.color("gray", 10)),
        rx.progress(value=ConversationState.energy, width="90px", id="energy-bar"),
        rx.text(ConversationState.energy, "%", size="1", id="energy-value"),
        rx.text("focus", size="1", color=rx.color("gray", 10)),
        rx.progress(value=ConversationState.focus, width="90px", color_scheme="teal"),
        rx.moment(interval=5000, on_change=ConversationState.refresh_mind, display="none"),
        align="center",
        spacing="2",
    )


def message_list() -> rx.Component:
    """All messages of the active branch."""
    return rx.auto_scroll(
        rx.vstack(
            rx.foreach(ConversationState.messages, message_bubble),
            rx.foreach(ConversationState.drafts, draft_row),
            rx.cond(
                (ConversationState.messages.length() == 0) & ~ConversationState.journal_mode,
                rx.text("Say hello — replies stream in as they are written.", color=rx.color("gray", 10)),
            ),
            spacing="4",
            padding="16px 24px",
            width="100%",
            id="messages",
        ),
        flex="1",
        width="100%",
    )
