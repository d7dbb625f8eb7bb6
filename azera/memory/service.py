"""The memory service: SQL first, indexes after; hybrid retrieval with persona isolation.

Every memory is a row in SQL (the source of truth). Indexing (embedding + semantic + lexical)
happens afterwards and may fail: the row then keeps ``indexed_at = NULL`` and is indexed on the
next ``index_pending`` or ``reindex``.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import update
from sqlmodel import Session, col, select

from azera.config import get_settings
from azera.db.engine import session_scope
from azera.db.models import Memory, utcnow
from azera.db.rows import require
from azera.errors import ServiceError
from azera.memory.dates import asks_when, recall_window
from azera.memory.embedder import Embedder, EmbeddingError
from azera.memory.indexing import answered_memories, indexed_forms, memories_of_messages, waiting_count
from azera.memory.lexical import LexicalStore
from azera.memory.recall import RecalledMemory, assemble
from azera.memory.records import SearchScope
from azera.memory.semantic import SemanticStore
from azera.memory.working import EMBEDDING_TTL, WorkingMemory

log = logging.getLogger(__name__)

KINDS = ("conversation", "fact", "dream", "journal", "reflection", "emotion", "document")
TIERS = ("working", "long_term", "personal_log", "archive")
# Retrieval rules. The seed's numbers were starting points; `bench memory` on real conversations (LoCoMo,
# ../shared/data) and on tests/data decided these (README, "Recall benchmark").
SEMANTIC_TOP, LEXICAL_TOP, CHATS_TOP = 50, 50, 5  # candidates per source, scored together before the cut
WINDOW_TOP = 20  # extra candidates from the time a question names
MIN_SIMILARITY = 0.2  # a candidate only semantic search found must be at least this close
RECALL_LIMIT = 8
INDEX_BATCH = 512  # memories per indexing call (one embedding call, one upsert per index)
MAX_MEMORY_CHARS = 20_000


class MemoryService:
    """Writes, indexes and recalls memories."""

    def __init__(
        self,
        *,
        embedder: Embedder,
        semantic: SemanticStore,
        lexical: LexicalStore,
        working: WorkingMemory,
        clock=time.time,
    ) -> None:
        self.embedder, self.semantic, self.lexical, self.working = embedder, semantic, lexical, working
        self.clock = clock
        self.last_index_error = ""  # why the last indexing failed ('' after a success)
        self.timings = dict.fromkeys(("sql", "embed", "semantic", "lexical", "optimize"), 0.0)  # seconds indexing

    # ---- writes -------------------------------------------------------------------------
    @staticmethod
    def record(
        session: Session,
        *,
        text: str,
        persona_id: str,
        kind: str = "fact",
        tier: str = "long_term",
        chat_id: str | None = None,
        message_id: str | None = None,
        source: str = "",
        created_at: datetime | None = None,
    ) -> Memory:
        """Save a memory in SQL (indexing happens later, see ``index``)."""
        text = text.strip()
        if not text:
            raise ServiceError("A memory needs some text")
        if len(text) > MAX_MEMORY_CHARS:
            raise ServiceError(f"A memory is at most {MAX_MEMORY_CHARS:,} characters (this one has {len(text):,})")
        if kind not in KINDS:
            raise ServiceError(f"Unknown memory kind '{kind}' (one of {', '.join(KINDS)})")
        if tier not in TIERS:
            raise ServiceError(f"Unknown memory tier '{tier}' (one of {', '.join(TIERS)})")
        memory = Memory(
            text=text,
            persona_id=persona_id,
            kind=kind,
            tier=tier,
            chat_id=chat_id,
            message_id=message_id,
            source=source[:200],
            created_at=created_at or utcnow(),
        )
        session.add(memory)
        session.flush()
        return memory

    def embed(self, texts: list[str]) -> np.ndarray:
        """Embeddings, served from the working-memory cache when the same text was seen (key: SHA-256)."""
        vectors = np.zeros((len(texts), self.embedder.dimension), dtype=np.float32)
        missing: list[int] = []
        for position, text in enumerate(texts):
            cached = self.working.get(self._cache_key(text))
            if cached is not None and len(cached) == self.embedder.dimension * 4:
                vectors[position] = np.frombuffer(cached, dtype=np.float32)
            else:
                missing.append(position)
        if missing:
            fresh = self.embedder.embed([texts[i] for i in missing])
            for position, vector in zip(missing, fresh, strict=True):
                vectors[position] = vector
                self.working.set(self._cache_key(texts[position]), vector.astype(np.float32).tobytes(), EMBEDDING_TTL)
        return vectors

    def _cache_key(self, text: str) -> str:
        return f"emb:{self.embedder.name}:{hashlib.sha256(text.encode()).hexdigest()}"

    def index(self, memory_ids: list[str]) -> int:
        """Embed and index these memories (blocking); returns how many were indexed, 0 if an index failed.

        One embedding call, one vector upsert and one word-search transaction per call, whatever the
        number of memories. Turns they answer that were indexed before the answer existed are re-indexed
        for word search too: their context now holds the answer.
        """
        clock = time.perf_counter
        begun, started = clock(), utcnow()  # ``indexed_at`` = when the forms were read
        with session_scope() as session:
            forms = indexed_forms(session, memory_ids)
            answered = [item for _, item, _ in indexed_forms(session, answered_memories(session, memory_ids))]
        items = [item for _, item, _ in forms]
        if not items:
            return 0
        self.timings["sql"] += clock() - begun
        try:
            # Straight to the embedder: the working-memory cache is for questions, never seen again as memories.
            begun = clock()
            vectors = self.embedder.embed([item.dated for item in items])
            self.timings["embed"] += (now := clock()) - begun
            self.semantic.upsert(items, vectors)
            self.timings["semantic"] += (begun := clock()) - now
            chat_items = [
                dataclasses.replace(item, id=memory.message_id, kind=role)
                for memory, item, role in forms
                if memory.message_id and role
            ]
            self.lexical.upsert("memories", items + answered)
            if chat_items:
                self.lexical.upsert("chats", chat_items)
            self.timings["lexical"] += clock() - begun
        except Exception as error:
            log.warning("indexing %d memories failed, they stay in SQL for a later retry: %s", len(items), error)
            self.last_index_error = f"{type(error).__name__}: {error}"[:300]
            return 0
        self.last_index_error = ""
        begun = clock()
        with session_scope() as session:
            indexed = update(Memory).where(col(Memory.id).in_([i.id for i in items])).values(indexed_at=started)
            session.exec(indexed)  # type: ignore[call-overload]
        self.timings["sql"] += clock() - begun
        return len(items)

    def index_pending(self, batch: int = INDEX_BATCH, older_than: float = 0.0, since: float = 0.0) -> int:
        """Index memories whose indexing failed or has not happened yet.

        Only those made at least ``older_than`` seconds ago, or before ``since`` (epoch seconds: a memory
        from before the app started has no reply pipeline about to index it).
        """
        cutoff = datetime.fromtimestamp(max(self.clock() - older_than, min(since, self.clock())), UTC)
        with session_scope() as session:
            waiting = select(Memory.id).where(col(Memory.indexed_at).is_(None), col(Memory.created_at) <= cutoff)
            ids = list(session.exec(waiting.limit(batch)))
        return self.index(ids) if ids else 0

    def index_all_pending(self, batch: int = INDEX_BATCH, progress: Callable[[int], None] | None = None) -> int:
        """Index every memory still waiting (blocking); stops early if indexing fails."""
        total = 0
        while (done := self.index_pending(batch)) > 0:
            total += done
            if progress is not None:
                progress(total)
        return total

    def rebuild(self) -> int:
        """Empty every index and flag every memory for indexing; returns how many now wait.

        Nothing is indexed here: the tick-loop stage (or ``reindex``) does it in batches, and recall
        meanwhile finds the memories indexed so far.
        """
        self.semantic.clear()
        for index in ("memories", "chats"):
            self.lexical.clear(index)
        with session_scope() as session:
            session.exec(update(Memory).values(indexed_at=None))  # type: ignore[call-overload]
            return waiting_count(session)

    def reindex(self, batch: int = INDEX_BATCH, progress: Callable[[int, int], None] | None = None) -> int:
        """Rebuild every index from SQL (blocking); ``progress(done, total)`` after each batch."""
        total = self.rebuild()
        done = self.index_all_pending(batch, None if progress is None else lambda done: progress(done, total))
        self.optimize()
        return done

    def optimize(self) -> bool:
        """Build the vector search graph once enough new vectors wait (in a child process).

        Blocking: 21 s at 100k memories. Run it when nothing waits to be indexed, so that a rebuild builds
        its graph once.
        """
        begun = time.perf_counter()
        try:
            ran = self.semantic.optimize()
        except Exception as error:
            log.warning("the vector index could not be optimized (searches stay exact, slower): %s", error)
            return False
        self.timings["optimize"] += time.perf_counter() - begun
        return ran

    def delete(self, memory_id: str) -> None:
        """Delete a memory from SQL and every index."""
        with session_scope() as session:
            memory = require(session, Memory, memory_id, "memory")
            message_id = memory.message_id
            session.delete(memory)
        # SQL is the truth: recall skips index hits without a row, and a reindex drops them.
        try:
            self.semantic.delete([memory_id])
            self.lexical.delete("memories", [memory_id])
            if message_id:
                self.lexical.delete("chats", [message_id])
        except Exception as error:
            log.warning(
                "memory %s deleted from SQL; an index could not be updated (reindex fixes it): %s", memory_id, error
            )

    def update(self, memory_id: str, *, text: str | None = None, tier: str | None = None) -> Memory:
        """Edit a memory's text and/or move it to another tier; it is re-indexed."""
        if tier is not None and tier not in TIERS:
            raise ServiceError(f"Unknown memory tier '{tier}' (one of {', '.join(TIERS)})")
        with session_scope() as session:
            memory = require(session, Memory, memory_id, "memory")
            if text is not None:
                if not text.strip():
                    raise ServiceError("A memory needs some text")
                memory.text = text.strip()[:MAX_MEMORY_CHARS]
            if tier is not None:
                memory.tier = tier
            memory.indexed_at = None
            session.add(memory)
        self.index([memory_id])
        with session_scope() as session:
            return session.get(Memory, memory_id)  # type: ignore[return-value]

    # ---- retrieval ----------------------------------------------------------------------
    def retrieve(
        self,
        query: str,
        *,
        persona_id: str,
        chat_id: str = "",
        limit: int = RECALL_LIMIT,
        sources: tuple[str, ...] = ("semantic", "lexical"),
        min_similarity: float = MIN_SIMILARITY,
        context: bool = True,
    ) -> list[RecalledMemory]:
        """Hybrid recall for one user message (blocking; call from a thread).

        Candidates: semantic top-50, lexical top-50 (and, when asked for, lexical chat messages top-5: on
        LoCoMo they added nothing), and, when the question names a time, the best 20 of each from then;
        every candidate is scored by every source (the cosine of a word-search find is looked up) and fused
        (``fuse``), then judged with the conversation around each (``context.in_conversation``; ``context``
        False skips that, for the benchmark's ablation). Only ``persona_id``'s memories, never the current
        chat, nothing younger than ``AZERA_MEMORY_MIN_AGE_SECONDS``; deduplicated on the first 100 characters;
        snippets cut to 400 characters.
        """
        query = query.strip()
        if not query:
            return []
        scope = SearchScope(
            persona_id=persona_id, exclude_chat_id=chat_id, before=self.clock() - get_settings().memory_min_age_seconds
        )
        window = recall_window(query)
        scopes = [scope]
        if window is not None:
            scopes.append(dataclasses.replace(scope, after=window[0], before=min(window[1], scope.before or window[1])))
        scores: dict[str, dict[str, float]] = {}
        vector: np.ndarray | None = None  # the question's, once semantic search has embedded it
        try:
            if "lexical" in sources:
                scores["lexical"] = self._lexical("memories", query, scopes)
            if "chats" in sources:
                found = self.lexical.search("chats", query, scope, CHATS_TOP)
                with session_scope() as session:
                    scores["chats"] = {h.id: h.score for h in memories_of_messages(session, found)}
        except Exception as error:
            log.warning("lexical recall unavailable: %s", error)
        try:
            if "semantic" in sources:
                vector = self.embed([query])[0]
                scores["semantic"] = self._semantic(vector, scopes, scores, min_similarity)
        except (EmbeddingError, Exception) as error:
            log.warning("semantic recall unavailable: %s", error)

        lookup = functools.partial(self.cosines, vector, scope)
        return assemble(scores, scope, limit, window, lookup=lookup if context else None, when=asks_when(query))

    def cosines(self, vector: np.ndarray | None, scope: SearchScope, ids: list[str]) -> dict[str, float]:
        """The cosine of these memories to ``vector``, those inside ``scope``; nothing without a vector or ids."""
        if vector is None or not ids:
            return {}
        return {hit.id: hit.score for hit in self.semantic.search(vector, scope, len(ids), ids=ids)}

    def _lexical(self, index: str, query: str, scopes: list[SearchScope]) -> dict[str, float]:
        found: dict[str, float] = {}
        for n, scope in enumerate(scopes):
            for hit in self.lexical.search(index, query, scope, LEXICAL_TOP if n == 0 else WINDOW_TOP):
                found.setdefault(hit.id, hit.score)
        return found

    def _semantic(
        self, vector: np.ndarray, scopes: list[SearchScope], scores: dict[str, dict[str, float]], min_similarity: float
    ) -> dict[str, float]:
        found: dict[str, float] = {}
        for n, scope in enumerate(scopes):
            for hit in self.semantic.search(vector, scope, SEMANTIC_TOP if n == 0 else WINDOW_TOP):
                found.setdefault(hit.id, hit.score)
        worded = {i for source in ("lexical", "chats") for i in scores.get(source, {})}
        # A memory only word search found still gets its cosine: both sources judge every candidate.
        found.update(self.cosines(vector, scopes[0], [i for i in worded if i not in found]))
        return {i: score for i, score in found.items() if score >= min_similarity or i in worded}
