"""Memories, Dreams and Settings (API tokens) page states, called as the framework calls them.

Each handler refuses what the page never offered (an id it did not show, a value of the wrong type)
with a toast, and changes nothing.
"""

from azera.db.engine import session_scope
from azera.db.models import Memory
from azera.memory.service import MemoryService
from azera.services import auth
from azera.state.dreams import DreamsState
from azera.state.memories import MemoriesState
from azera.state.tokens import TokensState


def _memory(text: str) -> str:
    with session_scope() as session:
        return MemoryService.record(session, text=text, persona_id="azera", kind="fact").id


async def test_memories_page_acts_only_on_what_it_shows(prepared) -> None:
    shown = _memory("My sister Ingrid lives in Trondheim.")
    state = MemoriesState()
    await state.load()
    assert [row["id"] for row in state.rows] == [shown]
    hidden = _memory("Added after the page was loaded.")
    assert "not one of the choices shown" in str(await state.delete(hidden))
    assert "not one of the choices shown" in str(await state.move(shown, "the bin"))
    await state.move(shown, "archive")
    with session_scope() as session:
        assert session.get(Memory, shown).tier == "archive"
        assert session.get(Memory, hidden) is not None
    assert "must be text" in str(await state.set_query(12345))
    assert "The date is longer than 10" in str(await state.set_since("0001-01-01T00:00:00+14:00"))
    assert "written YYYY-MM-DD" in str(await state.set_until("24/11/2026"))
    assert state.since == ""


async def test_dreams_page_refuses_what_it_did_not_offer(prepared) -> None:
    state = DreamsState()
    await state.load()
    assert "not one of the choices shown" in str(state.set_persona("protag"))
    assert state.persona == "azera"
    assert "must be text" in str(await state.set_query(["lighthouse"]))


async def test_api_tokens_are_made_shown_once_and_revoked(prepared) -> None:
    state = TokensState()
    await state.load()
    assert "Give the token a name" in str(await state.create())
    state.set_new_name("phone app")
    await state.create()
    secret = state.created_secret
    assert secret.startswith("azera_") and [row["name"] for row in state.tokens] == ["phone app"]
    with session_scope() as session:
        assert auth.api_token_valid(session, secret)
    assert "not one of the choices shown" in str(await state.revoke("someone-elses"))
    await state.revoke(state.tokens[0]["id"])
    assert state.tokens == []
    with session_scope() as session:
        assert not auth.api_token_valid(session, secret)
    await state.load()
    assert state.created_secret == ""


async def test_rebuild_indexes_shows_progress_until_the_tick_loop_is_done(prepared, monkeypatch) -> None:
    import time

    from azera.config import get_settings
    from azera.memory import pending
    from azera.runtime import runtime

    monkeypatch.setattr(pending, "GRACE_SECONDS", 0.0)
    monkeypatch.setenv("AZERA_MEMORY_MIN_AGE_SECONDS", "0")
    get_settings.cache_clear()
    ids = [_memory(f"Note {n} about the orchard.") for n in range(5)]
    service = runtime().memory()
    assert service.index(ids) == 5
    assert len(service.retrieve("orchard", persona_id="azera")) == 5
    state = MemoriesState()
    await state.load()
    assert (state.waiting, state.total, state.index_percent) == (0, 5, 100)
    outputs = [event async for event in MemoriesState.rebuild_indexes.fn(state)]  # a background handler's body
    assert any("Re-indexing 5 memories" in str(event) for event in outputs)
    assert (state.waiting, state.index_summary, state.index_percent) == (5, "5 of 5", 0)
    assert service.retrieve("orchard", persona_id="azera") == []  # the indexes are empty meanwhile
    indexer = runtime().indexer
    await indexer.stage(time.time())  # woken by the rebuild: it runs at the next tick
    await indexer.wait()
    await state.poll_index()
    assert (state.waiting, state.index_percent) == (0, 100)
    assert len(service.retrieve("orchard", persona_id="azera")) == 5


async def test_single_file_uploads_refuse_nothing_and_oversized_files(prepared) -> None:
    """An empty upload list is an error message, not a crash; a huge file is not read into memory whole."""
    import io
    from pathlib import Path

    import reflex as rx

    from azera.images import store
    from azera.state.canvas import CanvasState
    from azera.state.voice import VoiceState

    state = CanvasState()
    assert "Choose a picture" in str(await state.upload_reference([]))
    assert "Choose a recording" in str(await VoiceState().upload_sample([]))

    class Huge(rx.UploadFile):
        asked: list[int] = []

        async def read(self, size: int = -1) -> bytes:
            self.asked.append(size)
            return b"x" * (store.MAX_REFERENCE_BYTES + 1 if size < 0 else size)

    huge = Huge(file=io.BytesIO(b""), path=Path("big.png"))
    assert "at most 20 MB" in str(await state.upload_reference([huge]))
    assert huge.asked and all(0 < size <= store.MAX_REFERENCE_BYTES + 1 for size in huge.asked)
    assert "at most 10 MB" in str(await VoiceState().upload_sample([huge]))
    assert all(size > 0 for size in huge.asked)
    assert state.reference == ""
