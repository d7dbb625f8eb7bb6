"""Canvas page: prompt and settings, reference image, progress with a live preview, queue, gallery."""

from __future__ import annotations

import reflex as rx

from azera.components.dialogs import confirm_delete
from azera.components.shell import page_header, shell
from azera.images.base import ASPECTS
from azera.state.canvas import CanvasState, ImageRow

REFERENCE_UPLOAD = "canvas-reference"


def _field(label: str, hint: str, control: rx.Component) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="2", weight="medium"),
        control,
        rx.text(hint, size="1", color=rx.color("gray", 10)),
        spacing="1",
        width="100%",
    )


def _number(name: str, value, low: float, high: float, step: float, hint: str, label: str) -> rx.Component:
    return _field(
        label,
        hint,
        rx.input(
            name=name,
            id=f"canvas-{name}",
            type="number",
            default_value=value.to_string(),
            min=low,
            max=high,
            step=step,
            width="100%",
        ),
    )


def settings_form() -> rx.Component:
    """Prompt, negative prompt, backend, size, steps, CFG, seed, batch, reference and strength."""
    return rx.form(
        rx.vstack(
            rx.text_area(name="prompt", id="canvas-prompt", placeholder="What to draw…", rows="4", width="100%"),
            rx.text_area(
                name="negative_prompt",
                id="canvas-negative",
                placeholder="Negative prompt (what to avoid)",
                rows="2",
                width="100%",
            ),
            rx.hstack(
                _field(
                    "Backend",
                    "",
                    rx.select(CanvasState.backends, value=CanvasState.backend, on_change=CanvasState.set_backend),
                ),
                _field(
                    "Model",
                    "",
                    rx.select(CanvasState.models, value=CanvasState.model, on_change=CanvasState.set_model, id="model"),
                ),
                _field(
                    "Aspect",
                    "",
                    rx.select(list(ASPECTS), value=CanvasState.aspect, on_change=CanvasState.set_aspect, id="aspect"),
                ),
                width="100%",
            ),
            rx.hstack(
                _number("width", CanvasState.width, 64, 2048, 8, "multiple of 8", "Width"),
                _number("height", CanvasState.height, 64, 2048, 8, "multiple of 8", "Height"),
                key=CanvasState.width.to_string() + "x" + CanvasState.height.to_string(),
                width="100%",
            ),
            rx.hstack(
                _number("steps", CanvasState.steps, 1, 150, 1, "SD 1.5, 2 CPU cores: 15-30 s a step at 512²", "Steps"),
                _number("cfg", CanvasState.cfg, 0, 30, 0.5, "how closely to follow the prompt", "CFG"),
                width="100%",
            ),
            rx.hstack(
                _field("Seed", "empty = random (shown after)", rx.input(name="seed", id="canvas-seed", width="100%")),
                _number("batch", CanvasState.batch, 1, 4, 1, "1-4 pictures", "Batch"),
                width="100%",
            ),
            reference_picker(),
            rx.hstack(
                rx.button(
                    rx.icon("paintbrush"),
                    "Generate",
                    type="submit",
                    id="generate",
                    disabled=CanvasState.backends.length() == 0,
                ),
                rx.button(
                    "Cancel",
                    type="button",
                    variant="soft",
                    color_scheme="red",
                    on_click=CanvasState.cancel,
                    disabled=CanvasState.job_state != "running",
                    id="cancel-generation",
                ),
                spacing="2",
            ),
            spacing="3",
            width="100%",
        ),
        on_submit=CanvasState.generate,
        width="360px",
    )


def reference_picker() -> rx.Component:
    """A reference image for img2img, and how far to move from it."""
    return rx.vstack(
        rx.hstack(
            rx.upload(
                rx.button(rx.icon("image-plus"), "Reference image", variant="soft", size="1", type="button"),
                id=REFERENCE_UPLOAD,
                accept={"image/*": [".png", ".jpg", ".jpeg", ".webp"]},
                max_size=20 * 1024 * 1024,
                multiple=False,
                on_drop=CanvasState.upload_reference(rx.upload_files(upload_id=REFERENCE_UPLOAD)),
                border="none",
                padding="0",
            ),
            rx.cond(
                CanvasState.reference != "",
                rx.button("Remove", size="1", variant="ghost", type="button", on_click=CanvasState.clear_reference),
            ),
            align="center",
        ),
        rx.cond(
            CanvasState.reference != "",
            rx.hstack(
                rx.image(
                    src=CanvasState.reference_url, width="64px", height="64px", object_fit="cover", id="reference-thumb"
                ),
                _number("strength", CanvasState.strength, 0.05, 1, 0.05, "0 keeps it, 1 ignores it", "Strength"),
                align="center",
                width="100%",
            ),
        ),
        width="100%",
    )


def progress_panel() -> rx.Component:
    """The drawing under way: step of total, live preview, what waits."""
    return rx.vstack(
        rx.cond(
            CanvasState.job_state != "",
            rx.hstack(
                rx.badge(CanvasState.job_state, id="job-state"),
                rx.progress(value=CanvasState.percent, width="260px", id="generation-progress"),
                rx.text("step ", CanvasState.step, " / ", CanvasState.total, size="2", id="generation-step"),
                rx.text(CanvasState.last_seed, size="1", color=rx.color("gray", 10), id="last-seed"),
                rx.el.span(data_steps=CanvasState.steps_seen, id="steps-seen", display="none"),
                align="center",
                spacing="3",
            ),
        ),
        rx.cond(CanvasState.message != "", rx.callout(CanvasState.message, size="1", id="generation-message")),
        rx.cond(CanvasState.preview != "", rx.image(src=CanvasState.preview, width="128px", id="live-preview")),
        rx.foreach(CanvasState.queue, lambda row: rx.text("• ", row["prompt"], " (", row["state"], ")", size="1")),
        spacing="2",
        width="100%",
    )


def _card(image: ImageRow) -> rx.Component:
    return rx.vstack(
        rx.image(
            src=image["url"],
            width="180px",
            height="180px",
            object_fit="cover",
            cursor="zoom-in",
            on_click=CanvasState.open_image(image["id"]),
            alt=image["prompt"],
        ),
        rx.text(image["prompt"], size="1", max_width="180px", trim="both", class_name="gallery-prompt"),
        rx.hstack(
            rx.icon_button(
                rx.icon("download", size=14),
                size="1",
                variant="ghost",
                on_click=rx.download(url=image["url"], filename="azera-" + image["id"] + ".png"),
                class_name="download-image",
            ),
            rx.icon_button(
                rx.icon("rotate-ccw", size=14),
                size="1",
                variant="ghost",
                on_click=CanvasState.reuse(image["id"]),
                class_name="reuse-image",
            ),
            confirm_delete(
                rx.icon_button(
                    rx.icon("trash-2", size=14),
                    size="1",
                    variant="ghost",
                    color_scheme="red",
                    class_name="delete-image",
                ),
                "Delete this picture?",
                "The PNG is removed from the data folder.",
                CanvasState.delete_image(image["id"]),
                "confirm-delete-image",
            ),
            spacing="2",
        ),
        class_name="gallery-card",
        spacing="1",
    )


def _opened() -> rx.Component:
    return rx.cond(
        CanvasState.opened != "",
        rx.box(
            rx.image(src=CanvasState.opened_url, max_width="90vw", max_height="90vh", id="opened-image"),
            on_click=CanvasState.open_image(""),
            position="fixed",
            inset="0",
            z_index="60",
            display="flex",
            align_items="center",
            justify_content="center",
            background="rgba(0,0,0,0.8)",
            cursor="zoom-out",
        ),
    )


@shell("Canvas")
def canvas_page() -> rx.Component:
    """The Canvas page."""
    return rx.box(
        page_header("Canvas", "Draw with a Stable Diffusion model or server; pictures are kept in the gallery."),
        rx.cond(
            CanvasState.hint != "",
            rx.callout(CanvasState.hint, icon="info", color_scheme="amber", id="no-backend", margin_bottom="16px"),
        ),
        rx.hstack(
            settings_form(),
            rx.vstack(
                progress_panel(),
                rx.heading("Gallery", size="4"),
                rx.flex(rx.foreach(CanvasState.gallery, _card), wrap="wrap", gap="12px", id="gallery"),
                flex="1",
                spacing="3",
            ),
            align="start",
            spacing="6",
            width="100%",
        ),
        _opened(),
        padding="32px",
    )
