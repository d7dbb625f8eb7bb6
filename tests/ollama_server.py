"""A small local server that speaks Ollama's HTTP API (the calls Azera uses), for adapter tests.

No Ollama binary can be installed on the build machines; this follows the documented wire
format: JSON bodies, NDJSON streams with chunked transfer encoding, ``{"error": …}`` replies.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager

from tests.local_server import JsonHandler, serve

EMBED_DIM = 8


def _model(name: str, family: str, size: int) -> dict:
    return {
        "name": name,
        "model": name,
        "modified_at": "2026-11-01T10:00:00.000000Z",
        "size": size,
        "digest": "sha256:" + f"{abs(hash(name)):x}".ljust(64, "0")[:64],
        "details": {
            "parent_model": "",
            "format": "gguf",
            "family": family,
            "families": [family],
            "parameter_size": "1B",
            "quantization_level": "Q4_0",
        },
    }


class OllamaState:
    """What the fake server has installed, and what it was asked."""

    def __init__(self) -> None:
        self.models = {
            "llama3.2:1b": _model("llama3.2:1b", "llama", 1_300_000_000),
            "nomic-embed-text:latest": _model("nomic-embed-text:latest", "nomic-bert", 274_000_000),
        }
        self.pullable = {"qwen2.5:0.5b": ("qwen2", 397_000_000)}
        self.chat_requests: list[dict] = []
        self.token_delay = 0.0


class _Handler(JsonHandler):
    state: OllamaState

    def _body(self) -> dict:
        return self.read_json({}) or {}

    def _json(self, status: int, payload: dict | None) -> None:
        self.send_json(status, payload, "application/json; charset=utf-8")

    def _stream(self, lines: Iterator[dict], *, break_after: int | None = None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for count, line in enumerate(lines):
            if break_after is not None and count >= break_after:
                self.wfile.flush()
                self.connection.shutdown(2)  # the server dies mid-stream
                self.close_connection = True
                return
            chunk = (json.dumps(line) + "\n").encode()
            self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")

    def do_GET(self) -> None:  # noqa: N802 (http.server names)
        if self.path == "/api/tags":
            self._json(200, {"models": list(self.state.models.values())})
        elif self.path in ("/", "/api/version"):
            self._json(200, {"version": "0.12.0"})
        else:
            self._json(404, {"error": "not found"})

    def do_DELETE(self) -> None:  # noqa: N802 (http.server names)
        body = self._body()
        name = body.get("model") or body.get("name")
        if self.path != "/api/delete":
            self._json(404, {"error": "not found"})
        elif name in self.state.models:
            del self.state.models[name]
            self._json(200, None)
        else:
            self._json(404, {"error": f"model '{name}' not found"})

    def do_POST(self) -> None:  # noqa: N802 (http.server names)
        body = self._body()
        handler = {"/api/chat": self._chat, "/api/pull": self._pull, "/api/embed": self._embed}.get(self.path)
        if handler is None:
            self._json(404, {"error": "not found"})
        else:
            handler(body)

    def _chat(self, body: dict) -> None:
        name = body.get("model", "")
        if name not in self.state.models:
            self._json(404, {"error": f'model "{name}" not found, try pulling it first'})
            return
        self.state.chat_requests.append(body)
        last_user = next((m["content"] for m in reversed(body["messages"]) if m["role"] == "user"), "")
        words = ["<think>", "user ", "asks ", "</think>", "You ", "said: ", *[w + " " for w in last_user.split()]]
        limit = body.get("options", {}).get("num_predict") or len(words)

        def lines() -> Iterator[dict]:
            for word in words[:limit]:
                time.sleep(self.state.token_delay)
                yield {
                    "model": name,
                    "created_at": "2026-11-23T10:00:00Z",
                    "message": {"role": "assistant", "content": word},
                    "done": False,
                }
            yield {
                "model": name,
                "created_at": "2026-11-23T10:00:01Z",
                "message": {"role": "assistant", "content": ""},
                "done": True,
                "done_reason": "stop",
                "total_duration": 1000,
                "eval_count": len(words),
            }

        self._stream(lines(), break_after=3 if name.startswith("crashy") else None)

    def _pull(self, body: dict) -> None:
        name = body.get("model") or body.get("name", "")
        if name not in self.state.pullable:
            self._stream(iter([{"status": "pulling manifest"}, {"error": "pull model manifest: file does not exist"}]))
            return
        family, size = self.state.pullable[name]

        def lines() -> Iterator[dict]:
            yield {"status": "pulling manifest"}
            for done in range(0, size + 1, size // 4):
                yield {"status": "pulling 1a2b3c", "digest": "sha256:1a2b3c", "total": size, "completed": done}
            self.state.models[name] = _model(name, family, size)
            yield {"status": "verifying sha256 digest"}
            yield {"status": "success"}

        self._stream(lines())

    def _embed(self, body: dict) -> None:
        name = body.get("model", "")
        if name not in self.state.models:
            self._json(404, {"error": f'model "{name}" not found, try pulling it first'})
            return
        inputs = body.get("input")
        texts = [inputs] if isinstance(inputs, str) else list(inputs or [])
        vectors = [[((len(text) + i) % 7) / 7 for i in range(EMBED_DIM)] for text in texts]
        self._json(200, {"model": name, "embeddings": vectors})


@contextmanager
def ollama_server() -> Iterator[tuple[str, OllamaState]]:
    """Run the server on a free loopback port; yields its URL and state."""
    state = OllamaState()
    with serve(_Handler, state) as url:
        yield url, state
