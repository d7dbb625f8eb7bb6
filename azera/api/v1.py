"""OpenAI-compatible endpoints under ``/v1``: any OpenAI client talks to a persona.

Open WebUI, SillyTavern, editors and the ``openai`` library work with Azera as their server.

- ``GET /v1/models``: every AI persona as a model (id = persona id, e.g. ``azera``), then the backend's own
  models as ``raw/<name>`` for plain completion: no persona, no memory, nothing saved.
- ``POST /v1/chat/completions``, streamed or not. With a persona the reply goes through Azera's own pipeline
  (``generate_reply``): the persona's system prompt, recalled memories, mood and energy; the exchange is
  saved in a chat you see in the UI and remembered. A client's system message comes after the persona's.

Which chat a request continues:
1. ``X-Azera-Chat: <chat id>``: that chat (it must be the persona's).
2. else the ``user`` field: one chat per persona and ``user`` value, made on first use.
3. else the conversation itself: after each reply the chat is keyed by a digest of the persona and of the
   conversation's user and assistant messages including that reply. A client that sends the history back
   with one more user message lands in the same chat; any other history starts a new chat, into which
   its earlier messages are copied. System messages are not part of the digest.
In every case only the last message (a user message) is sent; the chat already holds the rest.

Errors have OpenAI's shape: ``{"error": {"message", "type", "code"}}``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import FastAPI, Header
from fastapi.responses import JSONResponse
from sse_starlette.sse import EventSourceResponse

from azera.api.chats import _streaming, busy
from azera.api.v1_chats import chat_for, history_key, set_key
from azera.api.v1_shapes import (
    Choice,
    Completion,
    CompletionRequest,
    ModelList,
    ModelOut,
    OpenAIError,
    ReplyMessage,
    Usage,
    error_body,
)
from azera.conversation.replies import ReplyEvent, generate_reply
from azera.db.engine import in_db
from azera.errors import NotFoundError, ServiceError, TooLongError
from azera.llm.base import BackendError, ChatTurn
from azera.llm.prompt import PER_MESSAGE_OVERHEAD
from azera.llm.sampling import resolve
from azera.runtime import runtime
from azera.services import chats
from azera.services.personas import list_personas

log = logging.getLogger(__name__)
RAW = "raw/"
MAX_MESSAGES = 500  # a request's messages (a longer history is refused, not silently cut)
MAX_STOP = 4  # stop strings, as OpenAI allows


# ---- the models ------------------------------------------------------------------------------------------
async def _models() -> list[ModelOut]:
    personas = await in_db(lambda session: list_personas(session, kind="ai"))
    listed = [
        ModelOut(id=p.id, created=int(p.created_at.timestamp()) if p.created_at else 0, owned_by="azera")
        for p in personas
    ]
    try:
        raw = await runtime().backend.list_models()
    except BackendError:
        raw = []
    return listed + [ModelOut(id=RAW + m.name, created=0, owned_by=m.backend or "backend") for m in raw]


def _stops(stop: str | list[str] | None) -> tuple[str, ...]:
    found = [stop] if isinstance(stop, str) else list(stop or [])
    if len(found) > MAX_STOP or any(len(s) > 200 for s in found):
        raise OpenAIError(400, f"At most {MAX_STOP} stop strings of up to 200 characters", code="invalid_stop")
    return tuple(s for s in found if s)


def _sampling(request: CompletionRequest) -> dict[str, Any]:
    return {
        "temperature": request.temperature,
        "top_p": request.top_p,
        "max_tokens": request.max_completion_tokens or request.max_tokens,
        "seed": request.seed,
    }


# ---- answering -------------------------------------------------------------------------------------------
def _chunk(ident: str, model: str, created: int, delta: dict, finish: str | None = None, **extra: Any) -> dict:
    body = {
        "id": ident,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        **extra,
    }
    return {"data": json.dumps(body, ensure_ascii=False)}


class _Answer:
    """What a reply produced, gathered while it streams (for the final chunk or the whole answer)."""

    def __init__(self, model: str, max_tokens: int | None) -> None:
        self.model, self.max_tokens = model, max_tokens
        self.ident, self.created = "chatcmpl-", int(time.time())
        self.content = self.thinking = self.error = ""
        self.prompt_tokens = self.completion_tokens = 0
        self.chat_id: str | None = None

    @property
    def finish(self) -> Literal["stop", "length"]:
        return "length" if self.max_tokens and self.completion_tokens >= self.max_tokens else "stop"

    def usage(self) -> Usage:
        total = self.prompt_tokens + self.completion_tokens
        return Usage(prompt_tokens=self.prompt_tokens, completion_tokens=self.completion_tokens, total_tokens=total)


async def _persona_pieces(
    request: CompletionRequest, answer: _Answer, persona_id: str, header: str
) -> AsyncIterator[tuple[str, str]]:
    """The persona's reply as ("content" | "thinking", new text) pieces, through Azera's reply pipeline."""
    turns = [(m.role, m.text()) for m in request.messages if m.role in ("user", "assistant")]
    system = "\n\n".join(m.text() for m in request.messages if m.role in ("system", "developer") and m.text().strip())
    if not turns or turns[-1][0] != "user" or not turns[-1][1].strip():
        raise OpenAIError(400, "The last message must be the user's, with text", code="invalid_messages")
    earlier, last = turns[:-1], turns[-1][1]
    chat_id, key, made = await in_db(lambda session: chat_for(session, persona_id, header, request.user or "", earlier))
    if busy(chat_id):
        raise OpenAIError(409, "A reply is still being written in this chat: wait or stop it", code="chat_busy")
    _streaming.add(chat_id)
    answer.chat_id = chat_id
    try:
        stream = generate_reply(
            chat_id,
            text=last,
            sampling=_sampling(request),
            client_system=system,
            stop_strings=_stops(request.stop),
            usage=True,
        )
        try:
            first = await anext(stream)
        except NotFoundError as error:
            raise OpenAIError(404, str(error)) from error
        except TooLongError as error:
            if made:  # the chat made for this request would stay empty
                await in_db(lambda session: chats.delete_chat(session, chat_id))
            raise OpenAIError(413, str(error), code="context_length_exceeded") from error
        except ServiceError as error:
            raise OpenAIError(400, str(error)) from error
        answer.ident += first.reply_id
        async for pieces in _deltas(stream, answer):
            yield pieces
        if answer.error:
            return
        if key is not None:
            history = [*earlier, ("user", last), ("assistant", answer.content)]
            await in_db(lambda session: set_key(session, chat_id, history_key(persona_id, history)))
    finally:
        _streaming.discard(chat_id)


_draining: set[asyncio.Task] = set()


async def _drain(stream: AsyncIterator[ReplyEvent]) -> None:
    """After "done" the pipeline still reads the reply's mood (a model call): the client does not wait for it."""
    try:
        async for _ in stream:
            pass
    except Exception as error:  # the reply is saved; only the mood update is lost
        log.warning("after a /v1 reply, updating the mood failed: %s", error)


async def _deltas(stream: AsyncIterator[ReplyEvent], answer: _Answer) -> AsyncIterator[tuple[str, str]]:
    async for event in stream:
        if event.kind == "token":
            for kind, new, old in (
                ("thinking", event.thinking, answer.thinking),
                ("content", event.content, answer.content),
            ):
                if new != old:
                    yield kind, new[len(old) :] if new.startswith(old) else new
            answer.thinking, answer.content = event.thinking, event.content
        elif event.kind == "done":
            answer.content, answer.thinking, answer.error = event.content, event.thinking, event.error
            answer.prompt_tokens, answer.completion_tokens = event.prompt_tokens, event.completion_tokens
            task = asyncio.create_task(_drain(stream))
            _draining.add(task)
            task.add_done_callback(_draining.discard)
            return


async def _raw_pieces(request: CompletionRequest, answer: _Answer, model: str) -> AsyncIterator[tuple[str, str]]:
    """Plain completion with a backend model: the client's messages as they are; nothing saved."""
    backend = runtime().backend
    messages = [
        ChatTurn(role="system" if m.role == "developer" else m.role, content=m.text()) for m in request.messages
    ]
    if not messages or messages[-1]["role"] not in ("user", "assistant"):
        raise OpenAIError(400, "The last message must be the user's (or an assistant's to continue)")
    stops = _stops(request.stop)
    sampling = resolve(model, {k: v for k, v in _sampling(request).items() if v is not None})
    answer.ident += hashlib.sha256(f"{time.time_ns()}".encode()).hexdigest()[:24]
    try:
        async for piece in backend.stream_chat(model, messages, sampling=sampling, stop=asyncio.Event()):
            text = answer.content + piece
            cut = min((text.find(s) for s in stops if s in text), default=-1)
            if cut >= 0:
                piece = text[len(answer.content) : cut] if cut > len(answer.content) else ""
                answer.content = text[:cut]
                if piece:
                    yield "content", piece
                break
            answer.content = text
            yield "content", piece
    except BackendError as error:
        answer.error = str(error)
        return
    answer.prompt_tokens = sum(
        [await backend.count_tokens(model, m["content"]) + PER_MESSAGE_OVERHEAD for m in messages]
    )
    answer.completion_tokens = await backend.count_tokens(model, answer.content) if answer.content else 0


async def _pieces(request: CompletionRequest, answer: _Answer, header: str) -> AsyncIterator[tuple[str, str]]:
    models = await _models()
    known = {m.id for m in models}
    if request.model not in known:
        listed = ", ".join(sorted(known)) or "none"
        raise OpenAIError(400, f"Unknown model '{request.model[:80]}'; models here: {listed}", code="model_not_found")
    if len(request.messages) > MAX_MESSAGES:
        raise OpenAIError(400, f"At most {MAX_MESSAGES} messages per request", code="too_many_messages")
    if request.model.startswith(RAW):
        return _raw_pieces(request, answer, request.model[len(RAW) :])
    return _persona_pieces(request, answer, request.model, header)


async def _first(pieces: AsyncIterator[tuple[str, str]]) -> tuple[tuple[str, str] | None, AsyncIterator]:
    """Run the reply until its first piece, so that bad input is answered with a status, not mid-stream."""
    try:
        return await anext(pieces), pieces
    except StopAsyncIteration:
        return None, pieces


async def _stream(
    answer: _Answer, first: tuple[str, str] | None, rest: AsyncIterator[tuple[str, str]], include_usage: bool
) -> AsyncIterator[dict]:
    role = {"role": "assistant", "content": ""}
    yield _chunk(answer.ident, answer.model, answer.created, role, azera_chat_id=answer.chat_id)
    pending = [first] if first else []
    try:
        while True:
            for kind, text in pending:
                delta = {"content": text} if kind == "content" else {"reasoning_content": text}
                yield _chunk(answer.ident, answer.model, answer.created, delta)
            try:
                pending = [await anext(rest)]
            except StopAsyncIteration:
                break
        if answer.error:
            yield {"data": json.dumps(error_body(answer.error, "server_error", "model_failed"))}
        else:
            yield _chunk(answer.ident, answer.model, answer.created, {}, answer.finish)
            if include_usage:  # OpenAI's last chunk: no choices, the usage
                body = {"id": answer.ident, "object": "chat.completion.chunk", "created": answer.created}
                body |= {"model": answer.model, "choices": [], "usage": answer.usage().model_dump()}
                yield {"data": json.dumps(body)}
        yield {"data": "[DONE]"}
    finally:
        await rest.aclose()  # a client that leaves mid-stream stops the reply (saved as "stopped")


def add_v1_routes(api: FastAPI) -> None:
    """``/v1/models`` and ``/v1/chat/completions``."""

    @api.get("/v1/models")
    async def models() -> ModelList:
        """The AI personas (talk to them), then the backend's models as ``raw/<name>`` (plain completion)."""
        return ModelList(data=await _models())

    @api.post(
        "/v1/chat/completions",
        responses={
            200: {"content": {"text/event-stream": {}}, "description": "with stream: chunks as Server-Sent Events"},
            400: {"description": "unknown model, too many messages, no user message"},
            404: {"description": "the X-Azera-Chat chat does not exist"},
            409: {"description": "a reply is already being written in this chat"},
            413: {"description": "the message does not fit the model's context"},
            502: {"description": "the model failed while writing (stream false)"},
        },
    )
    async def chat_completions(
        request: CompletionRequest, x_azera_chat: str = Header(default="", max_length=32, pattern="^[0-9a-f]{0,32}$")
    ) -> Completion:
        """A persona's reply through Azera (memory, mood, the chat saved), or a raw model's completion."""
        answer = _Answer(request.model, request.max_completion_tokens or request.max_tokens)
        first, rest = await _first(await _pieces(request, answer, x_azera_chat))
        if request.stream:
            include = bool((request.stream_options or {}).get("include_usage"))
            return EventSourceResponse(_stream(answer, first, rest, include), ping=15)  # type: ignore[return-value]
        async for _ in rest:
            pass
        if answer.error:
            failed = error_body(answer.error, "server_error", "model_failed")
            return JSONResponse(failed, status_code=502)  # type: ignore[return-value]
        message = ReplyMessage(content=answer.content, reasoning_content=answer.thinking or None)
        return Completion(
            id=answer.ident,
            created=answer.created,
            model=answer.model,
            choices=[Choice(message=message, finish_reason=answer.finish)],
            usage=answer.usage(),
            azera_chat_id=answer.chat_id,
        )
