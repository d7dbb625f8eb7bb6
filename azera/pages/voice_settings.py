"""The Settings page's Voice section: auto-speak, engines and voices with previews, voice samples."""

from __future__ import annotations

import reflex as rx

from azera.state.preferences import PreferencesState
from azera.state.voice import EngineRow, SampleRow, VoiceRow, VoiceState

SAMPLE_UPLOAD = "voice-sample-upload"


def _engine(engine: EngineRow) -> rx.Component:
    return rx.hstack(
        rx.badge(rx.cond(engine["usable"], "ready", "off"), color_scheme=rx.cond(engine["usable"], "green", "gray")),
        rx.text(engine["label"], weight="medium", size="2"),
        rx.cond(engine["cloning"], rx.badge("cloning", variant="soft", color_scheme="violet")),
        rx.text(engine["detail"], size="1", color=rx.color("gray", 10)),
        spacing="2",
        align="center",
        class_name="voice-engine",
    )


def _voice(voice: VoiceRow) -> rx.Component:
    return rx.hstack(
        rx.icon_button(
            rx.icon("play", size=12),
            size="1",
            variant="ghost",
            on_click=VoiceState.preview(voice["spec"]),
            class_name="preview-voice",
            aria_label="Preview",
        ),
        rx.text(voice["label"], size="2"),
        rx.code(voice["spec"], size="1"),
        spacing="2",
        align="center",
        class_name="voice-row",
    )


def _sample(sample: SampleRow) -> rx.Component:
    return rx.hstack(
        rx.text(sample["name"], weight="medium", size="2"),
        rx.text(sample["seconds"], size="1", color=rx.color("gray", 10)),
        rx.el.audio(src=sample["url"], controls=True, preload="none", style={"height": "28px"}),
        rx.spacer(),
        rx.menu.root(
            rx.menu.trigger(rx.button("Use for…", size="1", variant="soft", disabled=~VoiceState.can_clone)),
            rx.menu.content(
                rx.foreach(
                    VoiceState.personas,
                    lambda persona: rx.menu.item(
                        persona["label"], on_click=VoiceState.attach_sample(persona["spec"], sample["name"])
                    ),
                )
            ),
        ),
        rx.button(
            "Delete", size="1", color_scheme="red", variant="soft", on_click=VoiceState.delete_sample(sample["name"])
        ),
        width="100%",
        align="center",
        class_name="voice-sample",
    )


def voice_section() -> rx.Component:
    """Voice: auto-speak, engines, voices, samples."""
    return rx.vstack(
        rx.heading("Voice", size="4", padding_top="24px"),
        rx.hstack(
            rx.vstack(
                rx.text("Auto-speak replies", weight="medium"),
                rx.text("Read each new reply aloud in its persona's voice.", size="1", color=rx.color("gray", 10)),
                spacing="0",
            ),
            rx.spacer(),
            rx.switch(checked=PreferencesState.auto_speak, on_change=PreferencesState.set_auto_speak, id="auto-speak"),
            width="100%",
        ),
        rx.text("Engines", weight="medium", size="2"),
        rx.foreach(VoiceState.engines, _engine),
        rx.text("Speech to text: ", VoiceState.speech_to_text, size="2", id="stt-state"),
        rx.el.details(
            rx.el.summary(rx.text("Installed voices (", VoiceState.voices.length(), ")", size="2", as_="span")),
            rx.vstack(rx.foreach(VoiceState.voices, _voice), spacing="1", max_height="260px", overflow_y="auto"),
            id="installed-voices",
            width="100%",
        ),
        rx.text("Voice samples (for cloning)", weight="medium", size="2"),
        rx.cond(
            VoiceState.can_clone,
            rx.text("Samples are voices of the cloning engine; pick one for a persona.", size="1"),
            rx.text(
                "Cloning needs an XTTS server (AZERA_XTTS_URL) or Coqui in-process; "
                "samples uploaded now are ready for it.",
                size="1",
                color=rx.color("amber", 11),
                id="cloning-needs",
            ),
        ),
        rx.upload(
            rx.button(rx.icon("upload"), "Upload a sample (WAV, MP3, OGG, FLAC; ≤ 60 s)", variant="soft", size="2"),
            id=SAMPLE_UPLOAD,
            accept={"audio/*": [".wav", ".mp3", ".ogg", ".flac"]},
            max_size=10 * 1024 * 1024,
            multiple=False,
            on_drop=VoiceState.upload_sample(rx.upload_files(upload_id=SAMPLE_UPLOAD)),
            border="none",
            padding="0",
        ),
        rx.foreach(VoiceState.samples, _sample),
        width="100%",
        spacing="2",
        align="start",
    )
