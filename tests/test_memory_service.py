"""Hybrid recall with the real MiniLM embedder, embedded Qdrant engine and FTS5."""

import logging
from datetime import timedelta

import numpy as np
import pytest
from sqlmodel import select

from azera.config import get_settings
from azera.db.engine import session_scope
from azera.db.models import Memory, utcnow
from azera.errors import ServiceError
from azera.memory.embedder import OnnxMiniLM
from azera.memory.lexical import FtsLexicalStore
from azera.memory.recall import fuse, memories_block
from azera.memory.records import SearchScope
from azera.memory.semantic import EdgeSemanticStore
from azera.memory.service import MemoryService
from azera.memory.working import LocalTTLStore, RedisStore


@pytest.fixture(scope="module")
def embedder() -> OnnxMiniLM:
    return OnnxMiniLM()


class CountingEmbedder:
    """The real embedder, counting how many texts it was asked to embed."""

    def __init__(self, inner: OnnxMiniLM) -> None:
        self.inner, self.name, self.dimension, self.calls = inner, inner.name, inner.dimension, 0

    def embed(self, texts: list[str]) -> np.ndarray:
        self.calls += len(texts)
        return self.inner.embed(texts)


@pytest.fixture
def service(prepared, embedder: OnnxMiniLM) -> MemoryService:
    data = get_settings().data_dir
    return MemoryService(
        embedder=CountingEmbedder(embedder),
        semantic=EdgeSemanticStore(data / "semantic", embedder.dimension),
        lexical=FtsLexicalStore(data / "lexical.db"),
        working=LocalTTLStore(),
    )


def remember(
    service: MemoryService, text: str, *, persona: str = "azera", chat: str = "old-chat", age_s: float = 3600, **kw
):
    with session_scope() as session:
        memory = MemoryService.record(
            session, text=text, persona_id=persona, chat_id=chat, created_at=utcnow() - timedelta(seconds=age_s), **kw
        )
    assert service.index([memory.id]) == 1
    return memory


def texts(recalled) -> list[str]:
    return [m.text for m in recalled]


def test_recalls_by_meaning_and_by_words(service: MemoryService) -> None:
    remember(service, "My sister Ingrid lives in Trondheim.")
    remember(service, "The quarterly tax return is due on the 15th of April.")
    remember(service, "I am allergic to peanuts.")
    by_meaning = service.retrieve("What nuts should I avoid eating?", persona_id="azera", chat_id="new")
    assert texts(by_meaning)[0] == "I am allergic to peanuts."
    assert set(by_meaning[0].sources) == {"semantic"}  # no shared word: found by meaning alone
    by_name = service.retrieve("Ingrid", persona_id="azera", chat_id="new")
    assert texts(by_name)[0] == "My sister Ingrid lives in Trondheim."
    assert "lexical" in by_name[0].sources


def test_persona_isolation_current_chat_and_fresh_memories(service: MemoryService) -> None:
    remember(service, "The password for the shed is bluebird.", persona="areza")
    remember(service, "The shed key hangs by the door.", chat="this-chat")
    remember(service, "The shed roof was repaired yesterday.", age_s=10)
    remember(service, "The shed is painted green.")
    recalled = service.retrieve("Tell me about the shed", persona_id="azera", chat_id="this-chat")
    assert texts(recalled) == ["The shed is painted green."]
    assert service.retrieve("shed password", persona_id="areza", chat_id="x")[0].text.startswith("The password")


def test_similarity_threshold_and_dedup(service: MemoryService) -> None:
    remember(service, "We adopted a grey cat named Miso. " + "x" * 120)
    remember(service, "We adopted a grey cat named Miso. " + "x" * 120 + " (copy)")
    recalled = service.retrieve("cat named Miso", persona_id="azera", chat_id="new")
    assert len(recalled) == 1
    unrelated = service.retrieve("quantum chromodynamics lattice", persona_id="azera", chat_id="new")
    assert unrelated == []  # nothing similar enough, no shared words


def test_snippets_are_cut_to_400_characters(service: MemoryService) -> None:
    remember(service, "Lighthouse " + "beam " * 200)
    recalled = service.retrieve("lighthouse", persona_id="azera", chat_id="new")
    assert len(recalled[0].text) == 400 and recalled[0].text.endswith("…")


def test_embedding_cache_hit_on_repeated_text(service: MemoryService) -> None:
    remember(service, "Repeated words about tea.")
    calls = service.embedder.calls
    service.retrieve("tea time", persona_id="azera", chat_id="new")
    service.retrieve("tea time", persona_id="azera", chat_id="new")
    assert service.embedder.calls == calls + 1


def test_tier_move_edit_and_delete_reach_every_index(service: MemoryService) -> None:
    memory = remember(service, "The boat is called Sea Otter.")
    service.update(memory.id, tier="archive")
    assert service.retrieve("boat name", persona_id="azera", chat_id="n")[0].text == "The boat is called Sea Otter."
    service.update(memory.id, text="The boat is called Night Heron.")
    assert "Night Heron" in service.retrieve("Heron", persona_id="azera", chat_id="n")[0].text
    service.delete(memory.id)
    assert service.retrieve("boat Heron", persona_id="azera", chat_id="n") == []
    assert service.semantic.count() == 0 and service.lexical.count("memories") == 0
    with pytest.raises(ServiceError, match="Unknown memory tier"):
        service.update("x" * 32, tier="attic")


def test_redis_down_still_answers_from_the_other_layers(
    service: MemoryService, caplog: pytest.LogCaptureFixture
) -> None:
    remember(service, "My bike is a red Bianchi.")
    service.working = RedisStore("redis://127.0.0.1:1/0")
    with caplog.at_level(logging.WARNING):
        recalled = service.retrieve("What bike do I ride?", persona_id="azera", chat_id="n")
    assert texts(recalled) == ["My bike is a red Bianchi."]
    assert "unavailable" in caplog.text


def test_failed_index_keeps_the_row_and_reindex_rebuilds(service: MemoryService) -> None:
    with session_scope() as session:
        memory = MemoryService.record(
            session, text="Grandma's birthday is in May.", persona_id="azera", created_at=utcnow() - timedelta(days=1)
        )
    broken = service.lexical
    service.lexical = None  # type: ignore[assignment]  # the index is down
    assert service.index([memory.id]) == 0
    with session_scope() as session:
        assert session.get(Memory, memory.id).indexed_at is None
    service.lexical = broken
    assert service.index_pending() == 1
    service.semantic.clear()
    service.lexical.clear("memories")
    assert service.retrieve("birthday", persona_id="azera", chat_id="n") == []
    assert service.reindex() == 1
    assert texts(service.retrieve("birthday", persona_id="azera", chat_id="n")) == ["Grandma's birthday is in May."]


def test_bad_memories_and_queries(service: MemoryService) -> None:
    with session_scope() as session:
        with pytest.raises(ServiceError, match="needs some text"):
            MemoryService.record(session, text="  ", persona_id="azera")
        with pytest.raises(ServiceError, match="Unknown memory kind"):
            MemoryService.record(session, text="x", persona_id="azera", kind="gossip")
    assert service.retrieve("   ", persona_id="azera", chat_id="n") == []
    remember(service, "Party 🎉 at Zoë's place on Friday")
    assert texts(service.retrieve("Zoë 🎉 party", persona_id="azera", chat_id="n")) == [
        "Party 🎉 at Zoë's place on Friday"
    ]


def test_fusion_adds_each_sources_judgement() -> None:
    scores = {"semantic": {"a": 0.6, "b": 0.5, "c": 0.3}, "lexical": {"b": 5.0, "c": 4.0}}
    fused = dict(fuse(scores))
    # b: good on both; c: a strong word match; a: close in meaning but no word in common
    assert sorted(fused, key=fused.get, reverse=True) == ["b", "c", "a"]
    assert fused["b"] == pytest.approx(0.5 * 0.5 + 0.5 * 1.0)  # bm25 relative to the best word match
    dated = {"a": 100.0, "b": 5.0, "c": 5.0}
    with_time = dict(fuse(scores, dated=dated, window=(50.0, 150.0)))
    assert with_time["a"] == pytest.approx(fused["a"] + 0.2) and with_time["b"] == fused["b"]


def test_memories_block_is_numbered_with_dates(service: MemoryService) -> None:
    remember(service, "The wifi password is hunter2.")
    block = memories_block(service.retrieve("wifi password", persona_id="azera", chat_id="n"))
    assert block.startswith("## Relevant memories")
    assert "\n1. [" in block and "(fact) The wifi password is hunter2." in block


def test_every_saved_message_becomes_a_memory_unless_memory_is_off(prepared) -> None:
    import asyncio

    from azera.conversation.replies import _background, generate_reply
    from azera.services import chats, personas
    from tests.ollama_server import ollama_server

    with ollama_server() as (url, _):
        from azera.llm.ollama_backend import OllamaBackend

        backend = OllamaBackend(url)
        with session_scope() as session:
            on = chats.create_chat(session, ai_persona_id="azera")
            chats.set_chat_model(session, on.id, model="llama3.2:1b", temperature=None)
            folder = get_settings().resolved_personas_dir
            text = (folder / "areza.md").read_text().replace("memory: true", "memory: false")
            personas.save_persona(session, folder, "areza", text)
            off = chats.create_chat(session, ai_persona_id="areza")
            chats.set_chat_model(session, off.id, model="llama3.2:1b", temperature=None)
            on_id, off_id = on.id, off.id

        async def talk() -> None:
            [e async for e in generate_reply(on_id, text="I play the cello.", backend=backend)]
            [e async for e in generate_reply(off_id, text="I play the flute.", backend=backend)]
            await asyncio.gather(*_background)

        asyncio.run(talk())
    with session_scope() as session:
        rows = session.exec(select(Memory).order_by(Memory.created_at)).all()
        assert [(m.persona_id, m.source, m.kind) for m in rows] == [
            ("azera", "user", "conversation"),
            ("azera", "assistant", "conversation"),
        ]
        assert all(m.indexed_at is not None for m in rows)


def test_recall_through_meilisearch_when_configured(prepared, monkeypatch: pytest.MonkeyPatch) -> None:
    from azera.runtime import runtime, set_runtime
    from tests.meili_server import meili_server

    with meili_server() as (url, state):
        monkeypatch.setenv("AZERA_MEILI_URL", url)
        get_settings.cache_clear()
        set_runtime(None)
        service = runtime().memory()
        assert service.lexical.name == "Meilisearch"
        remember(service, "Our wedding anniversary is on the 3rd of June.")
        recalled = service.retrieve("anniversary date", persona_id="azera", chat_id="n")
        assert texts(recalled) == ["Our wedding anniversary is on the 3rd of June."]
        assert "lexical" in recalled[0].sources
        assert len(state.indexes["memories"]["docs"]) == 1


def test_a_reply_is_found_by_the_words_of_the_question_it_answers(service: MemoryService) -> None:
    from azera.services.chats import create_chat
    from azera.services.messages import add_user_message, save_reply, start_reply

    with session_scope() as session:
        chat = create_chat(session, ai_persona_id="azera", title="seasons")
        question = add_user_message(session, chat.id, "Which season do you like best?")
        reply = start_reply(session, chat.id, question.id, "m")
        save_reply(session, reply.id, content="Autumn, for the colours of the leaves.", thinking="", status="complete")
        memory = MemoryService.record(
            session, text=reply.content, persona_id="azera", chat_id=chat.id, message_id=reply.id, kind="conversation"
        )
    service.index([memory.id])
    hits = service.lexical.search("memories", "favourite season", SearchScope("azera"), 10)
    assert [hit.id for hit in hits] == [memory.id]  # "season" is only in the question before it


class CountingCalls:
    """Wraps a store method, counting its calls and the items they carried."""

    def __init__(self, method) -> None:
        self.method, self.calls, self.items = method, 0, 0

    def __call__(self, *args):
        self.calls += 1
        self.items += len(next(a for a in args if isinstance(a, list)))
        return self.method(*args)


def test_indexing_thousands_of_memories_writes_in_batches(service: MemoryService, monkeypatch) -> None:
    from sqlalchemy import insert

    from azera.db.models import new_id

    yesterday = utcnow() - timedelta(days=1)
    rows = [
        {"id": new_id(), "text": f"Note {n}: the {['kiln', 'oboe', 'fjord'][n % 3]} again.", "persona_id": "azera"}
        for n in range(2_500)
    ]
    with session_scope() as session:
        session.execute(
            insert(Memory),
            [{**row, "kind": "fact", "tier": "long_term", "source": "", "created_at": yesterday} for row in rows],
        )
    embeds = CountingCalls(service.embedder.embed)
    upserts = CountingCalls(service.semantic.upsert)
    monkeypatch.setattr(service.embedder, "embed", embeds)
    monkeypatch.setattr(service.semantic, "upsert", upserts)
    transactions = service.lexical.transactions
    assert service.reindex(batch=1_000) == 2_500
    # One embedding call, one vector upsert and one word-search transaction per 1,000 memories.
    assert (embeds.calls, upserts.calls, service.lexical.transactions - transactions) == (3, 3, 3)
    assert upserts.items == 2_500 and service.semantic.count() == 2_500
    assert service.lexical.count("memories") == 2_500
    # Indexing the same memories again replaces them: nothing is duplicated.
    assert service.reindex(batch=1_000) == 2_500
    assert service.lexical.count("memories") == 2_500 and service.semantic.count() == 2_500
    assert texts(service.retrieve("Note 1234", persona_id="azera", chat_id="n"))[0] == "Note 1234: the oboe again."


def _turn(chat_id: str, role: str, text: str, parent_id: str | None, age_s: float):
    from azera.db.models import ChatMessage

    with session_scope() as session:
        message = ChatMessage(chat_id=chat_id, role=role, content=text, parent_id=parent_id)
        session.add(message)
        session.flush()
        memory = MemoryService.record(
            session,
            text=text,
            persona_id="azera",
            chat_id=chat_id,
            message_id=message.id,
            kind="conversation",
            created_at=utcnow() - timedelta(seconds=age_s),
        )
        return message.id, memory.id


def test_a_turn_indexed_before_its_answer_is_found_by_the_answer_words(service: MemoryService, monkeypatch) -> None:
    from azera.db.models import Chat

    with session_scope() as session:
        session.add(Chat(id="c" * 32, ai_persona_id="azera", user_persona_id="protag"))
    question, question_memory = _turn("c" * 32, "user", "What should we plant this spring?", None, 7200)
    assert service.index([question_memory]) == 1
    _, answer_memory = _turn("c" * 32, "assistant", "Tomatoes and basil, by the south wall.", question, 7100)
    lexical_upserts = CountingCalls(service.lexical.upsert)
    monkeypatch.setattr(service.lexical, "upsert", lexical_upserts)
    assert service.index([answer_memory]) == 1
    assert lexical_upserts.items == 3  # the answer, the question it answers (now with its answer), the chat message
    found = service.lexical.search("memories", "basil", SearchScope(persona_id="azera"), 10)
    assert {h.id for h in found} == {question_memory, answer_memory}
    # A rebuild reads each turn with the turns around it: the question still finds its answer's words.
    assert service.reindex() == 2
    found = service.lexical.search("memories", "basil", SearchScope(persona_id="azera"), 10)
    assert {h.id for h in found} == {question_memory, answer_memory}
