"""Which voice reads which message: a reply in its chat's AI persona's voice, a user's words in theirs."""

from __future__ import annotations

import dataclasses
import hashlib

from sqlmodel import Session

from azera.db.models import Chat, ChatMessage, Persona
from azera.errors import NotFoundError, ServiceError
from azera.voice import speakable, speech
from azera.voice.engines import VoiceChoice


@dataclasses.dataclass(frozen=True)
class SpokenMessage:
    """A message ready to be read: its voice and its sentences."""

    message_id: str
    choice: VoiceChoice
    sentences: list[str]

    @property
    def voice_key(self) -> str:
        """A short token for the voice, so a browser never replays a part cached for another voice."""
        return hashlib.sha256(self.choice.spec.encode()).hexdigest()[:12]

    def urls(self) -> list[str]:
        """One URL per sentence, played in order."""
        base = f"/api/tts/messages/{self.message_id}/parts"
        return [f"{base}/{index}?voice={self.voice_key}" for index in range(len(self.sentences))]


def persona_voice(session: Session, persona_id: str) -> VoiceChoice:
    """The voice a persona speaks with now."""
    persona = session.get(Persona, persona_id)
    if persona is None:
        raise NotFoundError(f"There is no persona {persona_id!r}")
    return speech.voice_for(persona.id, persona.voice)


def spoken_message(session: Session, message_id: str) -> SpokenMessage:
    """A message's voice and sentences (blocking: a worker thread).

    Raises:
        NotFoundError: no such message.
        ServiceError: nothing readable in it, or no voice installed.

    """
    message = session.get(ChatMessage, message_id) if isinstance(message_id, str) else None
    chat = session.get(Chat, message.chat_id) if message is not None else None
    if message is None or chat is None:
        raise NotFoundError("There is no such message")
    if message.role not in ("assistant", "user"):
        raise ServiceError("Only chat messages are read aloud")
    parts = speakable.sentences(message.content)
    if not parts:
        raise ServiceError("There is nothing to read aloud in this message (only code, symbols or emoji)")
    speaker = chat.ai_persona_id if message.role == "assistant" else chat.user_persona_id
    return SpokenMessage(message.id, persona_voice(session, speaker), parts)
