"""What the chat page shows, read from SQL: messages of the active branch, recalled memories, drafts."""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict

import reflex as rx
from sqlmodel import Session

from azera.config import get_settings
from azera.db.models import epoch
from azera.mind import journal_mode as journal
from azera.services import chats as chat_service
from azera.services import messages as message_service


class RecallRow(TypedDict):
    """A memory a reply was given, and why."""

    text: str
    kind: str
    created_at: str
    why: str


class MessageRow(TypedDict):
    """A message as the chat page shows it."""

    id: str
    role: str
    content: str
    thinking: str
    status: str
    model: str
    position: str
    previous_id: str
    next_id: str
    recalled: list[RecallRow]


def recall_rows(recalled: list[dict]) -> list[RecallRow]:
    """What a reply was given, with each memory's fused and per-source scores."""
    rows = []
    for item in recalled:
        parts = {**item.get("sources", {}), **{f"+{k}": v for k, v in item.get("context", {}).items()}}
        sources = ", ".join(f"{name} {score:.3g}" for name, score in parts.items())
        why = f"fused {item.get('score', 0):.4f} ({sources})"
        rows.append(RecallRow(text=item["text"], kind=item["kind"], created_at=item["created_at"], why=why))
    return rows


class DraftRow(TypedDict):
    """A journal-mode draft as the chat page shows it."""

    id: str
    kind: str
    content: str
    image_url: str
    time: str


def backend_base() -> str:
    """The prefix of backend URLs in pages: '' in production (one origin, so the login cookie goes along).

    In ``--dev`` mode pages come from another port, so it is the backend's own URL.
    """
    settings = get_settings()
    return "" if settings.frontend_port == settings.backend_port else rx.config.get_config().api_url


def media_url(relative: str) -> str:
    """Where the browser fetches a media file (the backend serves /api/media/)."""
    return f"{backend_base()}{journal.MEDIA_URL}{relative}"


def read_drafts(session: Session, chat_id: str) -> list[DraftRow]:
    """The open journal session's drafts, oldest first."""
    return [
        DraftRow(
            id=draft.id,
            kind=draft.kind,
            content=draft.content,
            image_url=media_url(draft.media_path) if draft.media_path else "",
            time=f"{datetime.fromtimestamp(epoch(draft.created_at)).astimezone():%H:%M}",
        )
        for draft in journal.list_drafts(session, chat_id)
    ]


def chat_id_from_path(path: str) -> str:
    """The chat id in a ``/chat/<id>`` URL ('' elsewhere)."""
    path = path.rstrip("/")
    return path.removeprefix("/chat/") if path.startswith("/chat/") else ""


def read_messages(session: Session, chat_id: str) -> list[MessageRow]:
    """The active branch with each message's place among its alternatives, from one read of the chat."""
    chat = chat_service.get_chat(session, chat_id)
    everything = message_service.chat_messages(session, chat_id)
    alternatives: dict[tuple[str | None, str], list[str]] = {}
    for message in everything:  # oldest first: a message's alternatives share its parent and role
        alternatives.setdefault((message.parent_id, message.role), []).append(message.id)
    rows = []
    for message in message_service.branch_of(everything, chat.active_leaf_id):
        siblings = alternatives[(message.parent_id, message.role)]
        index = siblings.index(message.id)
        rows.append(
            MessageRow(
                id=message.id,
                role=message.role,
                content=message.content,
                thinking=message.thinking,
                status=message.status,
                model=message.model,
                position=f"{index + 1}/{len(siblings)}" if len(siblings) > 1 else "",
                previous_id=siblings[index - 1] if index > 0 else "",
                next_id=siblings[index + 1] if index + 1 < len(siblings) else "",
                recalled=recall_rows(message.recalled or []),
            )
        )
    return rows
