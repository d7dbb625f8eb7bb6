"""A local server that speaks Meilisearch's HTTP API (the calls Azera makes), for adapter tests.

No Meilisearch binary can be installed on the build machines. This follows the documented API:
indexes, settings, documents (add-or-replace, delete-batch, delete-all), asynchronous tasks,
search with ``filter`` / ``limit`` / ``showRankingScore``, stats, and its error objects.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager

from tests.local_server import JsonHandler, serve

CLAUSE = re.compile(r"^(\w+)\s*(=|!=|<|>|IN)\s*(.+)$")


class MeiliState:
    """Indexes, tasks and the API key the fake server holds."""

    def __init__(self, api_key: str = "") -> None:
        self.api_key = api_key
        self.indexes: dict[str, dict] = {}
        self.tasks: dict[int, dict] = {}
        self.searches: list[dict] = []


def _parse_value(raw: str):
    raw = raw.strip()
    if raw.startswith("["):
        return [json.loads(item) for item in re.findall(r'"(?:[^"\\]|\\.)*"', raw)]
    if raw.startswith('"'):
        return json.loads(raw)
    return float(raw)


def _matches(document: dict, expression: str, filterable: list[str]) -> bool:
    for clause in expression.split(" AND "):
        found = CLAUSE.match(clause.strip())
        if not found:
            raise ValueError(f"invalid filter clause `{clause}`")
        field, op, raw = found.groups()
        if field not in filterable:
            raise KeyError(field)
        value, actual = _parse_value(raw), document.get(field)
        ok = {
            "=": actual == value,
            "!=": actual != value,
            "<": actual is not None and actual < value,
            ">": actual is not None and actual > value,
            "IN": actual in value if isinstance(value, list) else False,
        }[op]
        if not ok:
            return False
    return True


class _Handler(JsonHandler):
    state: MeiliState

    def _send(self, status: int, payload: object) -> None:
        self.send_json(status, payload)

    def _error(self, status: int, code: str, message: str) -> None:
        self._send(
            status,
            {
                "message": message,
                "code": code,
                "type": "invalid_request",
                "link": f"https://docs.meilisearch.com/errors#{code}",
            },
        )

    def _task(self, index: str, kind: str, error: dict | None = None) -> None:
        uid = len(self.state.tasks)
        self.state.tasks[uid] = {
            "uid": uid,
            "indexUid": index,
            "type": kind,
            "status": "failed" if error else "succeeded",
            "error": error,
        }
        self._send(
            202,
            {
                "taskUid": uid,
                "indexUid": index,
                "status": "enqueued",
                "type": kind,
                "enqueuedAt": "2026-11-23T10:00:00Z",
            },
        )

    def _body(self):
        return self.read_json()

    def _authorised(self) -> bool:
        if self.state.api_key and self.headers.get("Authorization") != f"Bearer {self.state.api_key}":
            self._error(403, "invalid_api_key", "The provided API key is invalid.")
            return False
        return True

    def _route(self, method: str) -> None:
        body = self._body()
        if self.path == "/health":
            return self._send(200, {"status": "available"})
        if not self._authorised():
            return None
        parts = [p for p in self.path.split("/") if p]
        if parts[:1] == ["tasks"] and len(parts) == 2:
            task = self.state.tasks.get(int(parts[1]))
            return self._send(200, task) if task else self._error(404, "task_not_found", "Task not found.")
        if parts == ["indexes"] and method == "POST":
            self.state.indexes.setdefault(body["uid"], {"docs": {}, "filterable": [], "searchable": ["*"]})
            return self._task(body["uid"], "indexCreation")
        if parts[:1] != ["indexes"] or len(parts) < 2:
            return self._error(404, "not_found", "Not found.")
        index = self.state.indexes.get(parts[1])
        if index is None:
            return self._error(404, "index_not_found", f"Index `{parts[1]}` not found.")
        rest = parts[2:]
        if rest == [] and method == "GET":
            return self._send(200, {"uid": parts[1], "primaryKey": "id"})
        if rest == ["settings"] and method == "PATCH":
            index["filterable"] = list(body.get("filterableAttributes", index["filterable"]))
            index["searchable"] = list(body.get("searchableAttributes", index["searchable"]))
            return self._task(parts[1], "settingsUpdate")
        if rest == ["documents"] and method == "POST":
            for document in body:
                index["docs"][document["id"]] = document
            return self._task(parts[1], "documentAdditionOrUpdate")
        if rest == ["documents"] and method == "DELETE":
            index["docs"].clear()
            return self._task(parts[1], "documentDeletion")
        if rest == ["documents", "delete-batch"] and method == "POST":
            for document_id in body:
                index["docs"].pop(document_id, None)
            return self._task(parts[1], "documentDeletion")
        if rest == ["stats"]:
            return self._send(200, {"numberOfDocuments": len(index["docs"]), "isIndexing": False})
        if rest == ["search"] and method == "POST":
            return self._search(index, body)
        return self._error(404, "not_found", "Not found.")

    def _search(self, index: dict, body: dict) -> None:
        self.state.searches.append(body)
        words = set(re.findall(r"\w+", body.get("q", "").lower()))
        hits = []
        for document in index["docs"].values():
            try:
                if body.get("filter") and not _matches(document, body["filter"], index["filterable"]):
                    continue
            except KeyError as missing:
                return self._error(400, "invalid_search_filter", f"Attribute `{missing.args[0]}` is not filterable.")
            except ValueError as error:
                return self._error(400, "invalid_search_filter", str(error))
            fields = ["text"] if index["searchable"] == ["*"] else index["searchable"]
            # Like Meilisearch's attribute ranking rule: a word in an earlier attribute counts more.
            score, seen = 0.0, set()
            for rank, field in enumerate(fields):
                found = (words & set(re.findall(r"\w+", str(document.get(field, "")).lower()))) - seen
                score += len(found) / max(len(words), 1) / (rank + 1)
                seen |= found
            if score > 0:
                hits.append(
                    {**document, "_rankingScore": round(score, 4)} if body.get("showRankingScore") else document
                )
        hits.sort(key=lambda hit: -hit.get("_rankingScore", 0))
        limit = body.get("limit", 20)
        return self._send(
            200,
            {
                "hits": hits[:limit],
                "query": body.get("q", ""),
                "limit": limit,
                "estimatedTotalHits": len(hits),
                "processingTimeMs": 1,
            },
        )

    def do_GET(self) -> None:  # noqa: N802 (http.server names)
        self._route("GET")

    def do_POST(self) -> None:  # noqa: N802 (http.server names)
        self._route("POST")

    def do_PATCH(self) -> None:  # noqa: N802 (http.server names)
        self._route("PATCH")

    def do_DELETE(self) -> None:  # noqa: N802 (http.server names)
        self._route("DELETE")


@contextmanager
def meili_server(api_key: str = "") -> Iterator[tuple[str, MeiliState]]:
    """Run the server on a free loopback port; yields its URL and state."""
    state = MeiliState(api_key)
    with serve(_Handler, state) as url:
        yield url, state
