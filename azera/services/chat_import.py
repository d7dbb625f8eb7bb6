"""SillyTavern chats (``.jsonl``) into an Azera chat with a persona you choose: bring your history along.

The file's first line describes the chat (``user_name``, ``character_name``, ``create_date``); every other
line is a message (``name``, ``is_user``, ``mes``, ``send_date``, and for the character's messages the
``swipes`` — the alternatives SillyTavern kept — with ``swipe_id`` the one shown). Each message keeps its
date; swipes become sibling replies (branches, ``‹ n/m ›`` in the chat) with the shown one on the active
branch; system notes are left out. The messages of the active branch become the persona's memories, so it
recalls the imported history. All or nothing: a broken line is reported with its number and nothing is saved.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from azera.db.models import Chat, ChatMessage
from azera.errors import ServiceError
from azera.memory.service import MAX_MEMORY_CHARS, MemoryService
from azera.services import chats
from azera.services.messages import MAX_MESSAGE_CHARS, append_message

MAX_BYTES = 50_000_000
MAX_LINES = 100_000
MAX_SWIPES = 50
ST_DATE = re.compile(
    r"(?P<month>[A-Z][a-z]+) (?P<day>\d{1,2}), (?P<year>\d{4}) (?P<hour>\d{1,2}):(?P<minute>\d{2}) ?(?P<ampm>[ap]m)",
)
ST_AT_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2}) ?@(\d{1,2})h ?(\d{1,2})m ?(\d{1,2})s")


def _date(value: object) -> datetime | None:
    """A SillyTavern send date: epoch milliseconds, ISO-8601, "May 8, 2023 2:30pm" or "2023-05-08 @14h 30m 12s"."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value / 1000 if value > 1e11 else value, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    except ValueError:
        pass
    if match := ST_DATE.match(text):
        try:
            moment = datetime.strptime(
                f"{match['month']} {match['day']} {match['year']} {match['hour']}:{match['minute']}{match['ampm']}",
                "%B %d %Y %I:%M%p",
            )
            return moment.replace(tzinfo=UTC)
        except ValueError:
            return None
    if match := ST_AT_DATE.match(text):
        try:
            return datetime(*(int(part) for part in match.groups()), tzinfo=UTC)  # type: ignore[misc]
        except ValueError:
            return None
    return None


def _lines(name: str, data: bytes) -> tuple[dict, list[dict]]:
    if len(data) > MAX_BYTES:
        raise ServiceError(f"{name} is larger than {MAX_BYTES // 1_000_000} MB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ServiceError(f"{name} is not UTF-8 text ({error})") from error
    rows = [line for line in text.splitlines() if line.strip()]
    if not rows:
        raise ServiceError(f"{name} is empty")
    if len(rows) > MAX_LINES:
        raise ServiceError(f"{name} holds {len(rows):,} lines; at most {MAX_LINES:,}")
    parsed = []
    for number, line in enumerate(rows, start=1):
        try:
            item = json.loads(line)
        except ValueError as error:
            raise ServiceError(f"{name}, line {number}: not JSON ({error})") from error
        if not isinstance(item, dict):
            raise ServiceError(f"{name}, line {number}: not a JSON object")
        parsed.append(item)
    header, messages = (parsed[0], parsed[1:]) if "mes" not in parsed[0] else ({}, parsed)
    for number, item in enumerate(messages, start=2 if header else 1):
        if not isinstance(item.get("mes", ""), str) or len(item.get("mes", "")) > MAX_MESSAGE_CHARS:
            raise ServiceError(f"{name}, line {number}: 'mes' is not a text of up to {MAX_MESSAGE_CHARS:,} characters")
        swipes = item.get("swipes")
        if swipes is not None and (not isinstance(swipes, list) or len(swipes) > MAX_SWIPES):
            raise ServiceError(f"{name}, line {number}: 'swipes' is not a list of at most {MAX_SWIPES}")
    return header, messages


def import_sillytavern_chat(session: Session, name: str, data: bytes, *, persona_id: str) -> tuple[Chat, int]:
    """Create a chat with ``persona_id`` from a SillyTavern ``.jsonl`` (in the caller's transaction).

    Returns the chat and the number of messages saved (swipes included).
    """
    header, items = _lines(name, data)
    title = str(header.get("character_name") or "SillyTavern")[:80]
    chat = chats.create_chat(session, ai_persona_id=persona_id, title=f"{title} (imported)")
    started = _date(header.get("create_date")) or datetime.now(UTC) - timedelta(seconds=len(items) + 1)
    parent: ChatMessage | None = None
    saved = 0
    for item in items:
        if item.get("is_system") or not str(item.get("mes", "")).strip():
            continue
        when = _date(item.get("send_date")) or (parent.created_at if parent else started) + timedelta(seconds=1)
        role = "user" if item.get("is_user") else "assistant"
        texts = [str(item["mes"])]
        if role == "assistant" and isinstance(item.get("swipes"), list) and item["swipes"]:
            texts = [str(s)[:MAX_MESSAGE_CHARS] for s in item["swipes"] if str(s).strip()] or texts
        shown = item.get("swipe_id", 0) if role == "assistant" else 0
        shown = shown if isinstance(shown, int) and 0 <= shown < len(texts) else 0
        siblings = [
            append_message(
                session, chat, parent_id=parent.id if parent else None, role=role, content=text, created_at=when
            )
            for text in texts
        ]
        saved += len(siblings)
        parent = siblings[shown]
        chat.active_leaf_id = parent.id
        MemoryService.record(
            session,
            text=parent.content[:MAX_MEMORY_CHARS],
            persona_id=persona_id,
            kind="conversation",
            chat_id=chat.id,
            message_id=parent.id,
            source=role,
            created_at=when,
        )
    if not saved:
        raise ServiceError(f"{name} holds no messages")
    session.add(chat)
    return chat, saved
