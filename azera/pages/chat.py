"""Chat page: chat sidebar (groups, search, create) and the open chat's header."""

from __future__ import annotations

import reflex as rx

from azera.components.chat.composer import composer, mind_bars, model_controls
from azera.components.chat.journal import journal_banner
from azera.components.chat.messages import message_list
from azera.components.dialogs import confirm_delete
from azera.components.shell import ACCENT, shell
from azera.state.chats import ChatRow, ChatState, GroupSection, Option
from azera.state.conversation import ConversationState
from azera.state.journal_mode import JournalModeState


def chat_link(chat: ChatRow) -> rx.Component:
    """A chat in the sidebar."""
    active = ChatState.chat_id == chat["id"]
    return rx.link(
        rx.vstack(
            rx.text(chat["emoji"], " ", chat["title"], size="2", weight="medium", trim="both"),
            rx.text(chat["persona"], " ", chat["tags"], size="1", color=rx.color("gray", 10)),
            spacing="0",
        ),
        href="/chat/" + chat["id"],
        class_name="chat-link",
        underline="none",
        width="100%",
        color=rx.color("gray", 12),
        display="block",
        padding="6px 10px",
        border_radius="8px",
        background=rx.cond(active, rx.color("violet", 5), "transparent"),
        _hover={"background": rx.color("violet", 3)},
    )


def group_section(section: GroupSection) -> rx.Component:
    """A group heading and its chats."""
    return rx.vstack(
        rx.text(section["name"], size="1", weight="bold", color=rx.color("teal", 11), text_transform="uppercase"),
        rx.foreach(section["chats"], chat_link),
        rx.cond(section["chats"].length() == 0, rx.text("No chats", size="1", color=rx.color("gray", 9))),
        spacing="1",
        width="100%",
        class_name="group-section",
    )


def sidebar() -> rx.Component:
    """Search, new chat, chats by group, new group."""
    return rx.vstack(
        rx.button(rx.icon("plus"), "New chat", on_click=ChatState.new_chat, width="100%", id="new-chat"),
        rx.input(
            placeholder="Search chats…",
            value=ChatState.search,
            on_change=ChatState.set_search.debounce(250),
            width="100%",
            id="chat-search",
        ),
        rx.scroll_area(
            rx.vstack(rx.foreach(ChatState.sections, group_section), spacing="4", width="100%"),
            flex="1",
        ),
        rx.hstack(
            rx.input(
                placeholder="New group",
                value=ChatState.new_group_name,
                on_change=ChatState.set_new_group_name,
                size="1",
                id="new-group-name",
            ),
            rx.icon_button(rx.icon("folder-plus"), size="1", on_click=ChatState.create_group, id="new-group"),
            width="100%",
        ),
        width="280px",
        height="100vh",
        padding="12px",
        border_right=f"1px solid {rx.color('gray', 4)}",
        spacing="3",
    )


def option_select(options: rx.Var[list[Option]], value: rx.Var[str], on_change, id_: str) -> rx.Component:
    """A select over value/label options."""
    return rx.select.root(
        rx.select.trigger(id=id_, min_width="150px"),
        rx.select.content(rx.foreach(options, lambda o: rx.select.item(o["label"], value=o["value"]))),
        value=value,
        on_change=on_change,
    )


def tag_badge(name: rx.Var[str]) -> rx.Component:
    """A tag that toggles on the open chat."""
    on = ChatState.tags.contains(name)
    return rx.badge(
        "#",
        name,
        variant=rx.cond(on, "solid", "outline"),
        color_scheme=rx.cond(on, "violet", "gray"),
        cursor="pointer",
        on_click=ChatState.toggle_tag(name),
        class_name="tag-badge",
    )


def delete_button() -> rx.Component:
    """Delete the open chat after confirmation."""
    return confirm_delete(
        rx.icon_button(rx.icon("trash-2"), color_scheme="red", variant="soft", id="delete-chat"),
        "Delete this chat?",
        "Its messages and their memories are deleted too.",
        ChatState.delete_chat,
        "confirm-delete-chat",
    )


def chat_header() -> rx.Component:
    """Title, personas, group, tags of the open chat."""
    return rx.vstack(
        rx.hstack(
            rx.input(
                value=ChatState.title_draft,
                on_change=ChatState.set_title_draft,
                on_blur=ChatState.save_title,
                on_key_down=lambda key: rx.cond(key == "Enter", ChatState.save_title, rx.noop()),
                size="3",
                max_length=200,
                flex="1",
                id="chat-title",
            ),
            rx.cond(
                ~ConversationState.journal_mode,
                rx.button(
                    rx.icon("notebook-pen"),
                    "Journal mode",
                    variant="soft",
                    color_scheme="grass",
                    on_click=JournalModeState.start,
                    id="journal-start",
                ),
            ),
            delete_button(),
            width="100%",
        ),
        rx.hstack(
            rx.text("AI", size="2", color=rx.color("gray", 10)),
            option_select(ChatState.ai_personas, ChatState.ai_persona_id, ChatState.set_ai_persona, "ai-persona"),
            rx.text("You", size="2", color=rx.color("gray", 10)),
            option_select(
                ChatState.user_personas, ChatState.user_persona_id, ChatState.set_user_persona, "user-persona"
            ),
            rx.text("Group", size="2", color=rx.color("gray", 10)),
            option_select(ChatState.groups, ChatState.group_id, ChatState.set_group, "chat-group"),
            rx.spacer(),
            mind_bars(),
            align="center",
            spacing="2",
            wrap="wrap",
        ),
        rx.hstack(
            rx.hstack(rx.foreach(ChatState.all_tags, tag_badge), spacing="2", wrap="wrap"),
            rx.spacer(),
            model_controls(),
            width="100%",
            wrap="wrap",
        ),
        width="100%",
        spacing="3",
        padding="16px",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
    )


def open_chat() -> rx.Component:
    """The open chat: header, messages of the active branch, composer."""
    return rx.vstack(
        chat_header(),
        rx.cond(ConversationState.journal_mode, journal_banner()),
        message_list(),
        composer(),
        height="100vh",
        width="100%",
        spacing="0",
    )


def no_chat() -> rx.Component:
    """Start screen when no chat is open."""
    return rx.center(
        rx.vstack(
            rx.heading(
                "Azera",
                size="9",
                background_image=f"linear-gradient(135deg, {ACCENT}, #14b8a6)",
                background_clip="text",
                color="transparent",
            ),
            rx.cond(
                ChatState.missing_chat,
                rx.callout(
                    "That chat does not exist (it may have been deleted).", icon="circle-alert", color_scheme="red"
                ),
            ),
            rx.text("Pick a chat on the left or start a new one.", color=rx.color("gray", 11)),
            rx.button("Start a chat", on_click=ChatState.new_chat, size="3"),
            align="center",
            spacing="4",
        ),
        height="100vh",
        width="100%",
    )


@shell("Chat")
def chat_page() -> rx.Component:
    """The chat page."""
    return rx.hstack(sidebar(), rx.cond(ChatState.chat_id != "", open_chat(), no_chat()), spacing="0", width="100%")
