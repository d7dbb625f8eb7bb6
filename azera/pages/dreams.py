"""Dreams page."""

from __future__ import annotations

import reflex as rx

from azera.components.archive import import_button
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
        rx.hstack(
            rx.input(
                placeholder="Search dreams…",
                value=DreamsState.query,
                on_change=DreamsState.set_query.debounce(300),
                width="260px",
                id="dream-search",
            ),
            rx.spacer(),
            rx.select(DreamsState.personas, value=DreamsState.persona, on_change=DreamsState.set_persona),
            rx.button(rx.icon("moon"), "Dream now", on_click=DreamsState.dream, id="dream-now"),
            import_button("dream-import", DreamsState.import_archive),
            width="100%",
            align="center",
        ),
        rx.cond(
            DreamsState.dreaming.length() > 0,
            rx.hstack(rx.spinner(size="1"), rx.text(DreamsState.dreaming.join(", "), " dreaming…"), id="dreaming"),
        ),
        rx.vstack(rx.foreach(DreamsState.dreams, dream_card), spacing="3", padding_top="12px", width="100%"),
        rx.cond(DreamsState.dreams.length() == 0, rx.text("No dreams yet.", color=rx.color("gray", 10))),
        rx.moment(interval=5000, on_change=DreamsState.poll, display="none"),
        padding="32px",
        max_width="900px",
    )
