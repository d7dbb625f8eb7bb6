"""Lexical memory: word search (bm25) over two indexes, ``memories`` and ``chats``.

Default: SQLite FTS5 with porter stemming in ``<data>/lexical.db`` (rebuildable from SQL).
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Protocol

from azera.memory.records import Hit, IndexedMemory, SearchScope
from azera.memory.words import query_terms

INDEXES = ("memories", "chats")


def _token(prefix: str, value: str) -> str:
    """One FTS token per persona or chat id (ids may hold '-' or '_', which the tokenizer would split)."""
    return prefix + value.encode().hex()


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
    """SQLite FTS5, one table per index; beside each a map from memory id to FTS row and one of personas.

    Why the map: FTS5 can only find a row fast by its rowid or by MATCH. Replacing or deleting a
    document by an UNINDEXED ``id`` column scans the whole table, so every write cost time in proportion
    to the index and indexing 100k memories took 23 minutes. With the map a write touches only its rows.

    Why personas own rowid ranges (persona slot ``s`` holds rows ``s << 40`` up to the next slot): FTS5's
    bm25 weighs every phrase of a query by reading that phrase's whole list of rows, so a persona token in
    the query cost a read of all the persona's memories on every search (at 1M memories, most of 42 ms).
    A rowid range selects the persona instead, and FTS5 seeks to it. Inside a range rows grow with time:
    the newest memories hold the highest rowids.
    """

    name = "SQLite FTS5"
    # 6: personas as rowid ranges; 5: id → rowid map tables, the chat as a token; 4: speaker and neighbours
    SCHEMA_VERSION = 6
    WEIGHTS = "1.0, 0.5, 0.0"  # bm25 column weights: the text, its context (half), the chat token
    SLOT_BITS = 40  # rows per persona: 2**40
    CHUNK = 500  # ids per IN (…) lookup (SQLite's variable limit is far above, this keeps statements small)
    SPARE = 20  # extra rows ranked on the fast path, for the few a time limit drops
    COMMON = 1_000  # a word in this many of a persona's memories is common (see ``search``)
    WINDOW = 2_000  # common words matching together more memories than this: the newest come first

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # a rebuildable index: WAL + NORMAL cannot corrupt it
        self._lock = threading.Lock()
        self.transactions = 0  # write transactions committed (tests check that writes are batched)
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        exists = self._db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'memories'").fetchone()[0]
        # The index is rebuildable from SQL: a file of another layout is dropped, and ``rebuilt`` tells the
        # memory service to index everything again.
        self.rebuilt = bool(exists) and version != self.SCHEMA_VERSION
        if self.rebuilt:
            for index in INDEXES:
                self._drop(index)
        self._db.execute(f"PRAGMA user_version = {self.SCHEMA_VERSION}")
        for index in INDEXES:
            self._create(index)

    def _create(self, table: str) -> None:
        # ``chat`` is a matchable column (one token per chat) so that leaving the current chat out is an
        # FTS5 ``NOT`` instead of a read of every matching row's chat id.
        self._db.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {table} USING fts5("
            "text, context, chat, id UNINDEXED, persona_id UNINDEXED, chat_id UNINDEXED, kind UNINDEXED, "
            "tier UNINDEXED, created_at UNINDEXED, tokenize='porter unicode61')"
        )
        self._db.execute(f"CREATE TABLE IF NOT EXISTS {table}_rows (row INTEGER PRIMARY KEY, id TEXT UNIQUE)")
        self._db.execute(
            f"CREATE TABLE IF NOT EXISTS {table}_personas (slot INTEGER PRIMARY KEY, persona_id TEXT UNIQUE)"
        )

    def _drop(self, table: str) -> None:
        for name in (table, f"{table}_rows", f"{table}_personas"):
            self._db.execute(f"DROP TABLE IF EXISTS {name}")

    @staticmethod
    def _table(index: str) -> str:
        if index not in INDEXES:
            raise ValueError(f"unknown lexical index {index!r}")
        return index

    def _range(self, table: str, persona_id: str, *, create: bool = False) -> tuple[int, int] | None:
        """The persona's rowid range ``[low, high)`` (caller holds the lock); None for a persona never indexed."""
        found = self._db.execute(f"SELECT slot FROM {table}_personas WHERE persona_id = ?", (persona_id,)).fetchone()
        if found is None:
            if not create:
                return None
            slot = self._db.execute(f"INSERT INTO {table}_personas (persona_id) VALUES (?)", (persona_id,)).lastrowid
        else:
            slot = found[0]
        return slot << self.SLOT_BITS, (slot + 1) << self.SLOT_BITS

    def _rows_of(self, table: str, ids: list[str]) -> dict[str, int]:
        """Memory id → FTS rowid, for the ids already indexed (caller holds the lock)."""
        found: dict[str, int] = {}
        for start in range(0, len(ids), self.CHUNK):
            chunk = ids[start : start + self.CHUNK]
            marks = ",".join("?" * len(chunk))
            found.update(
                (i, row)
                for row, i in self._db.execute(f"SELECT row, id FROM {table}_rows WHERE id IN ({marks})", chunk)
            )
        return found

    def _new_rows(self, table: str, items: list[IndexedMemory], old: dict[str, int]) -> dict[str, int]:
        """Each item's row: its old one when still in its persona's range, else the next free in that range."""
        rows: dict[str, int] = {}
        moved: list[tuple[int]] = []
        for persona_id in dict.fromkeys(i.persona_id for i in items):
            low, high = self._range(table, persona_id, create=True)  # type: ignore[misc]
            top = self._db.execute(f"SELECT max(row) FROM {table}_rows WHERE row >= ? AND row < ?", (low, high))
            last = top.fetchone()[0] or low
            for item in (i for i in items if i.persona_id == persona_id):
                row = old.get(item.id)
                if row is not None and low <= row < high:
                    rows[item.id] = row
                    continue
                if row is not None:  # the memory changed persona
                    moved.append((row,))
                last += 1
                rows[item.id] = last
        self._db.executemany(f"DELETE FROM {table}_rows WHERE row = ?", moved)
        fresh = [(row, i) for i, row in rows.items() if old.get(i) != row]
        self._db.executemany(f"INSERT INTO {table}_rows (row, id) VALUES (?, ?)", fresh)
        return rows

    def upsert(self, index: str, items: list[IndexedMemory]) -> None:
        """See LexicalStore. One transaction; only the rows being replaced are touched."""
        table = self._table(index)
        latest = list({i.id: i for i in items}.values())  # the last form of an id wins, as one write
        with self._lock:
            self._db.execute("BEGIN")
            try:
                old = self._rows_of(table, [i.id for i in latest])
                self._db.executemany(f"DELETE FROM {table} WHERE rowid = ?", [(row,) for row in old.values()])
                rows = self._new_rows(table, latest, old)
                self._db.executemany(
                    f"INSERT INTO {table} (rowid, text, context, chat, id, persona_id, chat_id, kind, tier, "
                    "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (
                            rows[i.id],
                            i.labelled,
                            i.context,
                            _token("c", i.chat_id),
                            i.id,
                            i.persona_id,
                            i.chat_id,
                            i.kind,
                            i.tier,
                            i.created_at,
                        )
                        for i in latest
                    ],
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self.transactions += 1

    def delete(self, index: str, ids: list[str]) -> None:
        """See LexicalStore."""
        table = self._table(index)
        with self._lock:
            self._db.execute("BEGIN")
            try:
                rows = self._rows_of(table, list(ids))
                self._db.executemany(f"DELETE FROM {table} WHERE rowid = ?", [(row,) for row in rows.values()])
                self._db.executemany(f"DELETE FROM {table}_rows WHERE row = ?", [(row,) for row in rows.values()])
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self.transactions += 1

    def search(self, index: str, query: str, scope: SearchScope, limit: int) -> list[Hit]:
        """See LexicalStore; scores are ``-bm25`` (higher is better).

        bm25 reads, for each word of the query, the list of every memory holding it, and then costs about
        a microsecond per matching memory; a common word matches a large share of a long history. So each
        word is first counted, up to ``COMMON``, among the persona's memories (a bounded read). Words
        found nowhere are dropped; memories with any rarer word are ranked, and memories with a common
        word only when they hold every common word. With no common word (any history under a few thousand
        memories) this is the plain OR of every word. Only when fewer than ``limit`` memories come out is
        the plain OR ranked after all.

        At scale (the common words together still in more than ``WINDOW`` memories: at 1M memories a
        two-word question of everyday words) those memories say little by their words alone: the ones
        with a rarer word are ranked first, and the newest holding every common word fill the remaining
        places, each with half the lowest word score (``1.0`` when nothing was ranked), for the meaning
        search to order.
        """
        table = self._table(index)
        terms = query_terms(query)
        if not terms:
            return []
        with self._lock:
            span = self._range(table, scope.persona_id)
        if span is None:
            return []
        rest = f' NOT chat : "{_token("c", scope.exclude_chat_id)}"' if scope.exclude_chat_id else ""

        def match(words: str) -> str:
            return f"{{text context}} : ({words}){rest}"

        quoted = [f'"{term}"' for term in terms]
        everything = " OR ".join(quoted)
        counts = [self._count(table, match(word), span, self.COMMON) for word in quoted]
        rare = [word for word, count in zip(quoted, counts, strict=True) if 0 < count < self.COMMON]
        common = [word for word, count in zip(quoted, counts, strict=True) if count >= self.COMMON]
        if not common:
            return self._ranked(table, match(" OR ".join(rare)), span, scope, limit) if rare else []
        together = common[0] if len(common) == 1 else "(" + " AND ".join(common) + ")"
        if self._count(table, match(together), span, self.WINDOW) < self.WINDOW:
            hits = self._ranked(table, match(" OR ".join([*rare, together])), span, scope, limit)
            if len(hits) < limit and len(quoted) > 1:
                hits = self._ranked(table, match(everything), span, scope, limit)
            return hits
        hits = self._ranked(table, match(" OR ".join(rare)), span, scope, limit) if rare else []
        for words in (together, everything):
            if len(hits) < limit:
                score = min((h.score for h in hits), default=2.0) / 2
                seen = {h.id for h in hits}
                newest = self._newest(table, match(words), span, scope, limit + len(seen))
                hits += [Hit(i, score) for i in newest if i not in seen][: limit - len(hits)]
        return hits

    def _count(self, table: str, match: str, span: tuple[int, int], cap: int) -> int:
        """The persona's memories matching, counted up to ``cap`` (the read stops there)."""
        sql = f"SELECT count(*) FROM (SELECT 1 FROM {table} WHERE {table} MATCH ? AND rowid >= ? AND rowid < ? LIMIT ?)"
        with self._lock:
            return int(self._db.execute(sql, (match, *span, cap)).fetchone()[0])

    @staticmethod
    def _filters(scope: SearchScope) -> tuple[str, list]:
        """SQL conditions on the stored columns for a scope's time window, kinds and tiers."""
        sql, args = "", []
        if scope.before is not None:
            sql += " AND created_at < ?"
            args.append(scope.before)
        if scope.after is not None:
            sql += " AND created_at >= ?"
            args.append(scope.after)
        for column, values in (("kind", scope.kinds), ("tier", scope.tiers)):
            if values:
                sql += f" AND {column} IN ({','.join('?' * len(values))})"
                args.extend(values)
        return sql, args

    def _newest(self, table: str, match: str, span: tuple[int, int], scope: SearchScope, limit: int) -> list[str]:
        """The ids of the newest memories matching, in the scope (FTS5 walks its rows from the highest rowid)."""
        conditions, args = self._filters(scope)
        sql = (
            f"SELECT id FROM {table} WHERE {table} MATCH ? AND rowid >= ? AND rowid < ?{conditions} "
            "ORDER BY rowid DESC LIMIT ?"
        )
        with self._lock:
            return [row[0] for row in self._db.execute(sql, (match, *span, *args, limit))]

    def _ranked(self, table: str, match: str, span: tuple[int, int], scope: SearchScope, limit: int) -> list[Hit]:
        ranked = (
            f"SELECT rowid AS r, bm25({table}, {self.WEIGHTS}) AS s FROM {table} "
            f"WHERE {table} MATCH ? AND rowid >= ? AND rowid < ?"
        )
        if not (scope.after is not None or scope.kinds or scope.tiers):
            # Fast path: rank on the index alone, then read the time of the few best rows (a memory younger
            # than ``before`` is rare: it was said in the last minute).
            best = f"({ranked} ORDER BY s LIMIT ?)"
            sql = f"SELECT id, -s, created_at FROM {best} JOIN {table} ON {table}.rowid = r ORDER BY s"
            with self._lock:
                rows = self._db.execute(sql, (match, *span, limit + self.SPARE)).fetchall()
            fresh = [
                Hit(i, float(score)) for i, score, created in rows if scope.before is None or created < scope.before
            ]
            if len(fresh) >= limit or len(rows) < limit + self.SPARE:
                return fresh[:limit]
        # A time window, kinds or tiers narrow the matches: filter every matching row before ranking.
        conditions, args = self._filters(scope)
        sql = f"SELECT id, -s FROM ({ranked}) JOIN {table} ON {table}.rowid = r WHERE 1{conditions} ORDER BY s LIMIT ?"
        with self._lock:
            return [Hit(row[0], float(row[1])) for row in self._db.execute(sql, (match, *span, *args, limit))]

    def count(self, index: str) -> int:
        """See LexicalStore."""
        with self._lock:
            return int(self._db.execute(f"SELECT count(*) FROM {self._table(index)}").fetchone()[0])

    def clear(self, index: str) -> None:
        """See LexicalStore."""
        table = self._table(index)
        with self._lock:  # dropping is instant at any size, where DELETE rewrites every row
            self._drop(table)
            self._create(table)
