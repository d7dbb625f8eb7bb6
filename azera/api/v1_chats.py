"""Which chat a ``/v1`` request continues: the ``X-Azera-Chat`` header, the ``user`` field or the history.

See ``api/v1.py`` for the rules; this module keeps them.
"""

from __future__ import annotations

import hashlib
import json

from sqlmodel import Session, select

from azera.api.v1_shapes import OpenAIError
from azera.db.models import Chat
from azera.services import chats
from azera.services import messages as message_service


def history_key(persona_id: str, turns: list[tuple[str, str]]) -> str:
    """The key of a conversation: the persona and its user and assistant messages (system ones left out)."""
    data = json.dumps([persona_id, turns], ensure_ascii=False, separators=(",", ":"))
    return "history:" + hashlib.sha256(data.encode()).hexdigest()


def user_key(persona_id: str, user: str) -> str:
    """The key of a client's ``user``: one chat per persona and user."""
    return "user:" + hashlib.sha256(f"{persona_id}\x00{user}".encode()).hexdigest()


def copy_history(session: Session, chat: Chat, turns: list[tuple[str, str]]) -> None:
    """A new chat gets the client's earlier messages, so the persona sees the conversation it joins."""
    parent: str | None = None
    for role, text in turns:
        if not text.strip():
            continue
        if role == "user":
            parent = message_service.add_user_message(session, chat.id, text[: message_service.MAX_MESSAGE_CHARS]).id
        elif parent is not None:
            reply = message_service.start_reply(session, chat.id, parent, "")
            parent = message_service.save_reply(session, reply.id, content=text, thinking="", status="complete").id
            chat.active_leaf_id = parent
            session.add(chat)


def chat_for(
    session: Session, persona_id: str, header: str, user: str, earlier: list[tuple[str, str]]
) -> tuple[str, str | None, bool]:
    """The chat to continue (made when needed), its history key after the reply (or None), whether it is new."""
    if header:
        chat = session.get(Chat, header)
        if chat is None or chat.ai_persona_id != persona_id:
            raise OpenAIError(404, f"No chat '{header[:40]}' of {persona_id} (X-Azera-Chat)", code="chat_not_found")
        return chat.id, None, False
    key = user_key(persona_id, user) if user else history_key(persona_id, earlier) if earlier else None
    if key is not None:
        found = session.exec(select(Chat).where(Chat.client_key == key)).first()
        if found is not None:
            return found.id, None if user else key, False
    title = f"API: {user[:40]}" if user else "API chat"
    chat = chats.create_chat(session, ai_persona_id=persona_id, title=title)
    if user:
        chat.client_key = key
        session.add(chat)
    elif earlier:
        copy_history(session, chat, earlier)
    return chat.id, None if user else "", True


def set_key(session: Session, chat_id: str, key: str) -> None:
    """After a reply: this chat holds the conversation's new key (an older holder of it lets go)."""
    other = session.exec(select(Chat).where(Chat.client_key == key, Chat.id != chat_id)).first()
    if other is not None:  # the same conversation went on elsewhere: the newest chat holds it
        other.client_key = None
        session.add(other)
        session.flush()
    chat = session.get(Chat, chat_id)
    if chat is not None:
        chat.client_key = key
        session.add(chat)
