"""Voice on every page: the player bar, a message's speaker button, the composer's microphone."""

from __future__ import annotations

import reflex as rx

from azera.state.chat_rows import backend_base
from azera.state.voice import VoiceState


def voice_player() -> rx.Component:
    """A small bar at the lower right while something is read aloud (``assets/voice.js`` drives it)."""
    return rx.hstack(
        rx.icon("volume-2", size=16),
        rx.el.span(id="voice-status", font_size="13px"),
        rx.el.audio(id="voice-audio", controls=True, preload="auto", style={"height": "32px", "maxWidth": "260px"}),
        rx.icon_button(
            rx.icon("x", size=14),
            size="1",
            variant="ghost",
            on_click=rx.call_script("window.azeraVoice && window.azeraVoice.stop()"),
            id="voice-stop",
            aria_label="Stop speaking",
        ),
        id="voice-player",
        display="none",
        position="fixed",
        bottom="112px",  # above the chat composer
        right="24px",
        z_index="50",
        align="center",
        spacing="2",
        padding="6px 10px",
        border_radius="12px",
        background=rx.color("gray", 3),
        border=f"1px solid {rx.color('gray', 6)}",
    )


def speak_button(message_id: rx.Var[str]) -> rx.Component:
    """Read this message aloud in its persona's voice."""
    return rx.tooltip(
        rx.icon_button(
            rx.icon("volume-2", size=14),
            size="1",
            variant="ghost",
            on_click=VoiceState.speak(message_id),
            class_name="speak-message",
            aria_label="Read aloud",
        ),
        content="Read aloud",
    )


def mic_button() -> rx.Component:
    """Push to talk: hold it while speaking; the words land in the message box."""
    return rx.vstack(
        rx.tooltip(
            rx.icon_button(
                rx.icon("mic"),
                type="button",
                variant="soft",
                id="mic",
                aria_label="Hold to talk",
                custom_attrs={"data-api-base": backend_base(), "data-recording": "0"},
                style={"&[data-recording='1']": {"background": "var(--red-9)", "color": "white"}},
            ),
            content="Hold to talk (speech to text)",
        ),
        rx.el.span(id="mic-status", font_size="12px", max_width="220px"),
        spacing="1",
        align="center",
    )
