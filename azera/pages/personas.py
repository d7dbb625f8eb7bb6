"""Personas page: list, rendered profile, editor with live preview, versions."""

from __future__ import annotations

import reflex as rx

from azera.components.dialogs import confirm_delete
from azera.components.markdown import safe_markdown
from azera.components.shell import page_header, shell
from azera.state.personas import PersonaRow, PersonaState, VersionRow
from azera.state.voice import VoiceState


def persona_item(persona: PersonaRow) -> rx.Component:
    """A persona in the list."""
    active = PersonaState.selected_id == persona["id"]
    return rx.hstack(
        rx.box(width="4px", height="28px", background=persona["color"], border_radius="2px"),
        rx.cond(
            persona["avatar"] != "",
            rx.image(src=persona["avatar"], width="28px", height="28px", border_radius="50%", object_fit="cover"),
        ),
        rx.text(persona["emoji"], " ", persona["name"], weight="medium"),
        rx.spacer(),
        rx.badge(persona["kind"], variant="soft", color_scheme=rx.cond(persona["kind"] == "ai", "violet", "teal")),
        on_click=PersonaState.select(persona["id"]),
        cursor="pointer",
        padding="6px 8px",
        border_radius="8px",
        width="100%",
        background=rx.cond(active, rx.color("violet", 4), "transparent"),
        class_name="persona-item",
        _hover={"background": rx.color("violet", 3)},
    )


def version_item(version: VersionRow) -> rx.Component:
    """One saved version with a restore button."""
    return rx.hstack(
        rx.badge("v", version["number"]),
        rx.text(version["created"], size="2"),
        rx.text(version["note"], size="2", color=rx.color("gray", 10)),
        rx.spacer(),
        rx.button("Restore", size="1", variant="soft", on_click=PersonaState.restore(version["number"])),
        width="100%",
        class_name="version-item",
    )


def delete_dialog() -> rx.Component:
    """Confirm before deleting (built-in personas say so)."""
    return confirm_delete(
        rx.button(rx.icon("trash-2"), "Delete", color_scheme="red", variant="soft", id="delete-persona"),
        "Delete " + PersonaState.selected_name + "?",
        rx.cond(
            PersonaState.selected_seeded,
            "This is a built-in persona. Its file goes to the trash folder and its versions are kept.",
            "Its file goes to the trash folder and its versions are kept.",
        ),
        PersonaState.delete_selected,
        "confirm-delete-persona",
    )


def profile_view() -> rx.Component:
    """The selected persona's rendered profile and versions."""
    return rx.vstack(
        rx.hstack(
            rx.button(
                rx.icon("pencil"),
                "Edit",
                on_click=[PersonaState.start_edit, VoiceState.load_picker(PersonaState.document)],
                id="edit-persona",
            ),
            rx.button(
                rx.icon("download"), "Export card", variant="soft", on_click=PersonaState.export_card, id="export-card"
            ),
            delete_dialog(),
            spacing="3",
        ),
        rx.tabs.root(
            rx.tabs.list(
                rx.tabs.trigger("Profile", value="profile"),
                rx.tabs.trigger("Versions", value="versions", id="versions-tab"),
            ),
            rx.tabs.content(
                rx.box(safe_markdown(PersonaState.profile), id="persona-profile", padding_top="12px"), value="profile"
            ),
            rx.tabs.content(
                rx.vstack(rx.foreach(PersonaState.versions, version_item), padding_top="12px", width="100%"),
                value="versions",
            ),
            default_value="profile",
            width="100%",
        ),
        width="100%",
        spacing="4",
    )


def voice_picker() -> rx.Component:
    """The persona's voice from the installed ones, its speed, and a preview (written into the front matter)."""
    return rx.hstack(
        rx.text("Voice", size="2", weight="medium"),
        rx.select.root(
            rx.select.trigger(placeholder="default for this persona", min_width="260px", id="persona-voice"),
            rx.select.content(
                rx.foreach(VoiceState.voices, lambda voice: rx.select.item(voice["label"], value=voice["spec"]))
            ),
            value=VoiceState.picked_voice,
            on_change=VoiceState.pick,
        ),
        rx.text("speed ", VoiceState.picked_speed, size="2"),
        rx.slider(
            value=[VoiceState.picked_speed],
            min=0.5,
            max=2.0,
            step=0.05,
            on_value_commit=VoiceState.pick_speed,
            width="140px",
            id="persona-voice-speed",
        ),
        rx.button(
            rx.icon("play", size=14),
            "Preview",
            size="1",
            variant="soft",
            on_click=VoiceState.preview(VoiceState.picked_voice + "@" + VoiceState.picked_speed.to_string()),
            disabled=VoiceState.picked_voice == "",
            id="preview-persona-voice",
        ),
        align="center",
        spacing="3",
        width="100%",
    )


def editor() -> rx.Component:
    """Markdown editor with front matter and a live preview."""
    return rx.vstack(
        rx.hstack(
            rx.heading(rx.cond(PersonaState.creating, "New persona", "Edit persona"), size="5"),
            rx.spacer(),
            rx.button("Cancel", variant="soft", on_click=PersonaState.cancel_edit),
            rx.button("Save", on_click=PersonaState.save, disabled=PersonaState.draft_error != "", id="save-persona"),
            width="100%",
        ),
        voice_picker(),
        rx.grid(
            rx.text_area(
                value=PersonaState.draft,
                on_change=PersonaState.set_draft,
                font_family="'JetBrains Mono', monospace",
                height="70vh",
                id="persona-editor",
            ),
            rx.box(
                safe_markdown(PersonaState.preview),
                height="70vh",
                overflow_y="auto",
                padding="0 12px",
                id="persona-preview",
            ),
            columns="2",
            spacing="4",
            width="100%",
        ),
        width="100%",
    )


CARD_UPLOAD = "card-upload"


@shell("Personas")
def personas_page() -> rx.Component:
    """The personas page."""
    return rx.hstack(
        rx.vstack(
            page_header("Personas"),
            rx.button(
                rx.icon("plus"),
                "New persona",
                on_click=[PersonaState.start_create, VoiceState.load_picker("")],
                width="100%",
                id="new-persona",
            ),
            rx.upload(
                rx.button(rx.icon("id-card"), "Import card", variant="soft", width="100%"),
                id=CARD_UPLOAD,
                accept={"image/png": [".png"], "application/json": [".json"]},
                max_size=20 * 1024 * 1024,
                multiple=False,
                on_drop=PersonaState.import_card(rx.upload_files(upload_id=CARD_UPLOAD)),
                border="none",
                padding="0",
                width="100%",
            ),
            rx.foreach(PersonaState.personas, persona_item),
            rx.foreach(
                PersonaState.problems,
                lambda problem: rx.callout(problem, icon="triangle-alert", color_scheme="amber", size="1"),
            ),
            width="280px",
            padding="24px 12px",
            spacing="2",
        ),
        rx.box(
            rx.cond(PersonaState.editing, editor(), profile_view()),
            flex="1",
            padding="24px",
        ),
        align="start",
        width="100%",
    )
