"""Journal page: reflections and journal-mode articles."""

from __future__ import annotations

import reflex as rx

from azera.components.archive import writings_toolbar
from azera.components.markdown import safe_markdown
from azera.components.shell import page_header, shell
from azera.state.journal import EntryRow, JournalState


def entry_card(entry: EntryRow) -> rx.Component:
    """One entry, collapsed to its title; opened, the markdown text, mood and insights."""
    return rx.el.details(
        rx.el.summary(
            rx.hstack(
                rx.text(entry["title"], weight="medium"),
                rx.spacer(),
                rx.badge(entry["persona"], color_scheme="violet"),
                rx.cond(entry["mood"] != "", rx.badge(entry["mood"], color_scheme="teal")),
                rx.badge(entry["source"], variant="outline"),
                rx.text(entry["created"], size="1", color=rx.color("gray", 10)),
                width="100%",
            ),
            cursor="pointer",
        ),
        safe_markdown(entry["content"], class_name="journal-text"),
        rx.cond(
            entry["insights"].length() > 0,
            rx.vstack(
                rx.text("Insights", size="1", weight="bold", color=rx.color("gray", 10)),
                rx.unordered_list(rx.foreach(entry["insights"], lambda item: rx.list_item(item))),
                spacing="1",
                class_name="journal-insights",
            ),
        ),
        class_name="journal-card",
        padding="10px 14px",
        border=f"1px solid {rx.color('gray', 4)}",
        border_radius="10px",
        width="100%",
    )


@shell("Journal")
def journal_page() -> rx.Component:
    """The journal page."""
    return rx.box(
        page_header(
            "Journal",
            "Daily reflections on the day's conversations, and articles compiled from journal mode in chat.",
        ),
        writings_toolbar(
            JournalState,
            name="journal",
            search="Search the journal…",
            button=("notebook-pen", "Reflect now", "reflect-now"),
            busy=(" reflecting…", "reflecting"),
        ),
        rx.vstack(rx.foreach(JournalState.entries, entry_card), spacing="3", padding_top="12px", width="100%"),
        rx.cond(
            JournalState.entries.length() == 0,
            rx.text(
                rx.cond(
                    JournalState.query == "",
                    "No entries yet. They are written each evening, or now with Reflect now.",
                    "No entry contains every word of that search.",
                ),
                color=rx.color("gray", 10),
            ),
        ),
        padding="32px",
        max_width="900px",
    )
