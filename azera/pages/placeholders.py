"""Pages whose features arrive in later work; each says plainly what it will hold."""

from __future__ import annotations

import reflex as rx

from azera.components.shell import not_built, shell


@shell("Canvas")
def canvas() -> rx.Component:
    """Image generation."""
    return not_built(
        "Canvas",
        "Image generation with a diffusers pipeline is planned; nothing is generated yet.",
        [
            "Prompt, negative prompt, model, aspect ratio, steps (28), CFG (7), seed",
            "Reference image for img2img",
            "Per-step progress bar",
            "Gallery with download and delete",
        ],
    )
