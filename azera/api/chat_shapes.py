"""What ``/api/chats`` takes and answers: typed models, so ``/api/docs`` shows the real shapes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from azera.services import chats
from azera.services import messages as message_service


class NewChat(BaseModel):
    """Body of POST /api/chats."""

    persona: str = Field(default="azera", max_length=64, description="the AI persona to talk to")
    title: str = Field(default="New chat", max_length=200)
    user_persona: str = Field(default=chats.DEFAULT_USER_PERSONA, max_length=64, description="who you are here")
    group_id: int | None = Field(default=None, ge=1, le=2**31 - 1)


class ChatOut(BaseModel):
    """A chat."""

    id: str
    title: str
    persona: str
    user_persona: str
    group_id: int | None
    tags: list[str]
    model: str = Field(description="the chat's own model ('' = the persona's)")
    temperature: float | None = Field(description="the chat's own temperature (null = the persona's)")
    created_at: datetime
    updated_at: datetime


class MessageOut(BaseModel):
    """A message, with where it sits among its alternatives (edits and regenerations make branches)."""

    id: str
    role: str
    content: str
    thinking: str
    status: str
    model: str
    parent_id: str | None
    created_at: datetime
    branch: int = Field(description="its place among its alternatives, from 1")
    branches: int = Field(description="how many alternatives there are")


class ChatDetail(ChatOut):
    """A chat with its active branch."""

    messages: list[MessageOut]


class ChatChange(BaseModel):
    """Body of PATCH /api/chats/{id}: only the fields sent change."""

    title: str | None = Field(default=None, max_length=200)
    persona: str | None = Field(default=None, max_length=64)
    user_persona: str | None = Field(default=None, max_length=64)
    group_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    tags: list[str] | None = Field(default=None, max_length=50)
    model: str | None = Field(default=None, max_length=200, description="'' for the persona's model")
    temperature: float | None = Field(default=None, ge=0.0, le=2.0, description="null for the persona's")


class NewMessage(BaseModel):
    """Body of POST /api/chats/{id}/messages, and of an edit."""

    text: str = Field(max_length=message_service.MAX_MESSAGE_CHARS)


class Stopped(BaseModel):
    """Whether a reply was being written (and is now told to stop)."""

    stopped: bool
