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
# A standard English stopword list (the NLTK one): words that match almost every memory.
STOPWORDS = frozenset(
    """
    i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her hers
    herself it its itself they them their theirs themselves what which who whom this that these those am is are
    was were be been being have has had having do does did doing a an the and but if or because as until while
    of at by for with about against between into through during before after above below to from up down in out
    on off over under again further then once here there when where why how all any both each few more most
    other some such no nor not only own same so than too very s t can will just don should now d ll m o re ve y
    ain aren couldn didn doesn hadn hasn haven isn ma mightn mustn needn shan shouldn wasn weren won wouldn
    """.split()  # noqa: SIM905  (a word list reads better as text)
)
MAX_TERMS = 32


def match_expression(query: str) -> str:
    """An FTS5 MATCH expression: the query's words (minus stopwords), quoted, OR-ed."""
    terms: list[str] = []
    for word in WORD.findall(query.lower()):
        if word not in STOPWORDS and word not in terms and (len(word) > 1 or word.isdigit()):
            terms.append(word)
    return " OR ".join(f'"{term}"' for term in terms[:MAX_TERMS])


def _persona_token(persona_id: str) -> str:
    """One FTS token per persona id (ids may hold '-' or '_', which the tokenizer would split)."""
    return "p" + persona_id.encode().hex()


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
    SCHEMA_VERSION = 4  # 4: the text carries its speaker, the context both neighbouring turns
    WEIGHTS = "1.0, 0.5, 0.0"  # bm25 column weights: the text, its context (half), the persona token (none)

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._lock = threading.Lock()
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        exists = self._db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'memories'").fetchone()[0]
        # The index is rebuildable from SQL: a file of another layout is dropped, and ``rebuilt`` tells the
        # memory service to index everything again.
        self.rebuilt = bool(exists) and version != self.SCHEMA_VERSION
        if self.rebuilt:
            for index in INDEXES:
                self._db.execute(f"DROP TABLE IF EXISTS {index}")
        self._db.execute(f"PRAGMA user_version = {self.SCHEMA_VERSION}")
        for index in INDEXES:
            # ``persona`` is a matchable column so that FTS5 intersects doclists instead of
            # scoring every row that shares a common word and filtering afterwards.
            self._db.execute(
                f"CREATE VIRTUAL TABLE IF NOT EXISTS {index} USING fts5("
                "text, context, persona, id UNINDEXED, persona_id UNINDEXED, chat_id UNINDEXED, kind UNINDEXED, "
                "tier UNINDEXED, created_at UNINDEXED, tokenize='porter unicode61')"
            )

    @staticmethod
    def _table(index: str) -> str:
        if index not in INDEXES:
            raise ValueError(f"unknown lexical index {index!r}")
        return index

    def upsert(self, index: str, items: list[IndexedMemory]) -> None:
        """See LexicalStore."""
        table = self._table(index)
        rows = [
            (
                i.labelled,
                i.context,
                _persona_token(i.persona_id),
                i.id,
                i.persona_id,
                i.chat_id,
                i.kind,
                i.tier,
                i.created_at,
            )
            for i in items
        ]
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany(f"DELETE FROM {table} WHERE id = ?", [(i.id,) for i in items])
            self._db.executemany(f"INSERT INTO {table} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
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
        # A word may match the memory or its context (the turn before); the persona column only filters.
        match = f'persona : "{_persona_token(scope.persona_id)}" AND {{text context}} : ({expression})'
        sql = f"SELECT id, -bm25({table}, {self.WEIGHTS}) FROM {table} WHERE {table} MATCH ? AND persona_id = ?"
        args: list = [match, scope.persona_id]
        if scope.exclude_chat_id:
            sql += " AND chat_id != ?"
            args.append(scope.exclude_chat_id)
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
        sql += f" ORDER BY bm25({table}, {self.WEIGHTS}) LIMIT ?"
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


class MeiliLexicalStore:
    """Meilisearch (``AZERA_MEILI_URL``) over its HTTP API: indexes ``memories`` and ``chats``.

    Writes are asynchronous tasks in Meilisearch; each write waits for its task so that a
    memory is searchable when ``index`` returns (and a failed task is an error, not silence).
    """

    name = "Meilisearch"
    FILTERABLE = ["persona_id", "chat_id", "kind", "tier", "created_at"]

    def __init__(self, url: str, api_key: str = "", *, timeout: float = 10.0) -> None:
        import httpx

        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=timeout)
        self._task_timeout = timeout
        for index in INDEXES:
            self._ensure(index)

    def _call(self, method: str, path: str, **kwargs):
        response = self._http.request(method, path, **kwargs)
        if response.status_code >= 400:
            try:
                detail = response.json().get("message", response.text)
            except ValueError:
                detail = response.text
            raise RuntimeError(f"Meilisearch {method} {path} failed ({response.status_code}): {detail}")
        return response.json() if response.content else {}

    def _wait(self, task: dict) -> None:
        import time

        uid = task.get("taskUid", task.get("uid"))
        deadline = time.monotonic() + self._task_timeout
        while time.monotonic() < deadline:
            state = self._call("GET", f"/tasks/{uid}")
            if state["status"] == "succeeded":
                return
            if state["status"] in ("failed", "canceled"):
                raise RuntimeError(f"Meilisearch task {uid} {state['status']}: {state.get('error')}")
            time.sleep(0.02)
        raise RuntimeError(f"Meilisearch task {uid} did not finish in {self._task_timeout}s")

    def _ensure(self, index: str) -> None:
        response = self._http.get(f"/indexes/{index}")
        if response.status_code == 404:
            self._wait(self._call("POST", "/indexes", json={"uid": index, "primaryKey": "id"}))
        elif response.status_code >= 400:
            raise RuntimeError(f"Meilisearch refused ({response.status_code}): {response.text}")
        settings = {"filterableAttributes": self.FILTERABLE, "searchableAttributes": ["text", "context"]}
        self._wait(self._call("PATCH", f"/indexes/{index}/settings", json=settings))

    def upsert(self, index: str, items: list[IndexedMemory]) -> None:
        """See LexicalStore."""
        documents = [
            {
                "id": i.id,
                "text": i.labelled,
                "context": i.context,
                "persona_id": i.persona_id,
                "chat_id": i.chat_id,
                "kind": i.kind,
                "tier": i.tier,
                "created_at": i.created_at,
            }
            for i in items
        ]
        self._wait(self._call("POST", f"/indexes/{index}/documents", json=documents))

    def delete(self, index: str, ids: list[str]) -> None:
        """See LexicalStore."""
        self._wait(self._call("POST", f"/indexes/{index}/documents/delete-batch", json=ids))

    @staticmethod
    def _filter(scope: SearchScope) -> str:
        quote = lambda value: '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'  # noqa: E731
        clauses = [f"persona_id = {quote(scope.persona_id)}"]
        if scope.exclude_chat_id:
            clauses.append(f"chat_id != {quote(scope.exclude_chat_id)}")
        if scope.before is not None:
            clauses.append(f"created_at < {scope.before}")
        if scope.after is not None:
            clauses.append(f"created_at >= {scope.after}")
        for field, values in (("kind", scope.kinds), ("tier", scope.tiers)):
            if values:
                clauses.append(f"{field} IN [{', '.join(quote(v) for v in values)}]")
        return " AND ".join(clauses)

    def search(self, index: str, query: str, scope: SearchScope, limit: int) -> list[Hit]:
        """See LexicalStore; scores are Meilisearch's ranking scores (0..1)."""
        if not query.strip():
            return []
        body = {"q": query[:500], "filter": self._filter(scope), "limit": limit, "showRankingScore": True}
        result = self._call("POST", f"/indexes/{index}/search", json=body)
        return [Hit(hit["id"], float(hit.get("_rankingScore", 0.0))) for hit in result.get("hits", [])]

    def count(self, index: str) -> int:
        """See LexicalStore."""
        return int(self._call("GET", f"/indexes/{index}/stats").get("numberOfDocuments", 0))

    def clear(self, index: str) -> None:
        """See LexicalStore."""
        self._wait(self._call("DELETE", f"/indexes/{index}/documents"))
