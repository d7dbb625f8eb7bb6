"""After a crash: waiting memories are indexed without a command, cut replies are marked, stale uploads go."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlmodel import select

from azera.db.engine import session_scope
from azera.db.models import ChatMessage, Memory, utcnow
from azera.memory.pending import PendingIndexer
from azera.memory.service import MemoryService
from azera.runtime import runtime
from azera.services import chats, messages
from azera.services.startup import recover_after_crash


def _unindexed(text: str, age_seconds: float) -> str:
    with session_scope() as session:
        memory = MemoryService.record(session, text=text, persona_id="azera", kind="fact")
        memory.created_at = utcnow() - timedelta(seconds=age_seconds)
        session.add(memory)
        return memory.id


async def test_waiting_memories_are_indexed_by_the_tick_loop_stage(prepared, monkeypatch) -> None:
    monkeypatch.setenv("AZERA_MEMORY_MIN_AGE_SECONDS", "0")
    from azera.config import get_settings

    get_settings.cache_clear()
    runtime().indexer.started = time.time() - 300  # the app started five minutes ago
    stranded = _unindexed("The spare key is under the blue flowerpot.", age_seconds=600)  # before the crash
    fresh = _unindexed("Just said this a second ago.", age_seconds=0)  # its reply pipeline indexes it
    since_start = _unindexed("Said a minute ago, and its indexing failed.", age_seconds=60)
    service = runtime().memory()
    assert service.retrieve("where is the spare key", persona_id="azera") == []  # never indexed: never recalled
    indexer = runtime().indexer
    assert indexer in runtime().stages()
    await indexer.stage(time.time())
    await indexer.wait()
    with session_scope() as session:
        assert session.get(Memory, stranded).indexed_at is not None
        assert session.get(Memory, since_start).indexed_at is not None
        assert session.get(Memory, fresh).indexed_at is None
    assert [m.id for m in service.retrieve("where is the spare key", persona_id="azera")] == [stranded]


async def test_after_a_restart_memories_made_just_before_it_are_indexed_at_once(prepared) -> None:
    # A kill seconds after an import: its memories are fresh, but no reply pipeline of this run will index them.
    cut_off = _unindexed("Imported three seconds before the crash.", age_seconds=3)
    indexer = runtime().indexer
    indexer.started = time.time()  # the app (re)started now
    await indexer.stage(time.time())
    await indexer.wait()
    with session_scope() as session:
        assert session.get(Memory, cut_off).indexed_at is not None


async def test_indexing_failures_back_off_and_say_why(prepared) -> None:
    class Broken:
        last_index_error = ""

        def index_pending(self, batch: int, older_than: float, since: float = 0.0) -> int:
            self.last_index_error = "RuntimeError: the vector store is locked"
            return 0

    indexer = PendingIndexer(lambda: Broken())
    await indexer.stage(1000.0)
    await indexer.wait()
    assert indexer.problem == "RuntimeError: the vector store is locked"
    await indexer.stage(1010.0)  # within the back-off: nothing starts
    assert indexer._task.done()
    await indexer.stage(1031.0)
    await indexer.wait()
    assert indexer._next == pytest.approx(1031.0 + 60)  # 30 s, then 60 s, … up to 30 minutes


def test_a_reply_cut_by_a_crash_is_marked_interrupted_at_start(prepared) -> None:
    with session_scope() as session:
        chat = chats.create_chat(session, ai_persona_id="azera")
        user = messages.add_user_message(session, chat.id, "Tell me a long story.")
        reply = messages.start_reply(session, chat.id, user.id, "smollm2")
        messages.save_reply(session, reply.id, content="Once upon a", thinking="", status="streaming")
        reply_id = reply.id
    assert recover_after_crash()[0] == 1
    with session_scope() as session:
        cut = session.get(ChatMessage, reply_id)
        assert (cut.status, cut.content) == ("interrupted", "Once upon a")  # the text so far is kept
        assert session.exec(select(ChatMessage).where(ChatMessage.status == "streaming")).all() == []


def test_upload_staging_left_by_the_last_run_is_removed_at_start(prepared, data_dir) -> None:
    # Which files a browser staged lived in the last process's memory: at the app's start all of it is orphaned.
    for name in ("old", "cut-by-a-kill"):
        (data_dir / "uploads" / name).mkdir(parents=True)
        (data_dir / "uploads" / name / "notes.txt").write_text("half an upload")
    assert recover_after_crash()[1] == 2
    assert list((data_dir / "uploads").iterdir()) == []


async def test_a_document_cut_by_a_crash_shows_its_progress_and_finishes_by_itself(prepared, monkeypatch) -> None:
    from azera.memory import documents, pending

    monkeypatch.setattr(pending, "GRACE_SECONDS", 0.0)
    service = runtime().memory()
    # What a kill -9 during an upload leaves: every chunk saved (one transaction), the first batch indexed.
    with session_scope() as session:
        ids = [
            MemoryService.record(
                session,
                text=f"Chapter {n}: the lighthouse keeper logs ship number {n}.",
                persona_id="areza",
                kind="document",
                source="logbook.txt",
                created_at=utcnow() - timedelta(minutes=5),
            ).id
            for n in range(40)
        ]
    assert service.index(ids[:8]) == 8
    with session_scope() as session:
        [cut] = documents.list_documents(session, "areza")
    assert (cut.name, cut.chunks, cut.indexed) == ("logbook.txt", 40, 8)

    indexer = runtime().indexer
    await indexer.stage(time.time())
    await indexer.wait()
    with session_scope() as session:
        [whole] = documents.list_documents(session, "areza")
    assert (whole.chunks, whole.indexed) == (40, 40)
    found = service.retrieve("ship number 33", persona_id="areza")
    assert found and found[0].text.startswith("Chapter 33:")
