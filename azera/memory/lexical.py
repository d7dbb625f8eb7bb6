"""Lexical memory: word search (bm25) over two indexes, ``memories`` and ``chats``.

Default: SQLite FTS5 with porter stemming in ``<data>/lexical.db`` (rebuildable from SQL).
"""

from __future__ import annotations

import re
import sqlite3
import threading
from pathlib import Path
from typing import Protocol

from azera.memory.records import Hit, IndexedMemory, SearchScope

INDEXES = ("memories", "chats")
WORD = re.compile(r"\w+", re.UNICODE)
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "do",
        "does",
        "did",
        "for",
        "from",
        "had",
        "has",
        "have",
        "i",
        "in",
        "is",
        "it",
        "its",
        "me",
        "my",
        "of",
        "on",
        "or",
        "so",
        "that",
        "the",
        "this",
        "to",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
    ]
)
MAX_TERMS = 32


def match_expression(query: str) -> str:
    """An FTS5 MATCH expression: the query's words (minus stopwords), quoted, OR-ed."""
    terms: list[str] = []
    for word in WORD.findall(query.lower()):
        if word not in STOPWORDS and word not in terms and (len(word) > 1 or word.isdigit()):
            terms.append(word)
    return " OR ".join(f'"{term}"' for term in terms[:MAX_TERMS])


class LexicalStore(Protocol):
    """bm25 word search restricted by a scope."""

    name: str

    def upsert(self, index: str, items: list[IndexedMemory]) -> None:
        """Add or replace documents."""
        ...

    def delete(self, index: str, ids: list[str]) -> None:
        """Remove documents."""
        ...

    def search(self, index: str, query: str, scope: SearchScope, limit: int) -> list[Hit]:
        """Best matches inside ``scope``, best first."""
        ...

    def count(self, index: str) -> int:
        """Documents in an index."""
        ...

    def clear(self, index: str) -> None:
        """Empty an index (before a rebuild)."""
        ...


class FtsLexicalStore:
    """SQLite FTS5, one table per index."""

    name = "SQLite FTS5"

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._lock = threading.Lock()
        for index in INDEXES:
            self._db.execute(
                f"CREATE VIRTUAL TABLE IF NOT EXISTS {index} USING fts5("
                "text, id UNINDEXED, persona_id UNINDEXED, chat_id UNINDEXED, kind UNINDEXED, tier UNINDEXED, "
                "created_at UNINDEXED, tokenize='porter unicode61')"
            )

    @staticmethod
    def _table(index: str) -> str:
        if index not in INDEXES:
            raise ValueError(f"unknown lexical index {index!r}")
        return index

    def upsert(self, index: str, items: list[IndexedMemory]) -> None:
        """See LexicalStore."""
        table = self._table(index)
        rows = [(i.text, i.id, i.persona_id, i.chat_id, i.kind, i.tier, i.created_at) for i in items]
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany(f"DELETE FROM {table} WHERE id = ?", [(i.id,) for i in items])
            self._db.executemany(f"INSERT INTO {table} VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
            self._db.execute("COMMIT")

    def delete(self, index: str, ids: list[str]) -> None:
        """See LexicalStore."""
        table = self._table(index)
        with self._lock:
            self._db.executemany(f"DELETE FROM {table} WHERE id = ?", [(i,) for i in ids])

    def search(self, index: str, query: str, scope: SearchScope, limit: int) -> list[Hit]:
        """See LexicalStore; scores are ``-bm25`` (higher is better)."""
        table = self._table(index)
        expression = match_expression(query)
        if not expression:
            return []
        sql = f"SELECT id, -bm25({table}) FROM {table} WHERE {table} MATCH ? AND persona_id = ?"
        args: list = [expression, scope.persona_id]
        if scope.exclude_chat_id:
            sql += " AND chat_id != ?"
            args.append(scope.exclude_chat_id)
        if scope.before is not None:
            sql += " AND created_at < ?"
            args.append(scope.before)
        for column, values in (("kind", scope.kinds), ("tier", scope.tiers)):
            if values:
                sql += f" AND {column} IN ({','.join('?' * len(values))})"
                args.extend(values)
        sql += f" ORDER BY bm25({table}) LIMIT ?"
        args.append(limit)
        with self._lock:
            return [Hit(row[0], float(row[1])) for row in self._db.execute(sql, args)]

    def count(self, index: str) -> int:
        """See LexicalStore."""
        with self._lock:
            return int(self._db.execute(f"SELECT count(*) FROM {self._table(index)}").fetchone()[0])

    def clear(self, index: str) -> None:
        """See LexicalStore."""
        with self._lock:
            self._db.execute(f"DELETE FROM {self._table(index)}")
