"""Import dream and journal archives (JSON or markdown); idempotent, all-or-nothing.

JSON: a list of objects, or an object holding the list under ``dreams``, ``entries`` or ``journal``.
Each object needs ``content`` (or ``text``/``body``); optional ``title``, ``created_at`` (or ``date``,
ISO-8601), ``emotion``/``mood``, ``themes``/``insights`` (a list or a comma-separated string) and
``persona`` (an AI persona id; defaults to the persona the import is for).

Markdown: each item starts with a ``## Title`` heading, optionally followed by ``Date:``,
``Emotion:``/``Mood:``, ``Themes:``/``Insights:`` and ``Persona:`` lines; the rest is the content.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

from sqlmodel import Session, col, select

from azera.db.engine import retry_locked, session_scope
from azera.db.models import Dream, JournalEntry, Persona
from azera.errors import NotFoundError, ServiceError
from azera.memory.service import MAX_MEMORY_CHARS, MemoryService
from azera.mind.dreams import save_dream
from azera.mind.journal import save_entry
from azera.mind.writing import digest, themes_of

Kind = Literal["dream", "journal"]
MAX_ARCHIVE_BYTES = 5_000_000
MAX_ITEMS = 5000
IMPORT_BATCH = 500
MAX_PROBLEMS_SHOWN = 5
LIST_KEYS = ("dreams", "entries", "journal", "items")
META = re.compile(r"^(date|emotion|mood|themes|insights|persona)\s*:\s*(.*)$", re.IGNORECASE)


class ArchiveError(ServiceError):
    """The archive cannot be imported; nothing was."""


@dataclasses.dataclass
class ArchiveItem:
    """One dream or journal entry read from an archive."""

    content: str
    title: str = ""
    created_at: datetime | None = None
    feeling: str = ""  # a dream's emotion, an entry's mood
    tags: list[str] = dataclasses.field(default_factory=list)  # a dream's themes, an entry's insights
    persona: str = ""


@dataclasses.dataclass
class ImportReport:
    """What an import did."""

    imported: int
    duplicates: int
    ids: list[str]


def _date(value: Any) -> datetime:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("the date must be an ISO-8601 text such as 2025-03-14 or 2025-03-14T22:10:00")
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"'{value[:40]}' is not an ISO-8601 date such as 2025-03-14") from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"the date '{value[:40]}' is out of range") from None


def _tags(value: Any) -> list[str]:
    if isinstance(value, str):
        value = re.split(r"[;,]", value)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("themes/insights must be a list of texts or one comma-separated text")
    return [v.strip()[:200] for v in value if v.strip()][:20]


def _item_from_json(raw: Any) -> ArchiveItem:
    if not isinstance(raw, dict):
        raise ValueError("each item must be an object")
    content = next((raw[k] for k in ("content", "text", "body") if k in raw), None)
    if not isinstance(content, str) or not content.strip():
        raise ValueError("'content' is missing or empty")
    item = ArchiveItem(content=content.strip(), title=str(raw.get("title") or "").strip())
    when = next((raw[k] for k in ("created_at", "date", "timestamp") if raw.get(k)), None)
    item.created_at = _date(when) if when is not None else None
    item.feeling = str(raw.get("emotion") or raw.get("mood") or "").strip()
    tags = next((raw[k] for k in ("themes", "insights", "tags") if raw.get(k)), None)
    item.tags = _tags(tags) if tags is not None else []
    item.persona = str(raw.get("persona") or "").strip()
    return item


def _items_from_markdown(text: str) -> list[tuple[int, Any]]:
    """(line number, parsed item or the error) for each ``## `` section."""
    sections: list[tuple[int, list[str]]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("## "):
            sections.append((number, [line]))
        elif sections:
            sections[-1][1].append(line)
    results: list[tuple[int, Any]] = []
    for number, lines in sections:
        item = ArchiveItem(content="", title=lines[0][3:].strip())
        body = lines[1:]
        try:
            while body and (not body[0].strip() or META.match(body[0].strip())):
                match = META.match(body.pop(0).strip())
                if match is None:
                    continue
                key, value = match.group(1).lower(), match.group(2).strip()
                if key == "date":
                    item.created_at = _date(value)
                elif key in ("emotion", "mood"):
                    item.feeling = value
                elif key in ("themes", "insights"):
                    item.tags = _tags(value)
                else:
                    item.persona = value
            item.content = "\n".join(body).strip()
            if not item.content:
                raise ValueError("the section has no text")
            results.append((number, item))
        except ValueError as error:
            results.append((number, error))
    return results


def parse_archive(data: bytes, filename: str = "") -> list[ArchiveItem]:
    """Read every item of an archive, or raise ArchiveError naming the problems (nothing half-read)."""
    if len(data) > MAX_ARCHIVE_BYTES:
        raise ArchiveError(f"An archive is at most {MAX_ARCHIVE_BYTES // 1_000_000} MB")
    if b"\x00" in data[:8192]:
        raise ArchiveError("That file is binary, not a JSON or markdown archive")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ArchiveError(f"The archive is not UTF-8 text (byte {error.start})") from error
    if not text.strip():
        raise ArchiveError("The archive is empty")
    name = filename.lower()
    as_json = name.endswith(".json") or (not name.endswith((".md", ".markdown", ".txt")) and text.lstrip()[:1] in "[{")
    numbered: list[tuple[int, Any]]
    label = "item"
    if as_json:
        try:
            document = json.loads(text)
        except json.JSONDecodeError as error:
            raise ArchiveError(f"The archive is not valid JSON: {error.msg} at line {error.lineno}") from error
        if isinstance(document, dict):
            document = next((document[k] for k in LIST_KEYS if isinstance(document.get(k), list)), None)
        if not isinstance(document, list):
            raise ArchiveError("A JSON archive is a list of items, or an object with a 'dreams' or 'entries' list")
        numbered = []
        for index, raw in enumerate(document, 1):
            try:
                numbered.append((index, _item_from_json(raw)))
            except ValueError as error:
                numbered.append((index, error))
    else:
        numbered, label = _items_from_markdown(text), "section at line"
        if not numbered:
            raise ArchiveError("No '## Title' sections found: a markdown archive starts each item with '## '")
    problems = [f"{label} {index}: {error}" for index, error in numbered if isinstance(error, Exception)]
    problems += [
        f"{label} {index}: longer than {MAX_MEMORY_CHARS:,} characters"
        for index, item in numbered
        if isinstance(item, ArchiveItem) and len(item.content) > MAX_MEMORY_CHARS
    ]
    if problems:
        more = f" (and {len(problems) - MAX_PROBLEMS_SHOWN} more)" if len(problems) > MAX_PROBLEMS_SHOWN else ""
        raise ArchiveError("Nothing imported: " + "; ".join(problems[:MAX_PROBLEMS_SHOWN]) + more)
    if len(numbered) > MAX_ITEMS:
        raise ArchiveError(f"An archive holds at most {MAX_ITEMS:,} items (this one has {len(numbered):,})")
    if not numbered:
        raise ArchiveError("The archive holds no items")
    return [item for _, item in numbered]


def _check_personas(session: Session, items: list[ArchiveItem], default: str) -> None:
    for persona_id in {item.persona or default for item in items}:
        persona = session.get(Persona, persona_id)
        if persona is None or persona.deleted_at is not None or persona.kind != "ai":
            raise NotFoundError(f"Nothing imported: '{persona_id}' is not an AI persona")


def _store(session: Session, kind: Kind, items: list[ArchiveItem], default: str) -> tuple[list[str], list[str], int]:
    table = Dream if kind == "dream" else JournalEntry
    known = set(session.exec(select(table.digest).where(col(table.digest) != "")))
    ids, memory_ids, duplicates = [], [], 0
    for item in items:
        persona_id = item.persona or default
        key = digest(persona_id, item.content)
        if key in known:
            duplicates += 1
            continue
        known.add(key)
        title = item.title or item.content.split(".")[0][:80]
        if kind == "dream":
            row, memory_id = save_dream(
                session,
                persona_id=persona_id,
                title=title,
                content=item.content,
                emotion=item.feeling,
                themes=item.tags or themes_of(item.content),
                source="import",
                created_at=item.created_at,
            )
        else:
            row, memory_id = save_entry(
                session,
                persona_id=persona_id,
                title=title,
                content=item.content,
                mood=item.feeling,
                insights=item.tags,
                kind="reflection",
                source="import",
                created_at=item.created_at,
            )
        ids.append(row.id)
        memory_ids.append(memory_id)
    return ids, memory_ids, duplicates


def import_archive(
    kind: Kind, data: bytes, *, filename: str = "", persona_id: str = "azera", memory: MemoryService | None = None
) -> ImportReport:
    """Import an archive; items already present (same persona and text) are skipped.

    The whole file is read and checked first (nothing is stored from a file with a bad item), then stored
    in transactions of ``IMPORT_BATCH`` items: a long import never holds the database's write lock for
    long (a reply saving its text meanwhile would wait), and one a crash cut short keeps the batches it
    committed, whose memories the tick loop indexes; importing the same file again adds the rest.
    Blocking (SQL and indexing): call it from a worker thread.
    """
    items = parse_archive(data, filename)
    with session_scope() as session:
        _check_personas(session, items, persona_id)
    ids, memory_ids, duplicates = [], [], 0
    for start in range(0, len(items), IMPORT_BATCH):

        def store(batch: list[ArchiveItem] = items[start : start + IMPORT_BATCH]) -> tuple[list[str], list[str], int]:
            with session_scope() as session:
                return _store(session, kind, batch, persona_id)

        stored, remembered, skipped = retry_locked(store)
        ids, memory_ids, duplicates = ids + stored, memory_ids + remembered, duplicates + skipped
    if memory is not None and memory_ids:
        memory.index(memory_ids)
    return ImportReport(imported=len(ids), duplicates=duplicates, ids=ids)


async def import_archive_async(
    kind: Kind,
    data: bytes,
    *,
    memory: Callable[[], MemoryService | None],
    filename: str = "",
    persona_id: str = "azera",
) -> ImportReport:
    """``import_archive`` in a worker thread; ``memory`` gives the service that indexes (called in the thread)."""

    def run() -> ImportReport:
        return import_archive(kind, data, filename=filename, persona_id=persona_id, memory=memory())

    return await asyncio.to_thread(run)
