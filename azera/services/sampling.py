"""Which model answers in a chat and how it samples: model family defaults ← settings ← persona ← chat."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from azera.config import get_settings
from azera.db.models import Chat, Persona, utcnow
from azera.errors import ServiceError
from azera.llm.registry import default_model
from azera.llm.sampling import Sampling, clean_overrides, resolve
from azera.services.chats import get_chat
from azera.services.personas import get_persona
from azera.services.preferences import load_preferences


def reply_model(session: Session, chat: Chat, ai: Persona) -> str:
    """The chat's model, else the persona's, else the user's default, else the installed default."""
    return chat.model_override or ai.model or load_preferences(session).default_model or default_model()


def inherited_sampling(model: str, ai: Persona) -> Sampling:
    """What a chat gets without overrides of its own."""
    base = {"max_tokens": get_settings().max_reply_tokens, "temperature": ai.temperature}
    return resolve(model, base, ai.sampling)


def chat_sampling(session: Session, chat: Chat) -> tuple[str, Sampling, Sampling]:
    """The chat's model, the sampling it inherits, and the sampling it uses (its own overrides applied)."""
    ai = get_persona(session, chat.ai_persona_id)
    model = reply_model(session, chat, ai)
    inherited = inherited_sampling(model, ai)
    used = inherited.with_overrides(chat.sampling_override).with_overrides({"temperature": chat.temperature_override})
    return model, inherited, used


def set_chat_sampling(session: Session, chat_id: str, values: dict[str, Any]) -> Chat:
    """Store the settings that differ from what the chat inherits (an empty mapping clears every override).

    Raises:
        ServiceError: An unknown setting or a value out of range, with the reason.

    """
    chat = get_chat(session, chat_id)
    try:
        wanted = clean_overrides(values)
    except ValueError as error:
        raise ServiceError(f"Sampling: {error}") from error
    _, inherited, _ = chat_sampling(session, chat)
    overrides = {key: value for key, value in wanted.items() if key != "temperature"}
    chat.sampling_override = {key: value for key, value in overrides.items() if getattr(inherited, key) != value}
    if "temperature" in wanted:
        chat.temperature_override = wanted["temperature"]
    elif not values:
        chat.temperature_override = None
    chat.updated_at = utcnow()
    session.add(chat)
    session.flush()
    return chat
