"""Recall's conversation stage (``memory.context``) with the real embedder, vector engine and FTS5."""

from datetime import timedelta

import pytest

from azera.config import get_settings
from azera.db.engine import session_scope
from azera.db.models import utcnow
from azera.memory.dates import asks_when, says_when
from azera.memory.embedder import OnnxMiniLM
from azera.memory.lexical import FtsLexicalStore
from azera.memory.semantic import EdgeSemanticStore
from azera.memory.service import MemoryService
from azera.memory.working import LocalTTLStore
from azera.services.chats import create_chat
from azera.services.messages import add_user_message, save_reply, start_reply
from tests.postgres import find_bin_dir, running_postgres
from tests.test_memory_service import remember

HOUR = timedelta(hours=1)


@pytest.fixture(scope="module")
def minilm() -> OnnxMiniLM:
    return OnnxMiniLM()


@pytest.fixture
def service(prepared, minilm: OnnxMiniLM) -> MemoryService:
    data = get_settings().data_dir
    return MemoryService(
        embedder=minilm,
        semantic=EdgeSemanticStore(data / "semantic", minilm.dimension),
        lexical=FtsLexicalStore(data / "lexical.db"),
        working=LocalTTLStore(),
    )


def exchange(
    service: MemoryService, question: str, answer: str, *, answer_persona: str = "azera", answer_age: timedelta = HOUR
) -> tuple[str, str, str]:
    """A user's question and the AI's answer in a new chat of Azera's, saved as memories: (chat, question, answer)."""
    with session_scope() as session:
        chat = create_chat(session, ai_persona_id="azera", title="old chat")
        asked = add_user_message(session, chat.id, question)
        reply = start_reply(session, chat.id, asked.id, "m")
        save_reply(session, reply.id, content=answer, thinking="", status="complete")
        ids = [
            MemoryService.record(
                session,
                text=text,
                persona_id=owner,
                chat_id=chat.id,
                message_id=message_id,
                kind="conversation",
                created_at=utcnow() - age,
            ).id
            for text, owner, message_id, age in (
                (question, "azera", asked.id, HOUR),
                (answer, answer_persona, reply.id, answer_age),
            )
        ]
    assert service.index(ids) == 2
    return chat.id, *ids


def rank(recalled, memory_id: str) -> int:
    """1-based rank of a memory in a recall, 99 when absent."""
    return next((n for n, memory in enumerate(recalled, start=1) if memory.id == memory_id), 99)


def test_an_answer_is_recalled_with_the_question_it_answers(service: MemoryService) -> None:
    """The fact is in the answer, the words the user asks with are in the question before it."""
    for text in (
        "My neighbour's puppy barks at the mailman every morning.",
        "We saw a puppy show on TV, the poodles were adorable.",
        "A puppy at the shelter had a funny crooked ear.",
        "The park by the river is full of dogs on Sundays.",
        "Adjusting the bike seat took me ages.",
        "Her new home has a garden with apple trees.",
    ):
        remember(service, text, age_s=7200)
    _, _, answer = exchange(
        service, "How is the new puppy settling in?", "The little one is doing great, learning commands and sleeping."
    )
    query = "How is Maria's puppy adjusting to its new home?"
    plain = service.retrieve(query, persona_id="azera", chat_id="new", limit=8, context=False)
    staged = service.retrieve(query, persona_id="azera", chat_id="new", limit=8)
    assert rank(staged, answer) <= 3, [m.text for m in staged]
    why = next(m.context for m in staged if m.id == answer)
    assert why["answer"] > 0 and "chat" in why, why  # the page says it was recalled as an answer
    assert rank(staged, answer) < rank(plain, answer), ([m.text for m in plain], [m.text for m in staged])


def test_a_when_question_prefers_the_memory_that_says_when(service: MemoryService) -> None:
    assert asks_when("When did Caroline go to the support group?") and asks_when("What year did we move?")
    assert not asks_when("What did Caroline research?") and not asks_when("Where is the wedding?")
    assert says_when("I went there last Friday") and says_when("Back in 2019, we moved") and says_when("yesterday!")
    assert not says_when("I went to the pottery workshop with my kids")
    undated = remember(service, "I finally got to go to the pottery workshop, the kids made bowls.").id
    dated = remember(service, "We were at the pottery workshop last Saturday, the kids made bowls.").id
    recalled = service.retrieve("When did I go to the pottery workshop?", persona_id="azera", chat_id="new")
    assert rank(recalled, dated) < rank(recalled, undated), [m.text for m in recalled]
    # The same words without "when": the better match by words and meaning comes first again.
    recalled = service.retrieve("Did I go to the pottery workshop?", persona_id="azera", chat_id="new")
    assert rank(recalled, undated) < rank(recalled, dated), [m.text for m in recalled]


@pytest.mark.parametrize("case", ["another persona's", "too fresh", "in the current chat"])
def test_a_reply_outside_the_scope_never_joins(service: MemoryService, case: str) -> None:
    """Replies are read by a join on messages: the scope (persona, age, chat) is checked there too."""
    chat_id, question, answer = exchange(
        service,
        "Did you find a name for the boat?",
        "We settled on Albatross, painted in blue letters.",
        answer_persona="areza" if case == "another persona's" else "azera",
        answer_age=timedelta(seconds=5) if case == "too fresh" else HOUR,
    )
    current = chat_id if case == "in the current chat" else "new"
    recalled = service.retrieve("What is the boat called?", persona_id="azera", chat_id=current)
    assert answer not in [m.id for m in recalled]
    if case != "in the current chat":
        assert rank(recalled, question) <= 2  # the question itself is still recalled


@pytest.mark.skipif(find_bin_dir() is None, reason="PostgreSQL is not installed (apt-get install postgresql)")
def test_the_conversation_stage_on_postgresql(monkeypatch: pytest.MonkeyPatch, minilm: OnnxMiniLM) -> None:
    """The stage's look-ups (replies by parent message, scope checks on their rows) on the real server."""
    from azera.db import engine as db_engine
    from azera.services.startup import prepare

    with running_postgres() as url:
        monkeypatch.setenv("AZERA_DATABASE_URL", url)
        get_settings.cache_clear()
        prepare()
        data = get_settings().data_dir
        service = MemoryService(
            embedder=minilm,
            semantic=EdgeSemanticStore(data / "semantic-pg", minilm.dimension),
            lexical=FtsLexicalStore(data / "lexical-pg.db"),
            working=LocalTTLStore(),
        )
        for text in ("A puppy at the shelter had a funny crooked ear.", "We saw a puppy show on TV."):
            remember(service, text, age_s=7200)
        _, _, answer = exchange(service, "How is the new puppy settling in?", "The little one is doing great.")
        _, _, fresh = exchange(
            service, "Is the puppy sleeping well?", "Yes, all night long now.", answer_age=timedelta(seconds=5)
        )
        recalled = service.retrieve("How is the puppy adjusting?", persona_id="azera", chat_id="new")
        assert next(m.context for m in recalled if m.id == answer)["answer"] > 0, [m.text for m in recalled]
        assert fresh not in [m.id for m in recalled]
        db_engine.get_engine().dispose()
