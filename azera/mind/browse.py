"""Listing and searching dreams and journal entries (the pages and the API read through here)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from azera.db.models import Dream, JournalEntry
from azera.db.search import contains

MAX_QUERY_CHARS = 200


def _matching(statement: Any, table: type[Dream] | type[JournalEntry], query: str) -> Any:
    """Every word of the query appears in the title or the text (case-insensitive)."""
    for word in query[:MAX_QUERY_CHARS].lower().split()[:10]:
        statement = statement.where(or_(contains(table.content, word), contains(table.title, word)))
    return statement


def find_dreams(session: Session, *, query: str = "", persona_id: str = "", limit: int = 200) -> list[Dream]:
    """Dreams, newest first, optionally one persona's and containing every word of ``query``."""
    statement = select(Dream).order_by(col(Dream.created_at).desc()).limit(limit)
    if persona_id:
        statement = statement.where(Dream.persona_id == persona_id)
    return list(session.exec(_matching(statement, Dream, query)))


def find_entries(session: Session, *, query: str = "", persona_id: str = "", limit: int = 200) -> list[JournalEntry]:
    """Journal entries, newest first, optionally one persona's and containing every word of ``query``."""
    statement = select(JournalEntry).order_by(col(JournalEntry.created_at).desc()).limit(limit)
    if persona_id:
        statement = statement.where(JournalEntry.persona_id == persona_id)
    return list(session.exec(_matching(statement, JournalEntry, query)))
