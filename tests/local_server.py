"""What the protocol servers of the tests share (Ollama, Meilisearch): JSON handling and a loopback server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class JsonHandler(BaseHTTPRequestHandler):
    """A quiet HTTP/1.1 handler that reads and writes JSON; ``state`` is the server's shared state."""

    protocol_version = "HTTP/1.1"
    state: Any

    def log_message(self, *args: object) -> None:  # quiet
        return

    def read_json(self, default: Any = None) -> Any:
        """The request body as JSON (``default`` when there is none)."""
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length)) if length else default

    def send_json(self, status: int, payload: object, content_type: str = "application/json") -> None:
        """One JSON response (None: an empty body)."""
        data = json.dumps(payload).encode() if payload is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@contextmanager
def serve(handler: type[JsonHandler], state: Any) -> Iterator[str]:
    """Run ``handler`` with ``state`` on a free loopback port; yields the server's URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), type("Handler", (handler,), {"state": state}))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
