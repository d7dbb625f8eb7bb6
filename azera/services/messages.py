"""Chat messages as a tree: the active branch, edits (new branch), regenerations (siblings)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from azera.db.models import Chat, ChatMessage, utcnow
from azera.db.rows import require
from azera.errors import ServiceError
from azera.services.chats import get_chat

MAX_MESSAGE_CHARS = 16_000


def clean_message(text: str) -> str:
    """Validate what the user typed (not empty, within the limit)."""
    text = text.strip()
    if not text:
        raise ServiceError("The message is empty")
    if len(text) > MAX_MESSAGE_CHARS:
        raise ServiceError(f"The message is {len(text):,} characters long; the limit is {MAX_MESSAGE_CHARS:,}")
    return text


def get_message(session: Session, message_id: str) -> ChatMessage:
    """A message by id."""
    return require(session, ChatMessage, message_id, "message")


def chat_messages(session: Session, chat_id: str) -> list[ChatMessage]:
    """Every message of a chat, every branch, oldest first."""
    return list(
        session.exec(select(ChatMessage).where(ChatMessage.chat_id == chat_id).order_by(col(ChatMessage.created_at)))
    )


def branch_of(messages: list[ChatMessage], leaf_id: str | None) -> list[ChatMessage]:
    """The messages from the root to ``leaf_id``, oldest first."""
    by_id = {message.id: message for message in messages}
    path: list[ChatMessage] = []
    current = by_id.get(leaf_id or "")
    while current is not None:
        path.append(current)
        current = by_id.get(current.parent_id or "")
    return list(reversed(path))


def active_branch(session: Session, chat: Chat) -> list[ChatMessage]:
    """Messages from the root to the active leaf, oldest first."""
    return branch_of(chat_messages(session, chat.id), chat.active_leaf_id)


def siblings(session: Session, message: ChatMessage) -> list[ChatMessage]:
    """Messages sharing ``message``'s parent and role (its alternative branches), oldest first."""
    query = select(ChatMessage).where(ChatMessage.chat_id == message.chat_id, ChatMessage.role == message.role)
    query = query.where(
        col(ChatMessage.parent_id).is_(None)
        if message.parent_id is None
        else ChatMessage.parent_id == message.parent_id
    )
    return list(session.exec(query.order_by(col(ChatMessage.created_at))))


def _append(session: Session, chat: Chat, *, parent_id: str | None, role: str, content: str, **fields) -> ChatMessage:
    branch = 0
    if parent_id is not None or role == "user":
        probe = ChatMessage(chat_id=chat.id, parent_id=parent_id, role=role)
        branch = len(siblings(session, probe))
    message = ChatMessage(chat_id=chat.id, parent_id=parent_id, role=role, content=content, branch=branch, **fields)
    session.add(message)
    chat.active_leaf_id = message.id
    chat.updated_at = utcnow()
    session.add(chat)
    session.flush()
    return message


def append_message(
    session: Session, chat: Chat, *, parent_id: str | None, role: str, content: str, created_at: datetime
) -> ChatMessage:
    """A finished message from elsewhere (an imported chat) under ``parent_id``, with its own date."""
    if role not in ("user", "assistant"):
        raise ServiceError(f"Unknown role '{role}'")
    return _append(session, chat, parent_id=parent_id, role=role, content=content, created_at=created_at)


def add_user_message(session: Session, chat_id: str, text: str) -> ChatMessage:
    """Save what the user typed at the end of the active branch (before any model call)."""
    chat = get_chat(session, chat_id)
    return _append(session, chat, parent_id=chat.active_leaf_id, role="user", content=clean_message(text))


def edit_user_message(session: Session, message_id: str, text: str) -> ChatMessage:
    """Editing a user message starts a new branch beside it; the original stays."""
    original = get_message(session, message_id)
    if original.role != "user":
        raise ServiceError("Only your own messages can be edited")
    chat = get_chat(session, original.chat_id)
    return _append(session, chat, parent_id=original.parent_id, role="user", content=clean_message(text))


def start_reply(session: Session, chat_id: str, parent_id: str, model: str) -> ChatMessage:
    """Create the (empty, streaming) assistant message answering ``parent_id``."""
    chat = get_chat(session, chat_id)
    parent = get_message(session, parent_id)
    if parent.role != "user" or parent.chat_id != chat_id:
        raise ServiceError("A reply must answer a user message of this chat")
    return _append(session, chat, parent_id=parent_id, role="assistant", content="", model=model, status="streaming")


def save_reply(session: Session, message_id: str, *, content: str, thinking: str, status: str) -> ChatMessage:
    """Store the reply's text so far and its status (streaming, complete, stopped, error)."""
    message = get_message(session, message_id)
    message.content, message.thinking, message.status = content, thinking, status
    session.add(message)
    return message


def switch_branch(session: Session, message_id: str) -> Chat:
    """Make the branch through ``message_id`` active, following its newest descendants to a leaf."""
    message = get_message(session, message_id)
    chat = get_chat(session, message.chat_id)
    children: dict[str | None, list[ChatMessage]] = {}
    for row in chat_messages(session, chat.id):
        children.setdefault(row.parent_id, []).append(row)
    leaf = message
    while children.get(leaf.id):
        leaf = children[leaf.id][-1]
    chat.active_leaf_id = leaf.id
    session.add(chat)
    return chat


def mark_interrupted(session: Session) -> int:
    """Replies still 'streaming' when the app starts were cut by a crash: mark them 'interrupted'."""
    cut = list(session.exec(select(ChatMessage).where(ChatMessage.status == "streaming")))
    for message in cut:
        message.status = "interrupted"
        session.add(message)
    return len(cut)
