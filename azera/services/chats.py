"""Chats, groups and tags: the sidebar's records."""

from __future__ import annotations

from sqlalchemy import delete, or_
from sqlmodel import Session, col, select

from azera.db.models import Chat, ChatGroup, ChatMessage, ChatTag, Memory, Tag, utcnow
from azera.db.rows import require
from azera.db.search import contains
from azera.errors import NotFoundError, ServiceError
from azera.services.personas import get_persona

DEFAULT_GROUP = "General"
DEFAULT_TAGS = ("important", "work", "personal", "ideas")
DEFAULT_USER_PERSONA = "protag"
DEFAULT_AI_PERSONA = "azera"
MAX_TITLE = 200
MAX_LABEL = 40


def _clean_label(value: str, what: str, limit: int) -> str:
    value = " ".join(value.split())
    if not value:
        raise ServiceError(f"The {what} must not be empty")
    if len(value) > limit:
        raise ServiceError(f"The {what} is {len(value)} characters long; the limit is {limit}")
    return value


def ensure_defaults(session: Session) -> None:
    """Create the default group and tags if they are missing."""
    if not session.exec(select(ChatGroup).where(ChatGroup.name == DEFAULT_GROUP)).first():
        session.add(ChatGroup(name=DEFAULT_GROUP))
    existing = set(session.exec(select(Tag.name)))
    for name in DEFAULT_TAGS:
        if name not in existing:
            session.add(Tag(name=name))
    session.flush()


def default_group(session: Session) -> ChatGroup:
    """The "General" group (created if missing)."""
    group = session.exec(select(ChatGroup).where(ChatGroup.name == DEFAULT_GROUP)).first()
    if group is None:
        ensure_defaults(session)
        group = session.exec(select(ChatGroup).where(ChatGroup.name == DEFAULT_GROUP)).one()
    return group


def list_groups(session: Session) -> list[ChatGroup]:
    """Groups, "General" first, then by name."""
    groups = list(session.exec(select(ChatGroup).order_by(ChatGroup.name)))
    return sorted(groups, key=lambda group: group.name != DEFAULT_GROUP)


def _group_named(session: Session, name: str) -> ChatGroup | None:
    """The group of that name in any case (compared in Python: SQLite's lower() knows only ASCII)."""
    wanted = name.casefold()
    return next((group for group in session.exec(select(ChatGroup)) if group.name.casefold() == wanted), None)


def create_group(session: Session, name: str) -> ChatGroup:
    """Create a chat group with a unique name."""
    name = _clean_label(name, "group name", 80)
    if _group_named(session, name) is not None:
        raise ServiceError(f"A group called '{name}' already exists")
    group = ChatGroup(name=name)
    session.add(group)
    session.flush()
    return group


def delete_group(session: Session, group_id: int) -> None:
    """Delete a group; its chats move to "General", which cannot be deleted."""
    group = require(session, ChatGroup, group_id, "group")
    if group.name == DEFAULT_GROUP:
        raise ServiceError(f"The '{DEFAULT_GROUP}' group cannot be deleted")
    fallback = default_group(session)
    for chat in session.exec(select(Chat).where(Chat.group_id == group_id)):
        chat.group_id = fallback.id
        session.add(chat)
    session.delete(group)


def rename_group(session: Session, group_id: int, name: str) -> ChatGroup:
    """Give a group a new unique name ("General" keeps its name: new chats land there)."""
    group = require(session, ChatGroup, group_id, "group")
    if group.name == DEFAULT_GROUP:
        raise ServiceError(f"The '{DEFAULT_GROUP}' group cannot be renamed")
    name = _clean_label(name, "group name", 80)
    taken = _group_named(session, name)
    if taken is not None and taken.id != group_id:
        raise ServiceError(f"A group called '{name}' already exists")
    group.name = name
    session.add(group)
    session.flush()
    return group


def list_tags(session: Session) -> list[Tag]:
    """All tags by name."""
    return list(session.exec(select(Tag).order_by(Tag.name)))


def create_tag(session: Session, name: str) -> Tag:
    """Create a tag (lower-case, unique)."""
    name = _clean_label(name, "tag", MAX_LABEL).lower()
    if session.exec(select(Tag).where(Tag.name == name)).first():
        raise ServiceError(f"The tag '{name}' already exists")
    tag = Tag(name=name)
    session.add(tag)
    session.flush()
    return tag


def get_chat(session: Session, chat_id: str) -> Chat:
    """A chat by id."""
    return require(session, Chat, chat_id, "chat")


def create_chat(
    session: Session,
    *,
    ai_persona_id: str,
    user_persona_id: str = DEFAULT_USER_PERSONA,
    title: str = "New chat",
    group_id: int | None = None,
) -> Chat:
    """Start a chat between an AI persona and a user persona."""
    if get_persona(session, ai_persona_id).kind != "ai":
        raise ServiceError(f"'{ai_persona_id}' is not an AI persona")
    if get_persona(session, user_persona_id).kind != "user":
        raise ServiceError(f"'{user_persona_id}' is not a user persona")
    if group_id is not None:
        require(session, ChatGroup, group_id, "group")
    chat = Chat(
        title=_clean_label(title, "title", MAX_TITLE),
        ai_persona_id=ai_persona_id,
        user_persona_id=user_persona_id,
        group_id=group_id or default_group(session).id,
    )
    session.add(chat)
    session.flush()
    return chat


def _touch(session: Session, chat: Chat) -> Chat:
    chat.updated_at = utcnow()
    session.add(chat)
    session.flush()
    return chat


def rename_chat(session: Session, chat_id: str, title: str) -> Chat:
    """Give a chat a new title (1-200 characters)."""
    chat = get_chat(session, chat_id)
    chat.title = _clean_label(title, "title", MAX_TITLE)
    return _touch(session, chat)


def set_chat_personas(
    session: Session, chat_id: str, *, ai_persona_id: str | None = None, user_persona_id: str | None = None
) -> Chat:
    """Switch the AI and/or user persona of a chat."""
    chat = get_chat(session, chat_id)
    if ai_persona_id is not None:
        if get_persona(session, ai_persona_id).kind != "ai":
            raise ServiceError(f"'{ai_persona_id}' is not an AI persona")
        chat.ai_persona_id = ai_persona_id
    if user_persona_id is not None:
        if get_persona(session, user_persona_id).kind != "user":
            raise ServiceError(f"'{user_persona_id}' is not a user persona")
        chat.user_persona_id = user_persona_id
    return _touch(session, chat)


def set_chat_group(session: Session, chat_id: str, group_id: int) -> Chat:
    """Move a chat into a group."""
    chat = get_chat(session, chat_id)
    require(session, ChatGroup, group_id, "group")
    chat.group_id = group_id
    return _touch(session, chat)


def set_chat_tags(session: Session, chat_id: str, tag_names: list[str]) -> Chat:
    """Replace a chat's tags with ``tag_names`` (all must exist)."""
    chat = get_chat(session, chat_id)
    tags = list(session.exec(select(Tag).where(col(Tag.name).in_(tag_names))))
    missing = set(tag_names) - {tag.name for tag in tags}
    if missing:
        raise NotFoundError(f"Unknown tag(s): {', '.join(sorted(missing))}")
    session.exec(delete(ChatTag).where(col(ChatTag.chat_id) == chat_id))  # type: ignore[call-overload]
    for tag in tags:
        session.add(ChatTag(chat_id=chat_id, tag_id=tag.id))  # type: ignore[arg-type]
    return _touch(session, chat)


def chat_tags(session: Session, chat_ids: list[str]) -> dict[str, list[str]]:
    """Tag names per chat id."""
    rows = session.exec(
        select(ChatTag.chat_id, Tag.name).join(Tag).where(col(ChatTag.chat_id).in_(chat_ids)).order_by(Tag.name)
    )
    tags: dict[str, list[str]] = {chat_id: [] for chat_id in chat_ids}
    for chat_id, name in rows:
        tags[chat_id].append(name)
    return tags


def delete_chat(session: Session, chat_id: str) -> None:
    """Delete a chat with its messages, tags and conversation memories."""
    chat = get_chat(session, chat_id)
    for table in (ChatTag, ChatMessage, Memory):
        session.exec(delete(table).where(col(table.chat_id) == chat_id))  # type: ignore[call-overload,attr-defined]
    session.delete(chat)


def list_chats(
    session: Session,
    *,
    search: str = "",
    limit: int = 500,
    offset: int = 0,
    group_id: int | None = None,
    tag: str = "",
    persona_id: str = "",
) -> list[Chat]:
    """Chats, most recently active first; ``search`` matches titles and message text.

    Optionally only one group's, one tag's or one AI persona's; ``offset`` and ``limit`` page through them.
    """
    query = select(Chat).order_by(col(Chat.updated_at).desc(), col(Chat.id)).offset(offset).limit(limit)
    if group_id is not None:
        query = query.where(Chat.group_id == group_id)
    if persona_id:
        query = query.where(Chat.ai_persona_id == persona_id)
    if tag:
        tagged = select(ChatTag.chat_id).join(Tag).where(Tag.name == tag)
        query = query.where(col(Chat.id).in_(tagged))
    needle = search.strip()
    if needle:
        in_messages = select(ChatMessage.chat_id).where(contains(ChatMessage.content, needle))
        query = query.where(or_(contains(Chat.title, needle), col(Chat.id).in_(in_messages)))
    return list(session.exec(query))


def set_chat_model(session: Session, chat_id: str, *, model: str, temperature: float | None) -> Chat:
    """Override the persona's model and temperature for one chat ('' / None = persona default)."""
    if temperature is not None and not 0.0 <= temperature <= 2.0:
        raise ServiceError(f"Temperature must be between 0 and 2, not {temperature}")
    chat = get_chat(session, chat_id)
    chat.model_override = model.strip()[:200]
    chat.temperature_override = temperature
    return _touch(session, chat)


def rename_tag(session: Session, tag_id: int, name: str) -> Tag:
    """Give a tag a new name (lower-case, unique); its chats keep it."""
    tag = require(session, Tag, tag_id, "tag")
    name = _clean_label(name, "tag", MAX_LABEL).lower()
    taken = session.exec(select(Tag).where(Tag.name == name)).first()
    if taken is not None and taken.id != tag_id:
        raise ServiceError(f"The tag '{name}' already exists")
    tag.name = name
    session.add(tag)
    session.flush()
    return tag


def delete_tag(session: Session, tag_id: int) -> None:
    """Delete a tag; chats lose it and stay."""
    tag = require(session, Tag, tag_id, "tag")
    session.exec(delete(ChatTag).where(col(ChatTag.tag_id) == tag_id))  # type: ignore[call-overload]
    session.delete(tag)
