"""Dream and journal archive import: both formats, idempotent, all-or-nothing, clear errors, recalled."""

import json

import pytest
from sqlmodel import select

from azera.db.engine import session_scope
from azera.db.models import Dream, JournalEntry, Memory
from azera.errors import NotFoundError
from azera.mind.archive import MAX_ARCHIVE_BYTES, ArchiveError, import_archive

DREAMS_JSON = json.dumps(
    {
        "dreams": [
            {
                "title": "The glass lighthouse",
                "content": "I climbed a lighthouse made of glass while the sea sang below.",
                "emotion": "calm",
                "themes": ["sea", "light"],
                "created_at": "2025-06-01T03:10:00Z",
            },
            {"content": "A train of paper cranes carried letters to my grandmother.", "date": "2025-06-02"},
        ]
    }
).encode()

JOURNAL_MD = b"""# My journal

## A quiet Sunday
Date: 2025-05-04
Mood: content
Insights: rest matters; the garden needs water

Spent the morning in the garden. Tomatoes are finally red.

## Rainy Monday
Mood: melancholy

Rain all day. I reread old letters and missed my brother.
"""


def test_json_dreams_are_imported_with_their_dates_and_become_memories(prepared) -> None:
    report = import_archive("dream", DREAMS_JSON, filename="dreams.json", persona_id="azera")
    assert (report.imported, report.duplicates) == (2, 0)
    with session_scope() as session:
        dreams = {d.title: d for d in session.exec(select(Dream))}
        glass = dreams["The glass lighthouse"]
        assert glass.emotion == "calm" and glass.themes == ["sea", "light"] and glass.source == "import"
        assert glass.created_at.year == 2025 and glass.created_at.month == 6
        assert len(session.exec(select(Memory).where(Memory.kind == "dream")).all()) == 2


def test_markdown_journal_is_imported(prepared) -> None:
    report = import_archive("journal", JOURNAL_MD, filename="journal.md", persona_id="azera")
    assert report.imported == 2
    with session_scope() as session:
        entries = {e.title: e for e in session.exec(select(JournalEntry))}
    sunday = entries["A quiet Sunday"]
    assert sunday.mood == "content" and sunday.insights == ["rest matters", "the garden needs water"]
    assert sunday.content.startswith("Spent the morning") and sunday.created_at.day == 4
    assert entries["Rainy Monday"].content.startswith("Rain all day")


def test_importing_twice_adds_nothing(prepared) -> None:
    import_archive("dream", DREAMS_JSON, filename="dreams.json", persona_id="azera")
    again = import_archive("dream", DREAMS_JSON, filename="dreams.json", persona_id="azera")
    assert (again.imported, again.duplicates) == (0, 2)
    with session_scope() as session:
        assert len(session.exec(select(Dream)).all()) == 2
        assert len(session.exec(select(Memory)).all()) == 2


def test_the_same_text_for_another_persona_is_not_a_duplicate(prepared) -> None:
    import_archive("dream", DREAMS_JSON, filename="dreams.json", persona_id="azera")
    assert import_archive("dream", DREAMS_JSON, filename="dreams.json", persona_id="areza").imported == 2


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"{not json", "x.json", "not valid JSON"),
        (b'{"something": 1}', "x.json", "a list of items"),
        (json.dumps([{"content": "fine dream text"}, {"title": "no text"}]).encode(), "x.json", "item 2: 'content'"),
        (json.dumps([{"content": "x", "date": "yesterday"}]).encode(), "x.json", "ISO"),
        (json.dumps([{"content": "x", "themes": 5}]).encode(), "x.json", "themes"),
        (b"just some prose without headings", "x.md", "No '## Title' sections"),
        (b"## Empty\nDate: 2025-01-01\n", "x.md", "no text"),
        (b"\x89PNG\r\n\x1a\n\x00\x00binary", "x.json", "binary"),
        ("caf\u00e9".encode("latin-1"), "x.md", "not UTF-8"),
        (b"   ", "x.md", "empty"),
        (b"[]", "x.json", "no items"),
        (b"x" * (MAX_ARCHIVE_BYTES + 1), "x.md", "at most 5 MB"),
    ],
)
def test_malformed_archives_import_nothing_and_say_why(prepared, data: bytes, name: str, message: str) -> None:
    with pytest.raises(ArchiveError, match=message):
        import_archive("dream", data, filename=name, persona_id="azera")
    with session_scope() as session:
        assert session.exec(select(Dream)).all() == [] and session.exec(select(Memory)).all() == []


def test_unknown_or_human_personas_are_refused(prepared) -> None:
    with pytest.raises(NotFoundError, match="nobody"):
        import_archive("dream", DREAMS_JSON, filename="d.json", persona_id="nobody")
    with pytest.raises(NotFoundError, match="protag"):
        import_archive("dream", DREAMS_JSON, filename="d.json", persona_id="protag")  # a user persona


def test_unicode_and_emoji_survive(prepared) -> None:
    data = json.dumps([{"content": "Ich träumte von 🐉 Drachen über Kyōto — 夢の中で"}]).encode()
    import_archive("dream", data, persona_id="azera")
    with session_scope() as session:
        assert "🐉" in session.exec(select(Dream)).one().content


def test_imported_dreams_are_recalled(prepared, monkeypatch: pytest.MonkeyPatch) -> None:
    from azera.config import get_settings
    from azera.runtime import runtime

    monkeypatch.setenv("AZERA_MEMORY_MIN_AGE_SECONDS", "0")
    get_settings.cache_clear()
    import_archive("dream", DREAMS_JSON, filename="dreams.json", persona_id="azera", memory=runtime().memory())
    recalled = runtime().memory().retrieve("a lighthouse made of glass", persona_id="azera", chat_id="c")
    assert recalled and recalled[0].kind == "dream" and "glass" in recalled[0].text
    assert runtime().memory().retrieve("a lighthouse made of glass", persona_id="areza", chat_id="c") == []
