"""Dreams page."""

from __future__ import annotations

import reflex as rx

from azera.components.archive import writings_toolbar
from azera.components.shell import page_header, shell
from azera.state.dreams import DreamRow, DreamsState


def dream_card(dream: DreamRow) -> rx.Component:
    """One dream, collapsed to its title."""
    return rx.el.details(
        rx.el.summary(
            rx.hstack(
                rx.text(dream["title"], weight="medium"),
                rx.spacer(),
                rx.badge(dream["persona"], color_scheme="violet"),
                rx.badge(dream["emotion"], color_scheme="teal"),
                rx.text(dream["created"], size="1", color=rx.color("gray", 10)),
                width="100%",
            ),
            cursor="pointer",
        ),
        rx.text(dream["content"], white_space="pre-wrap", padding_top="8px"),
        rx.text("themes: ", dream["themes"], size="1", color=rx.color("gray", 10)),
        class_name="dream-card",
        padding="10px 14px",
        border=f"1px solid {rx.color('gray', 4)}",
        border_radius="10px",
        width="100%",
    )


@shell("Dreams")
def dreams_page() -> rx.Component:
    """The dreams page."""
    return rx.box(
        page_header("Dreams", "Written while a persona is tired or left alone, from its own recent memories."),
        writings_toolbar(
            DreamsState,
            name="dream",
            search="Search dreams…",
            button=("moon", "Dream now", "dream-now"),
            busy=(" dreaming…", "dreaming"),
        ),
        rx.vstack(rx.foreach(DreamsState.dreams, dream_card), spacing="3", padding_top="12px", width="100%"),
        rx.cond(DreamsState.dreams.length() == 0, rx.text("No dreams yet.", color=rx.color("gray", 10))),
        padding="32px",
        max_width="900px",
    )
