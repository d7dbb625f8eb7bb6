"""One message: markdown, collapsed thinking, what it recalled, copy, edit or regenerate, branch selector."""

from __future__ import annotations

import reflex as rx

from azera.components.chat.journal import draft_row
from azera.components.markdown import safe_markdown
from azera.components.shell import ACCENT
from azera.components.voice import speak_button
from azera.conversation.replies import CONTINUABLE
from azera.state.chat_rows import MessageRow, RecallRow
from azera.state.conversation import ConversationState
from azera.state.preferences import PreferencesState


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
    """Marks a reply that was stopped, failed, cut where it repeated itself, or cut off by a crash."""
    return rx.match(
        message["status"],
        ("stopped", rx.badge("stopped", color_scheme="amber", class_name="status-badge")),
        ("error", rx.badge("failed", color_scheme="red", class_name="status-badge")),
        (
            "interrupted",
            rx.tooltip(
                rx.badge("interrupted", color_scheme="orange", class_name="status-badge"),
                content="Azera stopped while writing this: continue it where it ended, or regenerate it",
            ),
        ),
        (
            "repeated",
            rx.tooltip(
                rx.badge("cut: repeating", color_scheme="amber", class_name="status-badge"),
                content="The reply began repeating itself and was stopped there: continue it, or regenerate a new one",
            ),
        ),
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
        rx.cond(
            (message["role"] == "assistant")
            & (message["content"] != "")
            & rx.Var.create(list(CONTINUABLE)).contains(message["status"]),  # type: ignore[attr-defined]
            rx.tooltip(
                _small_button(
                    "step-forward", ConversationState.continue_reply(message["id"]), "continue-reply", busy=True
                ),
                content="Continue this reply where it ended",
            ),
        ),
        rx.cond((message["role"] == "assistant") & (message["content"] != ""), speak_button(message["id"])),
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
