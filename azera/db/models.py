"""SQLModel tables: the source of truth for everything Azera keeps.

Vector and lexical indexes are rebuilt from these rows, never the other way round.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, Text
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """Timezone-aware UTC now (SQLModel stores aware datetimes as UTC)."""
    return datetime.now(UTC)


def epoch(moment: datetime) -> float:
    """Epoch seconds of a stored time (SQLite hands back naive UTC datetimes)."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def new_id() -> str:
    """A random 32-character hex id."""
    return uuid.uuid4().hex


def _text() -> Any:
    return Field(default="", sa_column=Column(Text, nullable=False))


class Persona(SQLModel, table=True):
    """An AI or user persona; the body is its system prompt / description."""

    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(index=True, max_length=80)
    kind: str = Field(default="ai", max_length=8)
    emoji: str = Field(default="", max_length=16)
    color: str = Field(default="", max_length=32)
    model: str = Field(default="", max_length=200)
    temperature: float = Field(default=0.7)
    sampling: dict[str, Any] = Field(  # overrides of the model family's sampling (top_p, min_p, max_tokens…)
        default_factory=dict, sa_column=Column(JSON, nullable=False, server_default="{}")
    )
    voice: str = Field(default="", max_length=200)
    image_style: str = Field(default="", max_length=500)
    memory_enabled: bool = Field(default=True)
    body: str = _text()
    seeded: bool = Field(default=False)
    deleted_at: datetime | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class PersonaVersion(SQLModel, table=True):
    """A snapshot of a persona file, kept on every save so any can be restored."""

    id: int | None = Field(default=None, primary_key=True)
    persona_id: str = Field(foreign_key="persona.id", index=True, max_length=64)
    number: int
    document: str = _text()
    note: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow)


class ChatGroup(SQLModel, table=True):
    """A folder of chats in the sidebar."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=80)
    created_at: datetime = Field(default_factory=utcnow)


class Tag(SQLModel, table=True):
    """A label that can be put on chats."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=40)


class Chat(SQLModel, table=True):
    """A conversation between an AI persona and a user persona."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    title: str = Field(default="New chat", max_length=200)
    ai_persona_id: str = Field(foreign_key="persona.id", index=True, max_length=64)
    user_persona_id: str = Field(foreign_key="persona.id", max_length=64)
    group_id: int | None = Field(default=None, foreign_key="chatgroup.id", index=True)
    model_override: str = Field(default="", max_length=200)
    temperature_override: float | None = Field(default=None)
    sampling_override: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False, server_default="{}")
    )
    active_leaf_id: str | None = Field(default=None, max_length=32)
    journal_mode: bool = Field(default=False)
    journal_started_at: datetime | None = Field(default=None)
    # An OpenAI-protocol client's conversation this chat holds (``/v1``: its ``user`` or its history so far)
    client_key: str | None = Field(default=None, max_length=80, index=True, unique=True)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow, index=True)


class ChatTag(SQLModel, table=True):
    """Link between chats and tags."""

    chat_id: str = Field(foreign_key="chat.id", primary_key=True, max_length=32)
    tag_id: int = Field(foreign_key="tag.id", primary_key=True)


class ChatMessage(SQLModel, table=True):
    """One message; ``parent_id`` makes the conversation a tree of branches."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    chat_id: str = Field(foreign_key="chat.id", index=True, max_length=32)
    parent_id: str | None = Field(default=None, index=True, max_length=32)
    branch: int = Field(default=0)
    role: str = Field(max_length=16)
    content: str = _text()
    thinking: str = _text()
    model: str = Field(default="", max_length=200)
    status: str = Field(default="complete", max_length=16)
    recalled: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]")
    )
    created_at: datetime = Field(default_factory=utcnow, index=True)


class Memory(SQLModel, table=True):
    """Anything a persona can recall: message, dream, journal entry, fact, document chunk."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    text: str = _text()
    kind: str = Field(default="conversation", index=True, max_length=16)
    tier: str = Field(default="long_term", index=True, max_length=16)
    persona_id: str = Field(foreign_key="persona.id", index=True, max_length=64)
    chat_id: str | None = Field(default=None, index=True, max_length=32)
    message_id: str | None = Field(default=None, index=True, max_length=32)
    source: str = Field(default="", max_length=200)
    indexed_at: datetime | None = Field(default=None, index=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)


class Dream(SQLModel, table=True):
    """A dream a persona wrote while idle."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    persona_id: str = Field(foreign_key="persona.id", index=True, max_length=64)
    title: str = Field(default="", max_length=200)
    content: str = _text()
    emotion: str = Field(default="", max_length=32)
    themes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    source: str = Field(default="generated", max_length=32)
    digest: str = Field(default="", index=True, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, index=True)


class JournalEntry(SQLModel, table=True):
    """A self-reflection or a compiled journal-mode article."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    persona_id: str = Field(foreign_key="persona.id", index=True, max_length=64)
    title: str = Field(default="", max_length=200)
    content: str = _text()
    mood: str = Field(default="", max_length=32)
    insights: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    kind: str = Field(default="reflection", max_length=16)
    source: str = Field(default="manual", max_length=32)
    digest: str = Field(default="", index=True, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, index=True)


class JournalDraft(SQLModel, table=True):
    """Something captured in journal mode, waiting to be compiled into an article."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    chat_id: str = Field(foreign_key="chat.id", index=True, max_length=32)
    kind: str = Field(default="text", max_length=8)
    content: str = _text()
    media_path: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow, index=True)


class SettingRow(SQLModel, table=True):
    """A server-side setting (JSON value) such as the user's preferences."""

    __tablename__ = "setting"
    key: str = Field(primary_key=True, max_length=80)
    value: Any = Field(default=None, sa_column=Column(JSON))
    updated_at: datetime = Field(default_factory=utcnow)


class GeneratedImage(SQLModel, table=True):
    """An image made on the Canvas page or from an ``[IMAGE_GEN]`` tag."""

    __tablename__ = "image"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    prompt: str = _text()
    negative_prompt: str = _text()
    model: str = Field(default="", max_length=200)
    width: int = 1024
    height: int = 1024
    steps: int = 28
    cfg: float = 7.0
    seed: int | None = None
    path: str = Field(default="", max_length=500)
    chat_id: str | None = Field(default=None, max_length=32)
    message_id: str | None = Field(default=None, max_length=32, index=True)  # a picture a persona drew in chat
    backend: str = Field(default="", max_length=32)
    strength: float | None = None  # img2img only
    created_at: datetime = Field(default_factory=utcnow, index=True)


class VoiceSample(SQLModel, table=True):
    """An uploaded voice sample for cloning engines: ``<data>/media/voice-samples/<name>.wav``."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    name: str = Field(max_length=64, unique=True)
    seconds: float = 0.0
    created_at: datetime = Field(default_factory=utcnow)


class MentalStateRow(SQLModel, table=True):
    """An AI persona's mental state, persisted so that a restart resumes it."""

    __tablename__ = "mentalstate"
    persona_id: str = Field(foreign_key="persona.id", primary_key=True, max_length=64)
    mood: str = Field(default="calm", max_length=16)
    valence: float = 0.65
    arousal: float = 0.15
    energy: float = 0.7
    focus: float = 0.8
    last_interaction: float = 0.0
    updated: float = 0.0


class AuthSession(SQLModel, table=True):
    """A logged-in browser session of the owner; ``id`` is the SHA-256 of the cookie's token."""

    __tablename__ = "authsession"
    id: str = Field(primary_key=True, max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(index=True)


class ApiToken(SQLModel, table=True):
    """A token for scripts and API clients (sent as ``Authorization: Bearer``); only its hash is kept."""

    __tablename__ = "apitoken"
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    name: str = Field(max_length=80)
    prefix: str = Field(max_length=16)
    token_hash: str = Field(unique=True, max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = Field(default=None)
    revoked_at: datetime | None = Field(default=None)
