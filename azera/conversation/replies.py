"""Produce a persona's reply: save the user's message, assemble the prompt, stream, persist.

The UI, the command line and the API all go through ``generate_reply``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import AsyncIterator
from typing import Literal

from sqlmodel import Session, select

from azera.conversation import drawing
from azera.conversation.limits import check_fits, cut_at_stop, usage_of
from azera.db.engine import in_db, retry_locked, session_scope
from azera.db.models import Memory
from azera.errors import ServiceError
from azera.images.jobs import Job
from azera.llm.base import BackendError, ChatBackend, ChatTurn
from azera.llm.loops import cut_at_repeat, without_speaker_label
from azera.llm.prompt import PromptParts, PromptTooLongError, build_messages, prompt_style
from azera.llm.sampling import Sampling
from azera.llm.thinking import split_thinking
from azera.memory.recall import RecalledMemory, memories_block
from azera.memory.service import MAX_MEMORY_CHARS, MemoryService
from azera.mind.mood import infer_mood
from azera.runtime import runtime
from azera.services import messages as message_service
from azera.services.chats import get_chat
from azera.services.personas import get_persona
from azera.services.sampling import chat_sampling

log = logging.getLogger(__name__)
SAVE_EVERY_SECONDS = 1.0
Mode = Literal["send", "edit", "regenerate", "continue"]
CONTINUABLE = ("interrupted", "stopped", "repeated", "error")  # replies cut short, which "continue" carries on
RUNNING: dict[str, asyncio.Event] = {}  # chat id → the stop switch of the reply being written there (UI or API)


@dataclasses.dataclass
class ReplyEvent:
    """One step of a reply as it streams."""

    kind: Literal["started", "token", "done", "mood"]
    chat_id: str
    user_message_id: str
    reply_id: str
    content: str = ""
    thinking: str = ""
    status: str = "streaming"
    error: str = ""
    model: str = ""
    recalled: list[dict] = dataclasses.field(default_factory=list)  # on "done": what the reply was given
    prompt_tokens: int = 0  # on "done", when asked for (``usage``): tokens the model read and wrote
    completion_tokens: int = 0


@dataclasses.dataclass
class _Plan:
    user_message_id: str
    reply_id: str
    model: str
    sampling: Sampling
    parts: PromptParts
    persona_id: str
    query: str
    memory_enabled: bool
    memory_ids: list[str] = dataclasses.field(default_factory=list)
    so_far: str = ""  # continuing: the reply's text until it was cut (thinking in its <think> block)


def _prepare(session: Session, chat_id: str, mode: Mode, text: str, target_id: str) -> _Plan:
    """Save the user's side first, then create the empty reply row (one transaction)."""
    if mode in ("send", "edit") and chat_id and get_chat(session, chat_id).journal_mode:
        raise ServiceError("This chat is in journal mode: messages are kept as drafts, the persona does not reply")
    cut = None
    if mode == "send":
        user = message_service.add_user_message(session, chat_id, text)
    elif mode == "edit":
        user = message_service.edit_user_message(session, target_id, text)
    else:
        answered = message_service.get_message(session, target_id)
        if answered.role != "assistant":
            raise ServiceError(f"Only replies can be {'continued' if mode == 'continue' else 'regenerated'}")
        if mode == "continue":
            if answered.status not in CONTINUABLE or not answered.content:
                raise ServiceError("Only a reply that was cut short can be continued")
            cut = answered
        user = message_service.get_message(session, answered.parent_id or "")
    chat = get_chat(session, user.chat_id)
    ai = get_persona(session, chat.ai_persona_id)
    human = get_persona(session, chat.user_persona_id)
    model, _, sampling = chat_sampling(session, chat)
    chat.active_leaf_id = user.id
    history = [
        ChatTurn(role=m.role, content=m.content) for m in message_service.active_branch(session, chat) if m.content
    ]
    if cut is None:
        reply = message_service.start_reply(session, chat.id, user.id, model)
    else:  # the same reply goes on: it stays where it is in the branch
        reply = message_service.save_reply(
            session, cut.id, content=cut.content, thinking=cut.thinking, status="streaming"
        )
        chat.active_leaf_id = reply.id
        session.add(chat)
    parts = PromptParts(ai.name, ai.body, human.name, human.body, history)
    plan = _Plan(user.id, reply.id, model, sampling, parts, ai.id, user.content, ai.memory_enabled)
    if cut is not None:
        plan.so_far = f"<think>{cut.thinking}</think>{cut.content}" if cut.thinking else cut.content
    if ai.memory_enabled and mode in ("send", "edit"):
        memory = MemoryService.record(
            session,
            text=user.content,
            persona_id=ai.id,
            kind="conversation",
            chat_id=chat.id,
            message_id=user.id,
            source="user",
            created_at=user.created_at,
        )
        plan.memory_ids.append(memory.id)
    return plan


def _retrieve(plan: _Plan, chat_id: str) -> list[RecalledMemory]:
    service = runtime().memory()  # built on first use, in this worker thread (it opens files)
    return service.retrieve(plan.query, persona_id=plan.persona_id, chat_id=chat_id) if service else []


async def _recall(plan: _Plan, chat_id: str) -> list[RecalledMemory]:
    """Memories for the prompt; a memory failure costs recall, never the reply."""
    if not plan.memory_enabled:
        return []
    try:
        return await asyncio.to_thread(_retrieve, plan, chat_id)
    except Exception as error:
        log.warning("chat %s: recall failed, replying without memories: %s", chat_id, error)
        return []


def _finish(plan: _Plan, chat_id: str, raw: str, status: str, recalled: list[RecalledMemory]) -> _Finished:
    """In one transaction: the reply's final text and status, what it recalled, and the reply as a memory.

    Returns the memory ids to index (the user's message and the reply), the saved text (drawing tags
    replaced) and the drawings to queue now that it is saved.
    """
    split = split_thinking(raw)
    with session_scope() as session:
        content, drawings = drawing.take_tags(
            session, split.content, chat_id=chat_id, message_id=plan.reply_id, persona_id=plan.persona_id
        )
        split = dataclasses.replace(split, content=content)
        reply = message_service.save_reply(
            session, plan.reply_id, content=split.content, thinking=split.thinking, status=status
        )
        reply.recalled = [dataclasses.asdict(memory) for memory in recalled]
        session.add(reply)
        if plan.memory_enabled and split.content:
            kept = session.exec(select(Memory).where(Memory.message_id == plan.reply_id)).first()
            if kept is not None:  # a continued reply: its memory (of the part before the cut) grows with it
                kept.text, kept.indexed_at = split.content[:MAX_MEMORY_CHARS], None
                session.add(kept)
                return _Finished([*plan.memory_ids, kept.id], content, drawings)
            memory = MemoryService.record(
                session,
                text=split.content[:MAX_MEMORY_CHARS],
                persona_id=plan.persona_id,
                kind="conversation",
                chat_id=chat_id,
                message_id=plan.reply_id,
                source="assistant",
            )
            return _Finished([*plan.memory_ids, memory.id], content, drawings)
    return _Finished(list(plan.memory_ids), content, drawings)


@dataclasses.dataclass
class _Finished:
    memory_ids: list[str]
    content: str
    drawings: list[Job]


_background: set[asyncio.Task] = set()


def _index(memory_ids: list[str]) -> None:
    service = runtime().memory()
    if service is not None:
        service.index(memory_ids)


def _index_later(memory_ids: list[str]) -> None:
    """Index in the background: the reply never waits for embeddings."""
    if not memory_ids:
        return
    task = asyncio.create_task(asyncio.to_thread(_index, memory_ids))
    _background.add(task)
    task.add_done_callback(_background.discard)


def _save(reply_id: str, raw: str, status: str) -> None:
    split = split_thinking(raw)

    def once() -> None:
        with session_scope() as session:
            message_service.save_reply(session, reply_id, content=split.content, thinking=split.thinking, status=status)

    retry_locked(once)


async def _save_progress(reply_id: str, raw: str) -> None:
    """Save the text so far while streaming.

    A failed save costs this save only (the next one, or the end, stores the text), never the reply.
    """
    try:
        await asyncio.to_thread(_save, reply_id, raw, "streaming")
    except Exception as error:
        log.warning("reply %s: saving the text so far failed (the next save retries): %s", reply_id, error)


def _release(chat_id: str, stop: asyncio.Event) -> None:
    if RUNNING.get(chat_id) is stop:
        del RUNNING[chat_id]


async def generate_reply(
    chat_id: str,
    *,
    mode: Mode = "send",
    text: str = "",
    target_id: str = "",
    stop: asyncio.Event | None = None,
    backend: ChatBackend | None = None,
    sampling: dict | None = None,
    client_system: str = "",
    stop_strings: tuple[str, ...] = (),
    usage: bool = False,
) -> AsyncIterator[ReplyEvent]:
    """Stream a reply: to a new message, an edited one, again, or the rest of one that was cut short.

    ``send``, ``edit`` and ``regenerate`` write a new reply; ``continue`` makes a reply that was cut short
    (interrupted, stopped, cut while repeating, failed) grow in place, and its tokens carry its whole text.
    API callers may override the chat's ``sampling`` for this reply, add a ``client_system`` message after
    the persona's, end the reply before any of ``stop_strings`` and ask for token counts (``usage``).

    Raises:
        ServiceError: Bad input (empty or huge message, unknown chat/message); nothing is saved.

    """

    def prepare(session: Session) -> _Plan:
        return _prepare(session, chat_id, mode, text, target_id)

    backend = backend or runtime().backend
    if mode in ("send", "edit") and text:
        await check_fits(chat_id, target_id, text, backend, sampling)
    plan = await in_db(prepare)
    plan.sampling = plan.sampling.with_overrides(sampling)
    plan.parts.client_system, plan.parts.abilities = client_system, drawing.prompt_hint()
    stop = stop or asyncio.Event()
    RUNNING[chat_id] = stop
    try:
        event = ReplyEvent("started", chat_id, plan.user_message_id, plan.reply_id, model=plan.model)
        yield event
        raw, status, error = plan.so_far, "complete", ""
        recalled = await _recall(plan, chat_id)
        plan.parts.memories = memories_block(recalled, you=plan.parts.persona_name)
        mind = await asyncio.to_thread(runtime().mind.get, plan.persona_id)
        plan.parts.mood, plan.parts.energy = mind.mood, mind.energy
        try:
            plan.parts.style = await prompt_style(backend, plan.model)
            messages, dropped = await build_messages(
                plan.parts, backend=backend, model=plan.model, reply_tokens=plan.sampling.max_tokens
            )
            if dropped:
                log.info("chat %s: %d oldest turns left out to fit the context", chat_id, dropped)
            if plan.so_far:  # the model carries on from the reply's own words
                messages = [*messages, ChatTurn(role="assistant", content=plan.so_far)]
            last_save = time.monotonic()
            stream = backend.stream_chat(plan.model, messages, sampling=plan.sampling, stop=stop)
            async with contextlib.aclosing(stream):  # leaving early (loop guard) ends generation at once
                async for piece in stream:
                    raw = without_speaker_label(raw + piece, (plan.parts.persona_name, plan.parts.user_name))
                    raw, repeated = cut_at_repeat(raw)
                    ended = cut_at_stop(raw, stop_strings)
                    if ended is not None:
                        raw = ended
                        split = split_thinking(raw)
                        yield dataclasses.replace(event, kind="token", content=split.content, thinking=split.thinking)
                        break
                    if repeated:
                        status = "repeated"  # the loop guard: keep the reply up to the repeat, offer regenerate
                        log.info("chat %s: reply %s cut where it began repeating itself", chat_id, plan.reply_id)
                        break
                    split = split_thinking(raw)
                    yield dataclasses.replace(event, kind="token", content=split.content, thinking=split.thinking)
                    if time.monotonic() - last_save > SAVE_EVERY_SECONDS:
                        await _save_progress(plan.reply_id, raw)
                        last_save = time.monotonic()
            if stop.is_set() and status == "complete":
                status = "stopped"
        except (BackendError, PromptTooLongError) as failure:
            status, error = "error", str(failure)
            log.warning("chat %s: reply failed: %s", chat_id, failure)
        except asyncio.CancelledError:
            status = "stopped"
            await asyncio.shield(asyncio.to_thread(_save, plan.reply_id, raw, status))
            raise
        finished = await asyncio.to_thread(retry_locked, lambda: _finish(plan, chat_id, raw, status, recalled))
        _index_later(finished.memory_ids)
        drawing.start(finished.drawings)
        split = dataclasses.replace(split_thinking(raw), content=finished.content)
        counts = await usage_of(backend, plan.model, messages, raw) if usage and status != "error" else (0, 0)
        done = dataclasses.replace(
            event,
            kind="done",
            content=split.content,
            thinking=split.thinking,
            status=status,
            error=error,
            recalled=[dataclasses.asdict(memory) for memory in recalled],
            prompt_tokens=counts[0],
            completion_tokens=counts[1],
        )
        yield done
        _release(chat_id, stop)  # the chat takes a new message now; the mood below is the persona's own business
        if status in ("complete", "repeated") and split.content:
            # After "done": the reply is finished for the user; the mood call only moves the mental state.
            mood = await infer_mood(backend, plan.model, split.content)
            await asyncio.to_thread(runtime().mind.record_exchange, plan.persona_id, mood)
            yield dataclasses.replace(done, kind="mood", status=mood or "")
    finally:
        _release(chat_id, stop)
