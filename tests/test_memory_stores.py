"""Each memory layer on its own: working memory (in-process and real Redis), semantic, lexical."""

import logging
from pathlib import Path

import numpy as np
import pytest

from azera.memory.lexical import FtsLexicalStore
from azera.memory.records import IndexedMemory, SearchScope
from azera.memory.semantic import EdgeSemanticStore, QdrantClientStore
from azera.memory.words import match_expression
from azera.memory.working import LocalTTLStore, RedisStore
from tests.redis_server import redis_available, running_redis


def _item(
    n: int,
    text: str,
    persona: str = "azera",
    chat: str = "c1",
    kind: str = "fact",
    at: float = 100.0,
    context: str = "",
):
    return IndexedMemory(
        id=f"{n:032x}",
        text=text,
        persona_id=persona,
        chat_id=chat,
        kind=kind,
        tier="long_term",
        created_at=at,
        context=context,
    )


def test_local_store_expires_entries() -> None:
    now = [1000.0]
    store = LocalTTLStore(max_entries=2, clock=lambda: now[0])
    store.set("a", b"1", ttl_seconds=10)
    assert store.get("a") == b"1"
    now[0] += 11
    assert store.get("a") is None
    for key in ("x", "y", "z"):
        store.set(key, key.encode(), 60)
    assert store.get("x") is None and store.get("z") == b"z"  # bounded: oldest evicted


@pytest.mark.skipif(not redis_available(), reason="redis-server is not installed (apt-get install redis-server)")
def test_redis_store_against_a_real_server() -> None:
    with running_redis() as url:
        store = RedisStore(url)
        store.set("session:chat1", b"context", ttl_seconds=24 * 3600)
        assert store.get("session:chat1") == b"context"
        assert 0 < store._redis.ttl("azera:session:chat1") <= 24 * 3600
        store.delete("session:chat1")
        assert store.get("session:chat1") is None


def test_redis_down_reads_miss_and_warns(caplog: pytest.LogCaptureFixture) -> None:
    store = RedisStore("redis://127.0.0.1:1/0")
    with caplog.at_level(logging.WARNING):
        assert store.get("anything") is None
        store.set("anything", b"x", 60)
    assert "unavailable" in caplog.text


@pytest.fixture(params=["edge", "qdrant-client"])
def semantic(request: pytest.FixtureRequest, tmp_path: Path):
    if request.param == "edge":
        store = EdgeSemanticStore(tmp_path / "semantic", dimension=4)
        yield store
        store.close()
    else:
        yield QdrantClientStore(":memory:", dimension=4)


def test_semantic_filters_by_persona_chat_time_and_kind(semantic) -> None:
    items = [
        _item(1, "a", chat="c1", at=100),
        _item(2, "b", chat="c2", at=100),
        _item(3, "c", persona="areza", chat="c3", at=100),
        _item(4, "d", chat="c4", at=500, kind="dream"),
    ]
    vectors = np.array([[1, 0, 0, 0], [0.9, 0.1, 0, 0], [1, 0, 0, 0], [0.8, 0.2, 0, 0]], dtype=np.float32)
    semantic.upsert(items, vectors / np.linalg.norm(vectors, axis=1, keepdims=True))
    query = np.array([1, 0, 0, 0], dtype=np.float32)
    ids = lambda scope: [h.id for h in semantic.search(query, scope, 10)]  # noqa: E731
    assert ids(SearchScope("azera")) == [items[0].id, items[1].id, items[3].id]
    assert ids(SearchScope("azera", exclude_chat_id="c1")) == [items[1].id, items[3].id]
    assert ids(SearchScope("azera", before=200)) == [items[0].id, items[1].id]
    assert ids(SearchScope("azera", kinds=("dream",))) == [items[3].id]
    assert ids(SearchScope("areza")) == [items[2].id]
    assert semantic.search(query, SearchScope("azera"), 1)[0].score == pytest.approx(1.0, abs=1e-4)
    semantic.delete([items[0].id])
    assert items[0].id not in ids(SearchScope("azera"))
    assert semantic.count() == 3
    semantic.clear()
    assert semantic.count() == 0


def test_lexical_stems_and_scopes(tmp_path: Path) -> None:
    store = FtsLexicalStore(tmp_path / "lexical.db")
    store.upsert(
        "memories",
        [
            _item(1, "I spent the weekend gardening with tomatoes", chat="c1"),
            _item(2, "Tomato soup recipe from grandma", chat="c2", at=900),
            _item(3, "Tomatoes everywhere", persona="areza"),
        ],
    )
    hits = store.search("memories", "my tomato garden", SearchScope("azera"), 10)
    assert hits[0].id == f"{1:032x}"  # stemming: garden~gardening, tomato~tomatoes
    assert {h.id for h in hits} == {f"{1:032x}", f"{2:032x}"}
    assert [h.id for h in store.search("memories", "tomato", SearchScope("azera", exclude_chat_id="c1"), 10)] == [
        f"{2:032x}"
    ]
    assert [h.id for h in store.search("memories", "tomato", SearchScope("azera", before=500), 10)] == [f"{1:032x}"]
    store.delete("memories", [f"{1:032x}"])
    assert store.count("memories") == 2
    assert store.search("chats", "tomato", SearchScope("azera"), 10) == []


def test_lexical_finds_an_answer_by_the_question_before_it(tmp_path: Path) -> None:
    store = FtsLexicalStore(tmp_path / "lexical.db")
    answer = _item(1, "Under three hours thirty.", context="That's ambitious! What's your target time?")
    own = _item(2, "My target time for the half was ninety minutes.")
    store.upsert("memories", [answer, own, _item(3, "Unrelated note about tea.")])
    hits = store.search("memories", "What is my marathon target time?", SearchScope("azera"), 10)
    assert [h.id for h in hits] == [own.id, answer.id]  # its own words count more than its context's


def test_lexical_at_scale_ranks_rare_words_first_then_the_newest_common_matches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long history: everyday words match thousands of memories (here COMMON 5, WINDOW 10 stand for 1,000
    and 2,000). The memory with the question's rare word is found however old it is; the rest are the
    newest memories holding every common word, never another persona's."""
    monkeypatch.setattr(FtsLexicalStore, "COMMON", 5)
    monkeypatch.setattr(FtsLexicalStore, "WINDOW", 10)
    store = FtsLexicalStore(tmp_path / "lexical.db")
    old = _item(0, "The garden bench where we talked about the lighthouse", at=1.0)
    store.upsert("memories", [old])
    everyday = [_item(n, f"Day {n}: the garden and the bench again", at=float(n)) for n in range(1, 40)]
    for start in range(0, 39, 10):  # written over time, as a year of conversation would be
        store.upsert("memories", everyday[start : start + 10])
    store.upsert("memories", [_item(100 + n, "garden bench garden bench", persona="areza") for n in range(30)])

    hits = store.search("memories", "the garden bench and the lighthouse", SearchScope("azera"), 5)
    assert hits[0].id == old.id  # the rare word wins, although the memory is the oldest
    assert [h.id for h in hits[1:]] == [f"{n:032x}" for n in (39, 38, 37, 36)]  # then the newest
    assert hits[0].score > hits[1].score > 0

    newest = store.search("memories", "garden bench", SearchScope("azera", before=30.0), 3)
    assert [h.id for h in newest] == [f"{n:032x}" for n in (29, 28, 27)]  # the newest before the time asked
    # Areza's 30 identical memories never show for Azera, and a persona never indexed finds nothing.
    assert {h.id for h in store.search("memories", "garden bench", SearchScope("areza"), 50)} == {
        f"{100 + n:032x}" for n in range(30)
    }
    assert not {h.id for h in store.search("memories", "garden bench", SearchScope("azera"), 100)} & {
        f"{100 + n:032x}" for n in range(30)
    }
    assert store.search("memories", "garden", SearchScope("protag"), 5) == []


def test_lexical_a_memory_moved_to_another_persona_is_found_only_there(tmp_path: Path) -> None:
    store = FtsLexicalStore(tmp_path / "lexical.db")
    store.upsert("memories", [_item(1, "Plum jam recipe"), _item(2, "Plum tree pruning")])
    store.upsert("memories", [_item(1, "Plum jam recipe", persona="areza")])
    assert [h.id for h in store.search("memories", "plum", SearchScope("azera"), 5)] == [f"{2:032x}"]
    assert [h.id for h in store.search("memories", "plum", SearchScope("areza"), 5)] == [f"{1:032x}"]
    assert store.count("memories") == 2


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("What is THE name of my cat?", '"name" OR "cat"'),
        ("   ", ""),
        ("🎉🎉", ""),
        ('quote "this" OR that NEAR(x)', '"quote" OR "near"'),
        ("Grüße aus Köln", '"grüße" OR "aus" OR "köln"'),
    ],
)
def test_match_expression_is_safe(query: str, expected: str) -> None:
    assert match_expression(query) == expected


def test_meilisearch_adapter_speaks_the_http_api() -> None:
    from azera.memory.meili import MeiliLexicalStore
    from tests.meili_server import meili_server

    with meili_server(api_key="secret") as (url, state):
        store = MeiliLexicalStore(url, "secret")
        assert set(state.indexes) == {"memories", "chats"}
        assert "persona_id" in state.indexes["memories"]["filterable"]
        assert state.indexes["memories"]["searchable"] == ["text", "context"]
        store.upsert(
            "memories",
            [
                _item(1, "Tomato harvest in the garden", chat="c1"),
                _item(2, "Tomato soup", chat="c2", at=900),
                _item(3, "Tomatoes for Areza", persona='are"za'),
            ],
        )
        assert store.count("memories") == 3
        hits = store.search("memories", "tomato garden", SearchScope("azera"), 10)
        assert [h.id for h in hits] == [f"{1:032x}", f"{2:032x}"] and hits[0].score == 1.0
        scoped = store.search("memories", "tomato", SearchScope("azera", exclude_chat_id="c1", before=1000.0), 10)
        assert [h.id for h in scoped] == [f"{2:032x}"]
        assert (
            'chat_id != "c1"' in state.searches[-1]["filter"] and "created_at < 1000.0" in state.searches[-1]["filter"]
        )
        assert [h.id for h in store.search("memories", "tomatoes", SearchScope('are"za'), 10)] == [f"{3:032x}"]
        store.upsert("memories", [_item(4, "Under three hours thirty.", context="What's your target time?")])
        assert [h.id for h in store.search("memories", "target time", SearchScope("azera"), 10)] == [f"{4:032x}"]
        store.delete("memories", [f"{1:032x}"])
        assert store.count("memories") == 3
        store.clear("memories")
        assert store.count("memories") == 0
        with pytest.raises(RuntimeError, match="403"):
            MeiliLexicalStore(url, "wrong-key")


def test_meilisearch_down_is_an_error_the_service_can_catch() -> None:
    from azera.memory.meili import MeiliLexicalStore

    with pytest.raises(Exception, match="onnect"):
        MeiliLexicalStore("http://127.0.0.1:1")


def test_the_vector_graph_is_built_in_a_child_process_while_searches_answer_busy(tmp_path: Path) -> None:
    import threading
    import time

    from azera.memory.semantic import SemanticBusyError

    store = EdgeSemanticStore(tmp_path / "semantic", dimension=8)
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(400, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    store.upsert([_item(n, f"m{n}") for n in range(400)], vectors)
    before = [h.id for h in store.search(vectors[7], SearchScope("azera"), 5)]
    assert store.optimize() is False  # 400 new vectors: exact search stays cheaper than a graph
    seen_busy: list[str] = []

    def search_while_optimizing() -> None:
        deadline = time.monotonic() + 30
        while not store.optimizing and time.monotonic() < deadline:
            pass
        try:
            store.search(vectors[7], SearchScope("azera"), 5)
        except SemanticBusyError as error:  # at once, not after the child is done
            seen_busy.append(str(error))

    watcher = threading.Thread(target=search_while_optimizing, daemon=True)
    watcher.start()
    assert store.optimize(force=True) is True
    watcher.join(timeout=30)
    assert seen_busy and "word search" in seen_busy[0]
    # The shard is open again in this process, with every vector and the same answers.
    assert store.count() == 400 and [h.id for h in store.search(vectors[7], SearchScope("azera"), 5)] == before
    store.upsert([_item(400, "after")], vectors[:1])
    assert store.count() == 401
    store.close()
