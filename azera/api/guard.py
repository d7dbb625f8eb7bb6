"""The app's front door: one ASGI middleware in front of pages, the websocket, uploads and the API.

Threat model: other users of this machine and any web page the owner visits. In order, every
request and websocket must pass:

1. **Host**: only the names in ``Settings.hosts`` (DNS rebinding gets a 400);
2. **Origin**: a browser request from another origin (another port counts) is refused with 403;
3. **login**: a valid owner session cookie, or an API token as ``Authorization: Bearer`` on ``/api``
   and ``/v1``; pages redirect to ``/login``, the rest answers 401;
4. **CSRF**: a state-changing API call made with the cookie must be JSON (a ``text/plain`` form post
   from a foreign page never is);
5. **size**: the body is capped before it is read (1 MB by default; uploads and imports have more).

Responses get ``nosniff``, ``Referrer-Policy``, ``frame-ancestors 'none'`` and, on HTML pages, a
Content-Security-Policy that allows exactly the inline scripts the page itself carries (by hash).
HEAD is answered like GET without a body.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import quote

from azera.config import Settings, get_settings
from azera.db.engine import in_db
from azera.services import auth

log = logging.getLogger(__name__)
Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SESSION_COOKIE = "azera_session"
PUBLIC_PATHS = {"/health", "/login", "/auth/login", "/auth/setup", "/favicon.ico", "/ping", "/_health"}
API_PREFIXES = ("/api/", "/v1/")
DEFAULT_BODY_LIMIT = 1_000_000
BODY_LIMITS = (  # (path pattern, bytes): uploads and archive imports carry files
    (re.compile(r"^/_upload$"), 60_000_000),
    (re.compile(r"^/api/(dreams|journal)/import$"), 6_000_000),
    (re.compile(r"^/api/documents$"), 11_000_000),
    (re.compile(r"^/api/import$"), 1_000_000_000),
    (re.compile(r"^/api/personas/cards$"), 20_000_000),
    (re.compile(r"^/api/chats/import$"), 50_000_000),
    (re.compile(r"^/api/voice-samples/upload$"), 11_000_000),
    (re.compile(r"^/api/stt/transcribe$"), 28_000_000),
    (re.compile(r"^/api/images/upload-reference$"), 21_000_000),
)
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
CACHE_SECONDS = 30.0
SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.DOTALL | re.IGNORECASE)
# Reflex runs the JavaScript its server events carry (toasts, clipboard) through eval, so 'unsafe-eval'
# stays; inline scripts are allowed only by the hash of each one the served page itself contains.
CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-eval'{hashes}; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; media-src 'self' blob:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-src 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]


def _headers(scope: Scope) -> dict[str, str]:
    return {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope.get("headers", [])}


def host_name(host_header: str) -> str:
    """The host part of a Host header (lower case, without the port; IPv6 keeps its brackets)."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def origin_allowed(origin: str, host_header: str, settings: Settings) -> bool:
    """Same origin as the request's Host, or one of the allowed origins."""
    origin = origin.strip().lower().rstrip("/")
    if origin in settings.origins:
        return True
    return origin in (f"http://{host_header.lower()}", f"https://{host_header.lower()}")


def body_limit(path: str) -> int:
    """The most bytes a request to ``path`` may send."""
    return next((limit for pattern, limit in BODY_LIMITS if pattern.match(path)), DEFAULT_BODY_LIMIT)


def csp_for(body: bytes) -> str:
    """The Content-Security-Policy of an HTML page: its own inline scripts, by hash, and nothing else."""
    hashes = {
        "'sha256-" + base64.b64encode(hashlib.sha256(match.group(1)).digest()).decode() + "'"
        for match in SCRIPT.finditer(body)
    }
    return CSP.format(hashes="".join(" " + h for h in sorted(hashes)))


class _Credentials:
    """Checks session cookies and API tokens, caching good answers briefly (SQL runs in a thread)."""

    def __init__(self) -> None:
        self._good: dict[str, float] = {}

    def forget(self, token: str) -> None:
        """A session ended or a token was revoked: stop trusting the cached answer."""
        self._good.pop(auth.digest(token), None)

    def clear(self) -> None:
        """Forget every cached answer (tokens revoked, password changed)."""
        self._good.clear()

    async def valid(self, token: str, *, api_token: bool) -> bool:
        key = auth.digest(token)
        now = time.time()
        if self._good.get(key, 0) > now:
            return True
        if api_token:
            ok = await in_db(lambda session: auth.api_token_valid(session, token))
            until = now + CACHE_SECONDS if ok else 0
        else:
            expiry = await in_db(lambda session: auth.session_expiry(session, token))
            ok, until = expiry is not None, min(expiry or 0, now + CACHE_SECONDS)
        if ok:
            self._good[key] = until
        return ok


credentials = _Credentials()


async def _respond(
    send: Send, status: int, detail: str, headers: list[tuple[bytes, bytes]] = (), *, openai: bool = False
) -> None:
    """A refusal: ``{"detail": …}``, or OpenAI's error shape for ``/v1`` (its clients show that message)."""
    if openai:
        kind = "authentication_error" if status == 401 else "invalid_request_error"
        code = "invalid_api_key" if status == 401 else None
        body = json.dumps({"error": {"message": detail, "type": kind, "param": None, "code": code}}).encode()
    else:
        body = json.dumps({"detail": detail}).encode()
    start = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *headers]
    await send({"type": "http.response.start", "status": status, "headers": start + SECURITY_HEADERS})
    await send({"type": "http.response.body", "body": body})


async def _redirect(send: Send, location: str) -> None:
    headers = [(b"location", location.encode("latin-1", "replace")), (b"content-length", b"0")]
    await send({"type": "http.response.start", "status": 303, "headers": headers + SECURITY_HEADERS})
    await send({"type": "http.response.body", "body": b""})


class Guard:
    """The ASGI middleware described in the module docstring."""

    def __init__(self, app: ASGIApp, settings: Settings | None = None) -> None:
        self.app = app
        self.settings = settings or get_settings()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the request, then pass it on (or answer it with the refusal)."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        refusal = await self._refusal(scope, headers)
        if refusal is not None:
            status, detail = refusal
            log.info("refused %s %s: %s", scope.get("method", "websocket"), scope.get("path", ""), detail)
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008, "reason": detail[:100]})
            elif status == 303:
                await _redirect(send, detail)
            else:
                extra = [(b"www-authenticate", b"Bearer")] if status == 401 else []
                await _respond(send, status, detail, extra, openai=scope.get("path", "").startswith("/v1/"))
            return
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        await self._http(scope, headers, receive, send)

    async def _refusal(self, scope: Scope, headers: dict[str, str]) -> tuple[int, str] | None:
        """Why this request may not go on (status, reason; 303 carries the login URL), or None."""
        host = headers.get("host", "")
        if host_name(host) not in self.settings.hosts:
            return 400, f"Unknown Host '{host[:100]}': add it to AZERA_ALLOWED_HOSTS to serve it"
        origin = headers.get("origin")
        if origin is not None and not origin_allowed(origin, host, self.settings):
            return 403, f"Requests from the origin '{origin[:100]}' are not allowed (AZERA_ALLOWED_ORIGINS)"
        path = scope.get("path", "")
        method = scope.get("method", "GET")
        if method == "OPTIONS" or not self.settings.auth or path in PUBLIC_PATHS:
            return None
        is_api = path.startswith(API_PREFIXES)
        bearer = headers.get("authorization", "")
        if is_api and bearer.lower().startswith("bearer "):
            if await credentials.valid(bearer[7:].strip(), api_token=True):
                return None
            return 401, "The API token is not valid (revoked or mistyped)"
        cookie = SimpleCookie()
        try:
            cookie.load(headers.get("cookie", ""))
        except Exception:  # a malformed cookie header is the same as none
            cookie = SimpleCookie()
        token = cookie[SESSION_COOKIE].value if SESSION_COOKIE in cookie else ""
        if token and await credentials.valid(token, api_token=False):
            if is_api and method not in SAFE_METHODS and "json" not in headers.get("content-type", ""):
                return 415, "Send JSON (Content-Type: application/json), or use an API token"
            return None
        if scope["type"] == "http" and method in ("GET", "HEAD") and not is_api:
            target = path + ("?" + scope["query_string"].decode("latin-1") if scope.get("query_string") else "")
            return 303, "/login?next=" + quote(target, safe="/")
        return 401, "Log in first, or send an API token as 'Authorization: Bearer …'"

    async def _http(self, scope: Scope, headers: dict[str, str], receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        limit = body_limit(path)
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await _respond(send, 413, f"The request body is larger than {limit:,} bytes")
            return
        head = scope.get("method") == "HEAD"
        if head:
            scope = dict(scope, method="GET")
        if head or "text/html" in headers.get("accept", ""):
            # Pages come as plain bytes we can read (uncompressed, not handed to the server as a file path),
            # so that their inline scripts can be hashed into the CSP and HEAD can drop the body.
            extensions = {k: v for k, v in scope.get("extensions", {}).items() if k != "http.response.pathsend"}
            plain = [(k, v) for k, v in scope["headers"] if k.lower() != b"accept-encoding"]
            scope = dict(scope, headers=plain, extensions=extensions)
        received = 0
        refused = False

        async def counted_receive() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit and not refused:
                    # Answer 413 ourselves and tell the app the client left: whatever it says next is dropped.
                    refused = True
                    if not started:
                        await _respond(send, 413, f"The request body is larger than {limit:,} bytes")
                    return {"type": "http.disconnect"}
            return message

        started = False
        pending: Message | None = None
        html_body = bytearray()

        async def guarded_send(message: Message) -> None:
            nonlocal started, pending
            if refused:
                return
            if message["type"] == "http.response.start":
                started = True
                extra = list(SECURITY_HEADERS)
                content_type = dict(message.get("headers", [])).get(b"content-type", b"")
                if b"text/html" in content_type and not head:
                    pending = dict(message, headers=[*message.get("headers", []), *extra])
                    return
                await send(dict(message, headers=[*message.get("headers", []), *extra]))
                return
            if message["type"] == "http.response.pathsend" and (pending is not None or head):
                # A file the server would send by path: read it, so it can be hashed (HTML) or dropped (HEAD).
                message = {
                    "type": "http.response.body",
                    "body": await asyncio.to_thread(Path(message["path"]).read_bytes),
                }
            if message["type"] == "http.response.body":
                if pending is not None:
                    html_body.extend(message.get("body", b""))
                    if message.get("more_body"):
                        return
                    csp = csp_for(bytes(html_body)).encode()
                    await send(dict(pending, headers=[*pending["headers"], (b"content-security-policy", csp)]))
                    pending = None
                    await send({"type": "http.response.body", "body": bytes(html_body)})
                    return
                if head:
                    if not message.get("more_body"):
                        await send({"type": "http.response.body", "body": b""})
                    return
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not refused:
                raise


def guard(app: ASGIApp) -> ASGIApp:
    """Wrap the whole backend (Reflex's ``api_transformer`` hook)."""
    return Guard(app)
