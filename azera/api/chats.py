"""``/api/chats``: list, read, change and delete chats; send messages and get the reply as Server-Sent Events.

Every reply goes through the same pipeline as the UI (``generate_reply``: your message saved first, then
memory, mood, energy). The stream's events: ``started`` (ids), ``token`` (the new text and the whole
reply so far), ``thinking`` (the same for a ``<think>`` block), ``recalled`` (the memories it was given),
``error`` (the model failed; your message is kept) and ``done`` (final text and status). A client that
goes away mid-stream leaves the reply saved as "stopped". One reply at a time per chat: a second request
while one is being written (here or in the UI) is a 409.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from fastapi import FastAPI, HTTPException, Path, Query, Request, Response
from sqlmodel import Session
from sse_starlette.sse import EventSourceResponse

from azera.api.chat_shapes import ChatChange, ChatDetail, ChatOut, MessageOut, NewChat, NewMessage, Stopped
from azera.conversation.replies import RUNNING, Mode, ReplyEvent, generate_reply
from azera.db.engine import in_db
from azera.db.models import Chat, ChatMessage
from azera.errors import NotFoundError, ServiceError, TooLongError
from azera.services import chats
from azera.services import messages as message_service

ID = "^[0-9a-f]{32}$"
CHAT_ID = Path(min_length=32, max_length=32, pattern=ID)
MESSAGE_ID = Path(min_length=32, max_length=32, pattern=ID)
_streaming: set[str] = set()  # chats with a reply being started or written through the API


def busy(chat_id: str) -> bool:
    """A reply is being written in this chat (through the API or the UI)."""
    return chat_id in _streaming or chat_id in RUNNING


def fail(error: ServiceError) -> HTTPException:
    """A service's refusal as a 4xx: unknown ids are 404, what does not fit 413, the rest 400."""
    status = 404 if isinstance(error, NotFoundError) else 413 if isinstance(error, TooLongError) else 400
    return HTTPException(status_code=status, detail=str(error))


async def read_body(request: Request, limit: int, what: str) -> bytes:
    """A file sent as the request body, refused with a 413 as soon as it passes ``limit`` bytes."""
    refusal = HTTPException(status_code=413, detail=f"{what} is at most {limit // 1_000_000} MB")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise refusal
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise refusal
    return bytes(data)


def _chat_out(session: Session, chat: Chat) -> ChatOut:
    return ChatOut(
        id=chat.id,
        title=chat.title,
        persona=chat.ai_persona_id,
        user_persona=chat.user_persona_id,
        group_id=chat.group_id,
        tags=chats.chat_tags(session, [chat.id])[chat.id],
        model=chat.model_override,
        temperature=chat.temperature_override,
        created_at=chat.created_at,
        updated_at=chat.updated_at,
    )


def _messages_out(messages: list[ChatMessage], everything: list[ChatMessage]) -> list[MessageOut]:
    alternatives: dict[tuple[str | None, str], list[str]] = {}
    for message in everything:
        alternatives.setdefault((message.parent_id, message.role), []).append(message.id)
    shown = []
    for message in messages:
        same = alternatives.get((message.parent_id, message.role), [message.id])
        fields = message.model_dump(include={"id", "role", "content", "thinking", "status", "model", "parent_id"})
        shown.append(
            MessageOut(**fields, created_at=message.created_at, branch=same.index(message.id) + 1, branches=len(same))
        )
    return shown


def _detail(session: Session, chat_id: str) -> ChatDetail:
    chat = chats.get_chat(session, chat_id)
    everything = message_service.chat_messages(session, chat.id)
    branch = message_service.branch_of(everything, chat.active_leaf_id)
    return ChatDetail(**_chat_out(session, chat).model_dump(), messages=_messages_out(branch, everything))


def _change(session: Session, chat_id: str, change: ChatChange) -> ChatOut:
    sent = change.model_fields_set
    chat = chats.get_chat(session, chat_id)
    if change.title is not None:
        chats.rename_chat(session, chat_id, change.title)
    if change.persona is not None or change.user_persona is not None:
        chats.set_chat_personas(session, chat_id, ai_persona_id=change.persona, user_persona_id=change.user_persona)
    if change.group_id is not None:
        chats.set_chat_group(session, chat_id, change.group_id)
    if change.tags is not None:
        chats.set_chat_tags(session, chat_id, [tag.strip() for tag in change.tags])
    if "model" in sent or "temperature" in sent:
        model = chat.model_override if "model" not in sent else change.model or ""
        temperature = chat.temperature_override if "temperature" not in sent else change.temperature
        chats.set_chat_model(session, chat_id, model=model, temperature=temperature)
    return _chat_out(session, chats.get_chat(session, chat_id))


def _own_message(session: Session, chat_id: str, message_id: str) -> ChatMessage:
    message = message_service.get_message(session, message_id)
    if message.chat_id != chat_id:
        raise NotFoundError(f"No message '{message_id}' in this chat")
    return message


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


async def _reply(chat_id: str, mode: Mode, text: str = "", target_id: str = "") -> EventSourceResponse:
    """Start a reply (bad input answers 4xx before anything streams), then stream it."""
    if busy(chat_id):
        raise HTTPException(status_code=409, detail="A reply is still being written in this chat: wait or stop it")
    _streaming.add(chat_id)
    try:
        if target_id:
            await in_db(lambda session: _own_message(session, chat_id, target_id))
        stream = generate_reply(chat_id, mode=mode, text=text, target_id=target_id)
        first = await anext(stream)  # saves the message: bad input fails here, as a 4xx
    except ServiceError as error:
        _streaming.discard(chat_id)
        raise fail(error) from error
    except BaseException:
        _streaming.discard(chat_id)
        raise
    return EventSourceResponse(_events(first, stream, chat_id), ping=15)


STREAMED = {200: {"content": {"text/event-stream": {}}, "description": "the reply, as Server-Sent Events"}}
REFUSED = {
    404: {"description": "no such chat or message"},
    409: {"description": "a reply is being written"},
    413: {"description": "the message does not fit the model's context"},
}


def _add_reading_routes(api: FastAPI) -> None:
    @api.get("/api/chats")
    async def list_chats(
        q: str = Query(default="", max_length=200, description="words in the title or the messages"),
        group_id: int | None = Query(default=None, ge=1, le=2**31 - 1),
        tag: str = Query(default="", max_length=40),
        persona: str = Query(default="", max_length=64),
        offset: int = Query(default=0, ge=0, le=1_000_000),
        limit: int = Query(default=50, ge=1, le=500),
    ) -> list[ChatOut]:
        """Chats, most recently active first, filtered and paged."""

        def read(session: Session) -> list[ChatOut]:
            found = chats.list_chats(
                session, search=q, limit=limit, offset=offset, group_id=group_id, tag=tag, persona_id=persona
            )
            tags = chats.chat_tags(session, [chat.id for chat in found])
            return [_chat_out(session, chat).model_copy(update={"tags": tags[chat.id]}) for chat in found]

        return await in_db(read)

    @api.get("/api/chats/{chat_id}", responses={404: {"description": "no such chat"}})
    async def get_chat(chat_id: str = CHAT_ID) -> ChatDetail:
        """A chat and its active branch; each message says how many alternatives it has."""
        try:
            return await in_db(lambda session: _detail(session, chat_id))
        except ServiceError as error:
            raise fail(error) from error

    @api.get("/api/chats/{chat_id}/messages", responses={404: {"description": "no such chat"}})
    async def list_messages(
        chat_id: str = CHAT_ID, every_branch: bool = Query(default=False, description="all branches, oldest first")
    ) -> list[MessageOut]:
        """The messages of the active branch (or of every branch)."""

        def read(session: Session) -> list[MessageOut]:
            chat = chats.get_chat(session, chat_id)
            everything = message_service.chat_messages(session, chat.id)
            shown = everything if every_branch else message_service.branch_of(everything, chat.active_leaf_id)
            return _messages_out(shown, everything)

        try:
            return await in_db(read)
        except ServiceError as error:
            raise fail(error) from error


def _add_changing_routes(api: FastAPI) -> None:
    @api.post("/api/chats", status_code=201, responses={404: {"description": "no such persona or group"}})
    async def create_chat(body: NewChat) -> ChatOut:
        """Start a chat with an AI persona (you are the default user persona unless you say otherwise)."""

        def make(session: Session) -> ChatOut:
            chat = chats.create_chat(
                session,
                ai_persona_id=body.persona,
                user_persona_id=body.user_persona,
                title=body.title,
                group_id=body.group_id,
            )
            return _chat_out(session, chat)

        try:
            return await in_db(make)
        except ServiceError as error:
            raise fail(error) from error

    @api.patch("/api/chats/{chat_id}", responses={404: {"description": "no such chat, persona, group or tag"}})
    async def update_chat(change: ChatChange, chat_id: str = CHAT_ID) -> ChatOut:
        """Change a chat's title, personas, group, tags, model or temperature (only the fields sent)."""
        try:
            return await in_db(lambda session: _change(session, chat_id, change))
        except ServiceError as error:
            raise fail(error) from error

    @api.delete("/api/chats/{chat_id}", status_code=204, responses=REFUSED)
    async def delete_chat(chat_id: str = CHAT_ID) -> Response:
        """Delete a chat with its messages and its conversation memories."""
        if busy(chat_id):
            raise HTTPException(status_code=409, detail="A reply is still being written in this chat: stop it first")
        try:
            await in_db(lambda session: chats.delete_chat(session, chat_id))
        except ServiceError as error:
            raise fail(error) from error
        return Response(status_code=204)

    @api.post("/api/chats/{chat_id}/stop")
    async def stop_reply(chat_id: str = CHAT_ID) -> Stopped:
        """Stop the reply being written in this chat (from the UI or the API); it is kept as "stopped"."""
        stop = RUNNING.get(chat_id)
        if stop is not None:
            stop.set()
        return Stopped(stopped=stop is not None)

    @api.post(
        "/api/chats/{chat_id}/messages/{message_id}/activate", responses={404: {"description": "no such message"}}
    )
    async def switch_branch(chat_id: str = CHAT_ID, message_id: str = MESSAGE_ID) -> ChatDetail:
        """Show the branch through this message (its newest continuation)."""

        def switch(session: Session) -> ChatDetail:
            message_service.switch_branch(session, _own_message(session, chat_id, message_id).id)
            session.flush()
            return _detail(session, chat_id)

        if busy(chat_id):
            raise HTTPException(status_code=409, detail="A reply is still being written in this chat: wait or stop it")
        try:
            return await in_db(switch)
        except ServiceError as error:
            raise fail(error) from error


def _add_reply_routes(api: FastAPI) -> None:
    @api.post("/api/chats/{chat_id}/messages", response_class=EventSourceResponse, responses={**STREAMED, **REFUSED})
    async def send_message(body: NewMessage, chat_id: str = CHAT_ID) -> EventSourceResponse:
        """Send a message; the reply streams back as Server-Sent Events (see the module's description)."""
        return await _reply(chat_id, "send", text=body.text)

    @api.post(
        "/api/chats/{chat_id}/messages/{message_id}/edit",
        response_class=EventSourceResponse,
        responses={**STREAMED, **REFUSED},
    )
    async def edit_message(body: NewMessage, chat_id: str = CHAT_ID, message_id: str = MESSAGE_ID):
        """Edit one of your messages: the edit starts a new branch, and a new reply streams back."""
        return await _reply(chat_id, "edit", text=body.text, target_id=message_id)

    actions: dict[Mode, str] = {
        "regenerate": "Write another reply in place of this one (a new branch; the old reply is kept).",
        "continue": "Carry on a reply that was cut short (interrupted, stopped, repeating or failed): it grows.",
    }
    for mode, description in actions.items():
        _add_reply_action(api, mode, description)


def _add_reply_action(api: FastAPI, mode: Mode, description: str) -> None:
    async def act(chat_id: str = CHAT_ID, message_id: str = MESSAGE_ID) -> EventSourceResponse:
        return await _reply(chat_id, mode, target_id=message_id)

    api.add_api_route(
        f"/api/chats/{{chat_id}}/messages/{{message_id}}/{mode}",
        act,
        methods=["POST"],
        name=f"{mode}_reply",
        description=description,
        response_class=EventSourceResponse,
        responses={**STREAMED, **REFUSED},
    )


def add_chat_routes(api: FastAPI) -> None:
    """Chats: list, read, start, change, delete; messages: send, edit, regenerate, continue, stop."""
    _add_reading_routes(api)
    _add_changing_routes(api)
    _add_reply_routes(api)
