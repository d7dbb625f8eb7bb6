"""Lexical memory on a Meilisearch server (``AZERA_MEILI_URL``): the same indexes and scopes as the FTS5 default."""

from __future__ import annotations

from azera.memory.lexical import INDEXES
from azera.memory.records import Hit, IndexedMemory, SearchScope


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
