"""Memories page: the memory browser and each persona's knowledge base."""

from __future__ import annotations

import reflex as rx

from azera.components.dialogs import confirm_delete
from azera.components.shell import page_header, shell
from azera.state.memories import MemoriesState
from azera.state.memory_rows import DocumentRow, MemoryRow

UPLOAD_ID = "knowledge-upload"


def _filter(label: str, options, value, on_change, id_: str) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="1", color=rx.color("gray", 10)),
        rx.select(options, value=value, on_change=on_change, id=id_),
        spacing="1",
    )


def filters() -> rx.Component:
    """Search and filters."""
    return rx.hstack(
        rx.input(
            placeholder="Search memories…",
            value=MemoriesState.query,
            on_change=MemoriesState.set_query.debounce(300),
            width="260px",
            id="memory-search",
        ),
        rx.vstack(
            rx.text("Persona", size="1", color=rx.color("gray", 10)),
            rx.select.root(
                rx.select.trigger(id="memory-persona"),
                rx.select.content(
                    rx.select.item("all", value="all"),
                    rx.foreach(MemoriesState.personas, lambda p: rx.select.item(p, value=p)),
                ),
                value=MemoriesState.persona,
                on_change=MemoriesState.set_persona,
            ),
            spacing="1",
        ),
        _filter("Kind", MemoriesState.kinds, MemoriesState.kind, MemoriesState.set_kind, "memory-kind"),
        _filter("Tier", MemoriesState.tiers, MemoriesState.tier, MemoriesState.set_tier, "memory-tier"),
        rx.vstack(
            rx.text("From / until", size="1", color=rx.color("gray", 10)),
            rx.hstack(
                rx.input(type="date", value=MemoriesState.since, on_change=MemoriesState.set_since, id="memory-since"),
                rx.input(type="date", value=MemoriesState.until, on_change=MemoriesState.set_until, id="memory-until"),
            ),
            spacing="1",
        ),
        align="end",
        spacing="3",
        wrap="wrap",
    )


def memory_row(memory: MemoryRow) -> rx.Component:
    """One memory with its actions."""
    return rx.box(
        rx.cond(
            MemoriesState.editing_id == memory["id"],
            rx.form(
                rx.vstack(
                    rx.text_area(name="text", default_value=memory["text"], width="100%", id="memory-editor"),
                    rx.hstack(
                        rx.button("Cancel", type="button", variant="soft", on_click=MemoriesState.cancel_edit),
                        rx.button("Save", type="submit", id="save-memory"),
                    ),
                    width="100%",
                ),
                on_submit=MemoriesState.save_edit,
            ),
            rx.vstack(
                rx.text(memory["text"], size="2", white_space="pre-wrap", class_name="memory-text"),
                rx.hstack(
                    rx.badge(memory["persona"], color_scheme="violet"),
                    rx.badge(memory["kind"], color_scheme="teal"),
                    rx.text(memory["created"], size="1", color=rx.color("gray", 10)),
                    rx.cond(~memory["indexed"], rx.badge("not indexed yet", color_scheme="amber")),
                    rx.spacer(),
                    rx.select(
                        MemoriesState.tier_choices,
                        value=memory["tier"],
                        on_change=lambda tier: MemoriesState.move(memory["id"], tier),
                        size="1",
                        class_name="memory-tier",
                    ),
                    rx.icon_button(
                        rx.icon("pencil", size=14),
                        size="1",
                        variant="soft",
                        on_click=MemoriesState.start_edit(memory["id"]),
                        class_name="edit-memory",
                    ),
                    confirm_delete(
                        rx.icon_button(
                            rx.icon("trash-2", size=14),
                            size="1",
                            color_scheme="red",
                            variant="soft",
                            class_name="delete-memory",
                        ),
                        "Delete this memory?",
                        "It is removed from the database and from every index.",
                        MemoriesState.delete(memory["id"]),
                        "confirm-delete-memory",
                    ),
                    width="100%",
                    align="center",
                ),
                width="100%",
                spacing="1",
            ),
        ),
        padding="10px 12px",
        border=f"1px solid {rx.color('gray', 4)}",
        border_radius="10px",
        width="100%",
        class_name="memory-row",
    )


def document_row(document: DocumentRow) -> rx.Component:
    """One knowledge-base document."""
    return rx.hstack(
        rx.icon("file-text", size=16),
        rx.text(document["name"], weight="medium"),
        rx.text(document["chunks"], " chunks · ", document["created"], size="1", color=rx.color("gray", 10)),
        rx.cond(
            document["indexing"] != "",
            rx.badge(
                rx.icon("hourglass", size=12), document["indexing"], color_scheme="amber", class_name="doc-indexing"
            ),
        ),
        rx.spacer(),
        confirm_delete(
            rx.icon_button(rx.icon("trash-2", size=14), size="1", color_scheme="red", variant="soft"),
            "Delete " + document["name"] + "?",
            "All its chunks are removed from the database and every index.",
            MemoriesState.delete_document(document["name"]),
        ),
        width="100%",
        class_name="document-row",
    )


def knowledge_base() -> rx.Component:
    """Upload txt/md/pdf for a persona; list and delete."""
    return rx.vstack(
        rx.hstack(
            rx.text("Persona"),
            rx.select(MemoriesState.personas, value=MemoriesState.kb_persona, on_change=MemoriesState.set_kb_persona),
            align="center",
        ),
        rx.upload(
            rx.vstack(
                rx.icon("upload"),
                rx.text("Drop .txt, .md or .pdf files here (10 MB at most), or click to choose"),
                align="center",
            ),
            id=UPLOAD_ID,
            accept={"text/plain": [".txt"], "text/markdown": [".md", ".markdown"], "application/pdf": [".pdf"]},
            max_size=10 * 1024 * 1024,
            border=f"1px dashed {rx.color('violet', 8)}",
            padding="24px",
            width="100%",
        ),
        rx.hstack(
            rx.foreach(rx.selected_files(UPLOAD_ID), lambda name: rx.badge(name)),
            rx.button(
                "Add to knowledge base",
                on_click=MemoriesState.upload(rx.upload_files(upload_id=UPLOAD_ID)),
                loading=MemoriesState.kb_busy,
                id="add-documents",
            ),
        ),
        rx.cond(
            MemoriesState.kb_busy,
            rx.vstack(
                rx.progress(value=MemoriesState.kb_progress, width="320px"), rx.text(MemoriesState.kb_status, size="1")
            ),
        ),
        rx.foreach(MemoriesState.kb_documents, document_row),
        rx.cond(MemoriesState.kb_documents.length() == 0, rx.text("No documents yet.", color=rx.color("gray", 10))),
        width="100%",
        spacing="3",
    )


@shell("Memories")
def memories_page() -> rx.Component:
    """The memories page."""
    return rx.box(
        page_header("Memories", "Everything your personas can recall. SQL is the source of truth; indexes follow."),
        rx.cond(
            MemoriesState.waiting > 0,
            rx.callout(
                rx.vstack(
                    rx.text(
                        "Indexing: ",
                        MemoriesState.index_summary,
                        " memories are waiting (recall finds each one once it is indexed)",
                        rx.cond(MemoriesState.index_problem != "", ": " + MemoriesState.index_problem, "."),
                    ),
                    rx.progress(value=MemoriesState.index_percent, max=100, width="100%", id="index-progress"),
                    rx.moment(interval=3000, on_change=MemoriesState.poll_index, display="none"),
                    width="100%",
                ),
                icon="hourglass",
                color_scheme="amber",
                id="index-waiting",
                width="100%",
            ),
        ),
        rx.hstack(
            rx.spacer(),
            rx.tooltip(
                rx.button(
                    rx.icon("refresh-cw", size=14),
                    "Rebuild indexes",
                    on_click=MemoriesState.rebuild_indexes,
                    loading=MemoriesState.rebuilding,
                    variant="soft",
                    size="1",
                    id="rebuild-indexes",
                ),
                content="Re-index every memory from SQL in the background (about 6 minutes per 100,000 memories); "
                "recall uses what is already indexed meanwhile",
            ),
            width="100%",
        ),
        rx.tabs.root(
            rx.tabs.list(
                rx.tabs.trigger("Browse", value="browse"), rx.tabs.trigger("Knowledge base", value="kb", id="kb-tab")
            ),
            rx.tabs.content(
                rx.vstack(
                    filters(),
                    rx.cond(
                        MemoriesState.rows.length() == 0,
                        rx.text(
                            "No memory matches. Memories appear as you chat, and from dreams, the journal and "
                            "the knowledge base.",
                            color=rx.color("gray", 10),
                            id="no-memories",
                        ),
                    ),
                    rx.foreach(MemoriesState.rows, memory_row),
                    spacing="3",
                    padding_top="12px",
                ),
                value="browse",
            ),
            rx.tabs.content(rx.box(knowledge_base(), padding_top="12px"), value="kb"),
            default_value="browse",
        ),
        padding="32px",
        max_width="1000px",
    )
