"""Journal: daily reflection exactly once a day, what an entry is made of, journal mode, recall."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from azera.conversation.replies import generate_reply
from azera.db import engine as db_engine
from azera.db.engine import session_scope
from azera.db.models import ChatMessage, JournalDraft, JournalEntry, Memory, utcnow
from azera.errors import ServiceError
from azera.mind import journal, journal_mode
from azera.mind import loop as mind_loop
from azera.mind.journal import last_daily_time, parse_insights, should_reflect, write_reflection
from azera.mind.loop import JournalKeeper, Stage
from azera.mind.service import MindService
from azera.mind.writing import Written
from azera.runtime import runtime, set_runtime
from azera.services.chats import create_chat, get_chat
from azera.services.messages import add_user_message
from tests.real_model import write_with_real_model
from tests.scripted import ScriptedBackend

ENTRY = (
    "Today Mira told me about her grandmother's sailing boat, Marigold, and the crack she fixed near the keel. "
    "I felt warm listening to her. I learned that repairing old things is a way of remembering people."
)
INSIGHTS = "- Repairing things can be an act of love\n- Mira is nervous about sailing alone\n- Marigold matters to her"


def _answers(prompt: str) -> str:
    if prompt.startswith("List three short insights"):
        return INSIGHTS.removeprefix("- ")
    if prompt.startswith("Which one word"):
        return "Thoughtful."
    if prompt.startswith("Give this journal entry a short title"):
        return 'Title: "Marigold and the Keel"'
    if " asleep. " in prompt:  # a dream: its own words (one that copies its memories is refused)
        return "I dreamt the harbour folded into a paper boat and sailed off with the lighthouse aboard."
    return ENTRY


def _talk(persona: str, text: str, hours_ago: float = 1) -> str:
    with session_scope() as session:
        chat = create_chat(session, ai_persona_id=persona, title="talk")
        message = add_user_message(session, chat.id, text)
        message.created_at = utcnow() - timedelta(hours=hours_ago)
        session.add(message)
        return chat.id


def _daily_at_21(_state: object, now: float, last: float) -> bool:
    return should_reflect(now, 21, last)


def test_the_daily_reflection_is_due_once_a_day_after_its_hour() -> None:
    evening = datetime(2026, 3, 14, 21, 30).astimezone().timestamp()
    morning = datetime(2026, 3, 14, 9, 0).astimezone().timestamp()
    assert should_reflect(evening, 21, last_daily=0)
    assert not should_reflect(morning, 21, last_daily=0)  # before the hour
    assert not should_reflect(evening + 60, 21, last_daily=evening)  # already written today
    assert should_reflect(evening + 24 * 3600, 21, last_daily=evening)  # the next evening


async def test_the_loop_writes_exactly_one_daily_reflection_per_day(prepared) -> None:
    start = datetime(2026, 3, 14, 8, 0).astimezone().timestamp()
    clock = [start]
    service = MindService(clock=lambda: clock[0])
    service.get("azera")
    written: list[float] = []

    async def write(persona_id: str, now: float) -> Written:
        written.append(now)
        return Written(id=f"entry-{len(written)}")

    stage = Stage("reflection", service, due=_daily_at_21, write=write, last_time=last_daily_time)

    async def minute(_seconds: float) -> None:
        await stage.wait()
        clock[0] += 60

    await mind_loop.tick_loop(service, clock=lambda: clock[0], sleep=minute, ticks=3 * 24 * 60, stages=[stage])
    days = [datetime.fromtimestamp(moment).astimezone() for moment in written]
    assert [(d.day, d.hour, d.minute) for d in days] == [(14, 21, 0), (15, 21, 0), (16, 21, 0)]


def test_clock_jumps_never_write_a_second_reflection_for_the_same_day() -> None:
    written = datetime(2026, 3, 14, 21, 5).astimezone().timestamp()
    assert not should_reflect(written - 3600, 21, last_daily=written)  # the clock went back an hour
    assert not should_reflect(written - 23 * 3600, 21, last_daily=written)  # back to the previous evening
    three_days_later = written + 3 * 24 * 3600
    assert should_reflect(three_days_later, 21, last_daily=written)  # one entry after a jump, not three


async def test_a_failed_daily_reflection_is_retried_later_the_same_day(prepared) -> None:
    start = datetime(2026, 3, 14, 21, 0).astimezone().timestamp()
    service = MindService(clock=lambda: start)
    service.get("azera")
    results = [Written(reason="the model wrote nothing usable"), Written(id="ok")]
    calls: list[float] = []

    async def write(persona_id: str, now: float) -> Written:
        calls.append(now)
        return results.pop(0)

    stage = Stage("reflection", service, due=_daily_at_21, write=write, last_time=last_daily_time)
    for offset in (0, 60, 601, 700):
        await stage.stage(start + offset)
        await stage.wait()
    assert calls == [start, start + 601]  # retried after ten minutes, then done for the day


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (INSIGHTS, ["Repairing things can be an act of love", "Mira is nervous about sailing alone"]),
        ("1. First real insight here\n2) Second real insight here", ["First real insight here"]),
        ("* **Bold insight about the sea**", ["Bold insight about the sea"]),
        ("no bullets at all, just prose", []),
        ("- ok\n- ???\n- ", []),
    ],
)
def test_insights_are_read_from_messy_answers(answer: str, expected: list[str]) -> None:
    found = parse_insights(answer)
    assert found[: len(expected)] == expected
    assert len(found) <= journal.MAX_INSIGHTS


async def test_a_reflection_reads_only_the_personas_own_day_and_keeps_mood_and_insights(prepared) -> None:
    _talk("azera", "My grandmother's boat is called Marigold.")
    _talk("areza", "The dragon's password is bluebird.")
    _talk("azera", "An old story from last month about trains.", hours_ago=30)
    backend = ScriptedBackend(_answers)
    result = await write_reflection(persona_id="azera", persona_name="Azera", backend=backend, model="m", memory=None)
    assert result.id, result
    prompt = backend.prompts[0]
    assert "Marigold" in prompt and "bluebird" not in prompt and "trains" not in prompt
    with session_scope() as session:
        entry = session.get(JournalEntry, result.id)
        assert entry.content == ENTRY and entry.mood == "thoughtful" and entry.source == "manual"
        assert entry.insights[0] == "Repairing things can be an act of love" and len(entry.insights) == 3
        memory = session.exec(select(Memory).where(Memory.kind == "journal")).one()
        assert memory.persona_id == "azera" and "Insights:" in memory.text


@pytest.mark.parametrize(("answer", "fail"), [("", False), ("?!? ... ###", False), (ENTRY, True)])
async def test_empty_garbled_or_failed_reflections_are_not_saved(prepared, answer: str, fail: bool) -> None:
    _talk("azera", "Something happened today.")
    result = await write_reflection(
        persona_id="azera", persona_name="Azera", backend=ScriptedBackend(answer, fail), model="m", memory=None
    )
    assert not result.id and result.reason
    with session_scope() as session:
        assert session.exec(select(JournalEntry)).all() == []


async def test_nothing_to_reflect_on_writes_nothing(prepared) -> None:
    result = await write_reflection(
        persona_id="azera", persona_name="Azera", backend=ScriptedBackend(ENTRY), model="m", memory=None
    )
    assert result.reason.startswith("nothing to reflect on")


async def test_insights_fall_back_to_the_entry_when_the_model_lists_none(prepared) -> None:
    _talk("azera", "We talked about the sea.")
    backend = ScriptedBackend(lambda p: "... ???" if p.startswith("List") else ENTRY)
    result = await write_reflection(persona_id="azera", persona_name="Azera", backend=backend, model="m", memory=None)
    with session_scope() as session:
        insights = session.get(JournalEntry, result.id).insights
    assert insights and all(sentence in ENTRY for sentence in insights)


# --- journal mode ---------------------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _journal_chat() -> str:
    with session_scope() as session:
        chat = create_chat(session, ai_persona_id="azera", title="diary")
        journal_mode.start_journal(session, chat.id)
        return chat.id


async def test_journal_mode_keeps_drafts_silently_and_done_compiles_a_titled_article(prepared) -> None:
    chat_id = _journal_chat()
    with session_scope() as session:
        journal_mode.add_draft(session, chat_id, "Sanded the hull of Marigold this morning.")
        journal_mode.add_draft(session, chat_id, "Filled the crack near the keel with epoxy.")
        journal_mode.add_image_draft(session, chat_id, PNG, caption="keel.png")
    with pytest.raises(ServiceError, match="journal mode"):
        [e async for e in generate_reply(chat_id, text="Are you there?", backend=ScriptedBackend("hi"))]
    with session_scope() as session:
        assert session.exec(select(ChatMessage).where(ChatMessage.chat_id == chat_id)).all() == []  # no replies
    backend = ScriptedBackend(_answers)
    result = await journal_mode.compile_journal(chat_id, backend=backend, model="m", memory=None)
    assert result.id
    with session_scope() as session:
        entry = session.get(JournalEntry, result.id)
        assert entry.title == "Marigold and the Keel" and entry.kind == "article"
        assert "Sanded the hull of Marigold" in entry.content and "Filled the crack" in entry.content
        assert "![keel.png](/api/media/journal/" in entry.content
        assert journal_mode.list_drafts(session, chat_id) == []
        chat = get_chat(session, chat_id)
        assert not chat.journal_mode and chat.journal_started_at is None
        assert session.exec(select(Memory).where(Memory.kind == "journal")).one().persona_id == "azera"


@pytest.mark.parametrize(
    ("answer", "title"),
    [
        ('Title: "Marigold and the Keel"', "Marigold and the Keel"),
        ("**20:21** Sanded the hull\nmore text", "Sanded the hull"),
        ("## A Day at Sea", "A Day at Sea"),
        ("???", ""),
        ("", ""),
    ],
)
def test_model_titles_are_cleaned(answer: str, title: str) -> None:
    assert journal_mode.clean_title(answer) == title


async def test_a_failing_model_still_compiles_the_users_words(prepared) -> None:
    chat_id = _journal_chat()
    with session_scope() as session:
        journal_mode.add_draft(session, chat_id, "Rain all day, read by the window.")
    result = await journal_mode.compile_journal(chat_id, backend=ScriptedBackend(fail=True), model="m", memory=None)
    with session_scope() as session:
        entry = session.get(JournalEntry, result.id)
    assert entry.title == "Rain all day, read by the window." and "read by the window" in entry.content


def test_cancel_discards_drafts_and_their_images(prepared) -> None:
    chat_id = _journal_chat()
    with session_scope() as session:
        journal_mode.add_draft(session, chat_id, "Never mind this.")
        image = journal_mode.add_image_draft(session, chat_id, PNG)
        path = journal_mode.media_dir() / image.media_path
    assert path.exists()
    with session_scope() as session:
        assert journal_mode.cancel_journal(session, chat_id) == 2
    assert not path.exists()
    with session_scope() as session:
        assert session.exec(select(JournalDraft)).all() == [] and session.exec(select(JournalEntry)).all() == []
        with pytest.raises(ServiceError, match="not in journal mode"):
            journal_mode.add_draft(session, chat_id, "too late")


def test_drafts_survive_a_restart(prepared) -> None:
    chat_id = _journal_chat()
    with session_scope() as session:
        journal_mode.add_draft(session, chat_id, "Written before the restart.")
    db_engine.dispose_engines()  # a new engine, as after restarting the app
    set_runtime(None)
    with session_scope() as session:
        assert [d.content for d in journal_mode.list_drafts(session, chat_id)] == ["Written before the restart."]
        assert get_chat(session, chat_id).journal_mode


@pytest.mark.parametrize(
    ("text", "data", "message"),
    [
        ("   ", None, "empty"),
        ("x" * (journal_mode.MAX_DRAFT_CHARS + 1), None, "at most"),
        ("", b"%PDF-1.4 not an image", "not a PNG"),
        ("", b"\x89PNG\r\n\x1a\n" + b"\x00" * journal_mode.MAX_IMAGE_BYTES, "at most"),
    ],
)
def test_bad_drafts_are_refused_clearly(prepared, text: str, data: bytes | None, message: str) -> None:
    chat_id = _journal_chat()
    with session_scope() as session, pytest.raises(ServiceError, match=message):
        if data is None:
            journal_mode.add_draft(session, chat_id, text)
        else:
            journal_mode.add_image_draft(session, chat_id, data)
    assert not [path for path in journal_mode.media_dir().rglob("*") if path.is_file()]


async def test_a_session_left_open_is_compiled_after_24_hours(prepared) -> None:
    chat_id = _journal_chat()
    with session_scope() as session:
        journal_mode.add_draft(session, chat_id, "Started a diary and forgot about it.")
    compiled: list[str] = []

    async def compile_chat(chat: str, now: float) -> Written:
        compiled.append(chat)
        return await journal_mode.compile_journal(chat, backend=ScriptedBackend(_answers), model="m", memory=None)

    keeper = JournalKeeper(compile_chat)
    now = datetime.now(UTC).timestamp()
    await keeper.stage(now + 23 * 3600)
    await keeper.wait()
    assert compiled == []
    await keeper.stage(now + 24 * 3600 + 5)
    await keeper.wait()
    assert compiled == [chat_id] and keeper.compiled == 1
    with session_scope() as session:
        assert session.exec(select(JournalEntry)).one().kind == "article"


async def test_two_compiles_at_once_write_one_article(prepared) -> None:
    chat_id = _journal_chat()
    with session_scope() as session:
        journal_mode.add_draft(session, chat_id, "Only once, please.")
    backend = ScriptedBackend(_answers)
    results = await asyncio.gather(
        journal_mode.compile_journal(chat_id, backend=backend, model="m", memory=None),
        journal_mode.compile_journal(chat_id, backend=backend, model="m", memory=None),
    )
    assert sum(bool(r.id) for r in results) == 1
    with session_scope() as session:
        assert len(session.exec(select(JournalEntry)).all()) == 1


async def test_a_real_reflection_is_written_and_recalled_later(prepared, monkeypatch: pytest.MonkeyPatch) -> None:
    _talk("azera", "Today I repaired my grandmother's sailing boat, the Marigold, and fixed a crack near the keel.")
    result, memory = await write_with_real_model(write_reflection, monkeypatch)
    assert result.id, result
    with session_scope() as session:
        entry = session.get(JournalEntry, result.id)
        assert entry.mood and entry.insights
        content = entry.content
    recalled = memory.retrieve(content[:120], persona_id="azera", chat_id="later-chat")
    assert any(memory.kind == "journal" for memory in recalled)


async def test_the_simulator_fast_forwards_idle_hours(prepared, monkeypatch: pytest.MonkeyPatch) -> None:
    from azera.bench.simulate import default_start, simulate

    def answers(prompt: str) -> str:
        return "Thoughtful" if prompt.startswith("Which one word") else _answers(prompt)

    backend = ScriptedBackend(answers)
    runtime().backend = backend
    result = await simulate("azera", minutes=300, exchanges=3, start=default_start(21))
    energies = [row["energy"] for row in result["trajectory"]]
    assert energies[1] == pytest.approx(0.7 - 3 * 0.03)  # after the opening exchanges
    assert energies[-1] == 1.0 and result["trajectory"][-1]["focus"] == pytest.approx(0.3)  # rested, unfocused
    kinds = [(event["minute"], event["kind"]) for event in result["events"]]
    assert (180, "journal (daily)") in kinds  # 21:00, three hours in
    assert result["dreams"] >= 2 and result["journal_entries"] == 1
    assert min(minute for minute, kind in kinds if kind == "dream") >= 120  # only after two idle hours


async def test_a_persona_with_memory_off_keeps_no_journal(prepared) -> None:
    from azera.db.models import Persona

    with session_scope() as session:
        persona = session.get(Persona, "azera")
        persona.memory_enabled = False
        session.add(persona)
    _talk("azera", "Something worth reflecting on.")
    result = await runtime().reflect_now("azera")
    assert not result.id and "memory switched off" in result.reason
