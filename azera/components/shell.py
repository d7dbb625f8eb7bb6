"""The shared page shell: navigation rail on the left, page content on the right."""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx

from azera.components.voice import voice_player
from azera.state.preferences import PreferencesState

ACCENT = "#8b5cf6"
TEAL = "#14b8a6"

NAV_ITEMS: list[tuple[str, str, str]] = [
    ("Chat", "/", "message-circle"),
    ("Canvas", "/canvas", "palette"),
    ("Dreams", "/dreams", "moon"),
    ("Journal", "/journal", "book-open"),
    ("Personas", "/personas", "users"),
    ("Memories", "/memories", "brain"),
    ("Models", "/models", "cpu"),
    ("Settings", "/settings", "settings"),
]


def nav_link(label: str, href: str, icon: str, active: bool) -> rx.Component:
    """One entry of the navigation rail."""
    return rx.link(
        rx.vstack(
            rx.icon(icon, size=20),
            rx.text(label, size="1"),
            align="center",
            spacing="1",
        ),
        href=href,
        id=f"nav-{label.lower()}",
        underline="none",
        color=rx.cond(active, "white", rx.color("gray", 11)),
        background=rx.cond(active, f"linear-gradient(135deg, {ACCENT}, {TEAL})", "transparent"),
        border_radius="12px",
        padding="8px 4px",
        width="64px",
        _hover={"background": rx.color("violet", 4)},
    )


def nav_rail(active: str) -> rx.Component:
    """The vertical navigation between Azera's pages."""
    return rx.vstack(
        rx.heading(
            "Az",
            size="5",
            background_image=f"linear-gradient(135deg, {ACCENT}, {TEAL})",
            background_clip="text",
            color="transparent",
            padding_y="8px",
        ),
        *[nav_link(label, href, icon, label == active) for label, href, icon in NAV_ITEMS],
        align="center",
        spacing="2",
        padding="10px 6px",
        height="100vh",
        border_right=f"1px solid {rx.color('gray', 4)}",
        background=rx.color("gray", 2),
        position="sticky",
        top="0",
    )


def shell(active: str) -> Callable[[Callable[[], rx.Component]], Callable[[], rx.Component]]:
    """Decorator: wrap a page body in the navigation shell."""

    def wrap(body: Callable[[], rx.Component]) -> Callable[[], rx.Component]:
        def page() -> rx.Component:
            return rx.hstack(
                nav_rail(active),
                rx.box(body(), flex="1", height="100vh", overflow_y="auto"),
                voice_player(),
                spacing="0",
                width="100%",
                font_family=PreferencesState.font_family,
                font_size=PreferencesState.font_size_px,
            )

        page.__name__ = body.__name__
        return page

    return wrap


def page_header(title: str, subtitle: str = "") -> rx.Component:
    """A page title with an optional line under it."""
    return rx.vstack(
        rx.heading(title, size="7"),
        rx.cond(subtitle != "", rx.text(subtitle, color=rx.color("gray", 11))),
        spacing="1",
        padding_bottom="12px",
    )
