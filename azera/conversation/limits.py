"""What bounds a reply: the room a message needs in the model's context, stop strings, the tokens used."""

from __future__ import annotations

from sqlmodel import Session

from azera.db.engine import in_db
from azera.errors import TooLongError
from azera.llm.base import BackendError, ChatBackend, ChatTurn
from azera.llm.prompt import PER_MESSAGE_OVERHEAD
from azera.llm.thinking import split_thinking
from azera.services import messages as message_service
from azera.services.chats import get_chat
from azera.services.sampling import chat_sampling


def cut_at_stop(raw: str, stop_strings: tuple[str, ...]) -> str | None:
    """The reply up to the first stop string in its visible text, or None when none appears."""
    split = split_thinking(raw)
    found = [split.content.find(s) for s in stop_strings if s and s in split.content]
    if not found:
        return None
    kept = split.content[: min(found)]
    return f"<think>{split.thinking}</think>{kept}" if split.thinking else kept


async def usage_of(backend: ChatBackend, model: str, messages: list[ChatTurn], raw: str) -> tuple[int, int]:
    """Tokens of the prompt the model read (each message's text and framing) and of the reply it wrote."""
    read = 0
    for turn in messages:
        read += await backend.count_tokens(model, turn["content"]) + PER_MESSAGE_OVERHEAD
    return read, await backend.count_tokens(model, raw) if raw else 0


async def check_fits(chat_id: str, target_id: str, text: str, backend: ChatBackend, overrides: dict | None) -> None:
    """Refuse, before anything is saved, a message that cannot fit the model's context with room for a reply."""

    def settings(session: Session) -> tuple[str, int]:
        chat = get_chat(session, message_service.get_message(session, target_id).chat_id if target_id else chat_id)
        model, _, used = chat_sampling(session, chat)
        return model, used.with_overrides(overrides).max_tokens

    model, reply_tokens = await in_db(settings)
    try:
        needed = await backend.count_tokens(model, text) + PER_MESSAGE_OVERHEAD
        room = await backend.context_window(model) - reply_tokens
    except BackendError:  # no such model, or it does not answer: the reply fails and says so, message kept
        return
    if needed > room:
        raise TooLongError(
            f"The message needs about {needed:,} tokens, but {model} holds {room:,} besides the {reply_tokens:,} "
            "kept for its reply: shorten it"
        )
