"""``/api/chats``: start a chat and send it messages, the reply streamed as Server-Sent Events.

The reply goes through the same pipeline as the UI (``generate_reply``: your message saved first, then
memory, mood, energy). The stream's events: ``started`` (ids), ``token`` (the new text and the whole
reply so far), ``thinking`` (the same for a ``<think>`` block), ``recalled`` (the memories it was given),
``error`` (the model failed; your message is kept) and ``done`` (final text and status). A client that
goes away mid-stream leaves the reply saved as "stopped".
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from fastapi import FastAPI, HTTPException, Path
from pydantic import BaseModel, Field
from sse_starlette.sse import EventSourceResponse

from azera.conversation.replies import ReplyEvent, generate_reply
from azera.db.engine import in_db
from azera.errors import NotFoundError, ServiceError
from azera.services import chats
from azera.services import messages as message_service

CHAT_ID = Path(min_length=32, max_length=32, pattern="^[0-9a-f]{32}$")
_streaming: set[str] = set()  # chats with a reply being written through the API


class NewChat(BaseModel):
    """Body of POST /api/chats."""

    persona: str = Field(default="azera", max_length=64, description="the AI persona to talk to")
    title: str = Field(default="New chat", max_length=200)


class ChatOut(BaseModel):
    """A chat."""

    id: str
    title: str
    persona: str


class NewMessage(BaseModel):
    """Body of POST /api/chats/{id}/messages."""

    text: str = Field(max_length=message_service.MAX_MESSAGE_CHARS)


def _sse(kind: str, data: dict) -> dict:
    return {"event": kind, "data": json.dumps(data)}


async def _events(first: ReplyEvent, rest: AsyncIterator[ReplyEvent], chat_id: str) -> AsyncIterator[dict]:
    content = thinking = ""
    try:
        yield _sse(
            "started",
            {"chat_id": chat_id, "message_id": first.user_message_id, "reply_id": first.reply_id, "model": first.model},
        )
        async for event in rest:
            if event.kind == "token":
                if event.thinking != thinking:
                    new = event.thinking[len(thinking) :] if event.thinking.startswith(thinking) else event.thinking
                    yield _sse("thinking", {"text": new, "thinking": event.thinking})
                    thinking = event.thinking
                if event.content != content:
                    new = event.content[len(content) :] if event.content.startswith(content) else event.content
                    yield _sse("token", {"text": new, "content": event.content})
                    content = event.content
            elif event.kind == "done":
                yield _sse("recalled", {"memories": event.recalled})
                if event.error:
                    yield _sse("error", {"message": event.error})
                done = {
                    "reply_id": event.reply_id,
                    "status": event.status,
                    "content": event.content,
                    "thinking": event.thinking,
                    "model": event.model,
                }
                yield _sse("done", done)
            # "mood" (after done) is consumed so the exchange moves the persona's mental state
    finally:
        _streaming.discard(chat_id)


def add_chat_routes(api: FastAPI) -> None:
    """Start a chat; send a message and stream the reply."""

    @api.post("/api/chats", status_code=201)
    async def create_chat(body: NewChat) -> ChatOut:
        """Start a chat with an AI persona (you are the default user persona)."""
        try:
            chat = await in_db(lambda session: chats.create_chat(session, ai_persona_id=body.persona, title=body.title))
        except NotFoundError as error:
            raise HTTPException(status_code=404, detail=str(error)) from error
        except ServiceError as error:
            raise HTTPException(status_code=400, detail=str(error)) from error
        return ChatOut(id=chat.id, title=chat.title, persona=chat.ai_persona_id)

    @api.post(
        "/api/chats/{chat_id}/messages",
        response_class=EventSourceResponse,
        responses={200: {"content": {"text/event-stream": {}}, "description": "the reply, as Server-Sent Events"}},
    )
    async def send_message(body: NewMessage, chat_id: str = CHAT_ID) -> EventSourceResponse:
        """Send a message; the reply streams back as Server-Sent Events (see the module's description)."""
        if chat_id in _streaming:
            raise HTTPException(status_code=409, detail="A reply is still being written in this chat: wait or stop it")
        _streaming.add(chat_id)
        stream = generate_reply(chat_id, text=body.text)
        try:
            first = await anext(stream)  # saves the message: bad input fails here, as a 4xx
        except NotFoundError as error:
            _streaming.discard(chat_id)
            raise HTTPException(status_code=404, detail=str(error)) from error
        except ServiceError as error:
            _streaming.discard(chat_id)
            raise HTTPException(status_code=400, detail=str(error)) from error
        except BaseException:
            _streaming.discard(chat_id)
            raise
        return EventSourceResponse(_events(first, stream, chat_id), ping=15)
