"""Semantic memory: vectors with payload filters, in the embedded Qdrant engine or a Qdrant server."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path
from typing import Protocol

import numpy as np

from azera.memory.records import Hit, IndexedMemory, SearchScope

KEYWORD_FIELDS = ("persona_id", "chat_id", "kind", "tier")
# Vectors not yet in the HNSW graph, above which the graph is (re)built: below it, exact search over them
# costs a few ms. A fresh index of up to this size stays exact (the recall benchmarks' sets all do).
OPTIMIZE_AFTER = 20_000
HNSW_EF = 512  # graph candidates per search: near-exact (≥ 95 % of the exact top-50 even on hard vectors)


class SemanticBusyError(RuntimeError):
    """The vector index is being rebuilt in another process: recall uses word search meanwhile."""


def _payload(item: IndexedMemory) -> dict:
    return {
        "persona_id": item.persona_id,
        "chat_id": item.chat_id,
        "kind": item.kind,
        "tier": item.tier,
        "created_at": item.created_at,
    }


class SemanticStore(Protocol):
    """Vector search restricted by a scope."""

    name: str

    def upsert(self, items: list[IndexedMemory], vectors: np.ndarray) -> None:
        """Add or replace memories."""
        ...

    def delete(self, ids: list[str]) -> None:
        """Remove memories."""
        ...

    def search(self, vector: np.ndarray, scope: SearchScope, limit: int, ids: list[str] | None = None) -> list[Hit]:
        """Nearest memories inside ``scope`` (and among ``ids``, when given), best first; scores are cosines."""
        ...

    def count(self) -> int:
        """How many memories are indexed."""
        ...

    def clear(self) -> None:
        """Remove everything (before a rebuild)."""
        ...

    def optimize(self, force: bool = False) -> bool:
        """Build the search graph over new vectors when enough have come (or ``force``); True if it ran.

        Blocking: it may take minutes at a million memories.
        """
        ...


class EdgeSemanticStore:
    """The Qdrant engine embedded in-process (``qdrant-edge-py``), persisted in a folder.

    New vectors land in a plain segment searched exactly. Searching it grows with its size (12 ms over
    100k memories), so once ``OPTIMIZE_AFTER`` vectors wait, ``optimize`` builds the HNSW graph. It
    does so in a child process: the engine's optimize() holds Python's GIL for its whole run (25 s at
    100k), which in-process would freeze the app. While the child works the shard is closed here;
    searches and writes raise ``SemanticBusyError`` at once (recall answers from word search, new memories
    wait in SQL and are indexed afterwards).
    """

    name = "embedded Qdrant engine"

    def __init__(self, path: Path, dimension: int) -> None:
        self.path, self.dimension = path, dimension
        self._lock = threading.Lock()
        self._shard = self._open()
        self.optimizing = False

    def _open(self):
        import qdrant_edge as qe

        if (self.path / "edge_config.json").exists() or any(self.path.glob("*")):
            return qe.EdgeShard.load(str(self.path))
        self.path.mkdir(parents=True, exist_ok=True)
        shard = qe.EdgeShard.create(
            str(self.path), qe.EdgeConfig(vectors=qe.EdgeVectorParams(size=self.dimension, distance=qe.Distance.Cosine))
        )
        for field in KEYWORD_FIELDS:
            shard.update(qe.UpdateOperation.create_field_index(field, qe.PayloadSchemaType.Keyword))
        shard.update(qe.UpdateOperation.create_field_index("created_at", qe.PayloadSchemaType.Float))
        return shard

    def _ready(self):
        if self._shard is None:
            raise SemanticBusyError("the vector index is being optimized; recall uses word search meanwhile")
        return self._shard

    def _filter(self, scope: SearchScope, ids: list[str] | None = None):
        import qdrant_edge as qe

        must = [qe.FieldCondition(key="persona_id", match=qe.MatchValue(scope.persona_id))]
        if ids is not None:
            must.append(qe.HasIdCondition({str(uuid.UUID(hex=i)) for i in ids}))
        if scope.before is not None or scope.after is not None:
            must.append(qe.FieldCondition(key="created_at", range=qe.RangeFloat(lt=scope.before, gte=scope.after)))
        if scope.kinds:
            must.append(qe.FieldCondition(key="kind", match=qe.MatchAny(list(scope.kinds))))
        if scope.tiers:
            must.append(qe.FieldCondition(key="tier", match=qe.MatchAny(list(scope.tiers))))
        must_not = [qe.FieldCondition(key="chat_id", match=qe.MatchValue(scope.exclude_chat_id))]
        return qe.Filter(must=must, must_not=must_not if scope.exclude_chat_id else None)

    def upsert(self, items: list[IndexedMemory], vectors: np.ndarray) -> None:
        """See SemanticStore."""
        import qdrant_edge as qe

        points = [
            qe.Point(item.point_id, vector.tolist(), _payload(item))
            for item, vector in zip(items, vectors, strict=False)
        ]
        with self._lock:
            shard = self._ready()
            shard.update(qe.UpdateOperation.upsert_points(points))
            shard.flush()

    def delete(self, ids: list[str]) -> None:
        """See SemanticStore."""
        import qdrant_edge as qe

        with self._lock:
            shard = self._ready()
            shard.update(qe.UpdateOperation.delete_points([str(uuid.UUID(hex=i)) for i in ids]))
            shard.flush()

    def search(self, vector: np.ndarray, scope: SearchScope, limit: int, ids: list[str] | None = None) -> list[Hit]:
        """See SemanticStore."""
        import qdrant_edge as qe

        request = qe.QueryRequest(
            limit=limit,
            query=qe.Query.Nearest(vector.tolist()),
            filter=self._filter(scope, ids),
            params=qe.SearchParams(hnsw_ef=max(HNSW_EF, limit)),
        )
        with self._lock:
            points = self._ready().query(request)
        return [Hit(uuid.UUID(str(point.id)).hex, float(point.score)) for point in points]

    def count(self) -> int:
        """See SemanticStore."""
        with self._lock:
            return int(self._ready().info().points_count)

    def waiting_for_graph(self) -> int:
        """Vectors searched exactly because no graph covers them yet."""
        with self._lock:
            info = self._ready().info()
        return int(info.points_count) - int(info.indexed_vectors_count)

    def optimize(self, force: bool = False) -> bool:
        """See SemanticStore: the graph is built by a child process while this one keeps running."""
        import subprocess
        import sys

        if not force and self.waiting_for_graph() < OPTIMIZE_AFTER:
            return False
        with self._lock:
            self._ready().close()
            self._shard, self.optimizing = None, True
        try:
            subprocess.run(
                [sys.executable, "-c", _OPTIMIZE_CHILD, str(self.path)],
                check=True,
                capture_output=True,
                text=True,
            )
        except subprocess.CalledProcessError as error:
            raise RuntimeError(f"optimizing the vector index failed: {error.stderr.strip()[-300:]}") from error
        finally:
            with self._lock:
                self._shard, self.optimizing = self._open(), False
        return True

    def clear(self) -> None:
        """See SemanticStore."""
        import shutil

        with self._lock:
            self._ready().close()
            shutil.rmtree(self.path, ignore_errors=True)
            self._shard = self._open()

    def close(self) -> None:
        """Flush and release the shard."""
        with self._lock:
            if self._shard is not None:
                self._shard.close()


# The child that builds the graph: it opens the shard this process closed, optimizes, closes it.
_OPTIMIZE_CHILD = "import sys, qdrant_edge as qe; s = qe.EdgeShard.load(sys.argv[1]); s.optimize(); s.close()"


class QdrantClientStore:
    """A Qdrant server (``AZERA_QDRANT_URL``) through qdrant-client; ``":memory:"`` or a path uses its local mode."""

    name = "Qdrant"

    def __init__(self, location: str, dimension: int, collection: str = "memories", api_key: str = "") -> None:
        from qdrant_client import QdrantClient, models

        self.models = models
        self.collection, self.dimension = collection, dimension
        self.remote = location.startswith(("http://", "https://"))
        if self.remote:
            self.client = QdrantClient(url=location, api_key=api_key or None, timeout=5)
        elif location == ":memory:":
            self.client = QdrantClient(location=":memory:")
        else:
            self.client = QdrantClient(path=location)
        self._ensure()

    def _ensure(self) -> None:
        models = self.models
        if not self.client.collection_exists(self.collection):
            self.client.create_collection(
                self.collection,
                vectors_config=models.VectorParams(size=self.dimension, distance=models.Distance.COSINE),
            )
            if self.remote:  # local mode filters in Python and ignores payload indexes
                for field in KEYWORD_FIELDS:
                    self.client.create_payload_index(self.collection, field, models.PayloadSchemaType.KEYWORD)
                self.client.create_payload_index(self.collection, "created_at", models.PayloadSchemaType.FLOAT)

    def _filter(self, scope: SearchScope, ids: list[str] | None = None):
        models = self.models
        must: list = [models.FieldCondition(key="persona_id", match=models.MatchValue(value=scope.persona_id))]
        if ids is not None:
            must.append(models.HasIdCondition(has_id=[str(uuid.UUID(hex=i)) for i in ids]))
        if scope.before is not None or scope.after is not None:
            must.append(models.FieldCondition(key="created_at", range=models.Range(lt=scope.before, gte=scope.after)))
        if scope.kinds:
            must.append(models.FieldCondition(key="kind", match=models.MatchAny(any=list(scope.kinds))))
        if scope.tiers:
            must.append(models.FieldCondition(key="tier", match=models.MatchAny(any=list(scope.tiers))))
        must_not = [models.FieldCondition(key="chat_id", match=models.MatchValue(value=scope.exclude_chat_id))]
        return models.Filter(must=must, must_not=must_not if scope.exclude_chat_id else None)

    def upsert(self, items: list[IndexedMemory], vectors: np.ndarray) -> None:
        """See SemanticStore."""
        points = [
            self.models.PointStruct(id=item.point_id, vector=vector.tolist(), payload=_payload(item))
            for item, vector in zip(items, vectors, strict=False)
        ]
        self.client.upsert(self.collection, points=points, wait=True)

    def delete(self, ids: list[str]) -> None:
        """See SemanticStore."""
        selector = self.models.PointIdsList(points=[str(uuid.UUID(hex=i)) for i in ids])
        self.client.delete(self.collection, points_selector=selector, wait=True)

    def search(self, vector: np.ndarray, scope: SearchScope, limit: int, ids: list[str] | None = None) -> list[Hit]:
        """See SemanticStore."""
        query_filter = self._filter(scope, ids)
        result = self.client.query_points(
            self.collection, query=vector.tolist(), query_filter=query_filter, limit=limit
        )
        return [Hit(uuid.UUID(str(point.id)).hex, float(point.score)) for point in result.points]

    def count(self) -> int:
        """See SemanticStore."""
        return int(self.client.count(self.collection).count)

    def clear(self) -> None:
        """See SemanticStore."""
        self.client.delete_collection(self.collection)
        self._ensure()

    def optimize(self, force: bool = False) -> bool:
        """See SemanticStore: a Qdrant server builds its graphs by itself, in the background."""
        return False
