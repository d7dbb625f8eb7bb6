"""Owner login: plain HTML forms served by the backend (no script), so they work before any session exists.

``/auth/setup?token=…`` sets the owner's password with the one-time link printed at start-up;
``/login`` logs in (failed attempts are rate-limited per address); ``/auth/logout`` ends the session.
"""

from __future__ import annotations

import html
import logging
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from limits import RateLimitItemPerHour, RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from azera.api.guard import SESSION_COOKIE, credentials
from azera.db.engine import in_db
from azera.errors import ServiceError
from azera.services import auth

log = logging.getLogger(__name__)
FAILURES_PER_MINUTE = RateLimitItemPerMinute(5)
FAILURES_PER_HOUR = RateLimitItemPerHour(30)
_failures = MemoryStorage()
_limiter = MovingWindowRateLimiter(_failures)
MAX_FORM_BYTES = 8_192

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Azera · {title}</title>
<style>
body {{ background: #111113; color: #eeeef0; font-family: system-ui, sans-serif; display: grid;
       place-items: center; min-height: 100vh; margin: 0; }}
form, .card {{ background: #19191b; border: 1px solid #2e2e32; border-radius: 14px; padding: 28px;
              width: 340px; display: grid; gap: 12px; }}
h1 {{ margin: 0 0 4px; font-size: 1.6rem; color: #a78bfa; }}
input {{ padding: 10px; border-radius: 8px; border: 1px solid #3a3a40; background: #111113; color: inherit; }}
button {{ padding: 10px; border-radius: 8px; border: 0; background: #7c3aed; color: white; font-weight: 600;
          cursor: pointer; }}
.error {{ color: #ff8b8b; }} .hint {{ color: #9b9ba1; font-size: .9rem; }} code {{ color: #c4b5fd; }}
</style></head><body>{body}</body></html>"""


def forget_failed_logins() -> None:
    """Start counting failed logins afresh (tests)."""
    _failures.reset()


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(PAGE.format(title=html.escape(title), body=body), status_code=status)


def _safe_next(target: str) -> str:
    """Only a path on this site (never ``//host`` or a scheme): no open redirect."""
    return target if target.startswith("/") and not target.startswith(("//", "/\\")) else "/"


async def _form(request: Request) -> dict[str, str]:
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return {}
    fields = parse_qs(body.decode("utf-8", "replace"), max_num_fields=10)
    return {key: values[0] for key, values in fields.items()}


def _login_form(next_path: str, error: str = "") -> str:
    message = f'<p class="error" id="login-error">{html.escape(error)}</p>' if error else ""
    return (
        '<form method="post" action="/auth/login"><h1>Azera</h1>'
        f'<p class="hint">Log in as the owner.</p>{message}'
        '<input type="password" name="password" id="password" placeholder="Password" autofocus required>'
        f'<input type="hidden" name="next" value="{html.escape(next_path)}">'
        '<button type="submit" id="login">Log in</button></form>'
    )


def _setup_form(token: str, error: str = "") -> str:
    message = f'<p class="error" id="setup-error">{html.escape(error)}</p>' if error else ""
    return (
        '<form method="post" action="/auth/setup"><h1>Welcome to Azera</h1>'
        f'<p class="hint">Choose the owner\'s password (at least {auth.MIN_PASSWORD} characters). '
        f"You will use it to log in from this browser and others.</p>{message}"
        '<input type="password" name="password" id="password" placeholder="Password" autofocus required>'
        '<input type="password" name="repeat" id="repeat" placeholder="Password again" required>'
        f'<input type="hidden" name="token" value="{html.escape(token)}">'
        '<button type="submit" id="set-password">Set password and open Azera</button></form>'
    )


def _with_session(response: Response, token: str, request: Request) -> Response:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=auth.SESSION_DAYS * 86400,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


NO_OWNER = (
    '<div class="card"><h1>Azera</h1><p>Nobody owns this Azera yet.</p><p class="hint">Open the one-time link '
    "printed in the console where Azera started, or print it again with "
    "<code>python -m azera owner link</code>.</p></div>"
)


def add_login_routes(api: FastAPI) -> None:
    """``/login``, ``/auth/login``, ``/auth/setup`` and ``/auth/logout``."""

    @api.get("/login", include_in_schema=False)
    async def login_page(next: str = "/") -> HTMLResponse:
        if not await in_db(auth.owner_exists):
            return _page("Set up", NO_OWNER)
        return _page("Log in", _login_form(_safe_next(next)))

    @api.post("/auth/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        form = await _form(request)
        next_path = _safe_next(form.get("next", "/"))
        address = request.client.host if request.client else "unknown"
        if not all(_limiter.test(limit, "login", address) for limit in (FAILURES_PER_MINUTE, FAILURES_PER_HOUR)):
            log.warning("login from %s refused: too many failed attempts", address)
            return _page("Log in", _login_form(next_path, "Too many failed attempts: wait a minute."), 429)
        password = form.get("password", "")
        if not await in_db(lambda session: auth.password_matches(session, password)):
            for limit in (FAILURES_PER_MINUTE, FAILURES_PER_HOUR):
                _limiter.hit(limit, "login", address)
            log.warning("failed login from %s", address)
            return _page("Log in", _login_form(next_path, "That password is not right."), 401)
        token = await in_db(auth.start_session)
        return _with_session(RedirectResponse(next_path, status_code=303), token, request)

    @api.get("/auth/setup", include_in_schema=False)
    async def setup_page(token: str = "") -> Response:
        if await in_db(auth.owner_exists):
            return RedirectResponse("/login", status_code=303)
        if not auth.setup_token_matches(token):
            return _page("Set up", NO_OWNER, 403)
        return _page("Set up", _setup_form(token))

    @api.post("/auth/setup", include_in_schema=False)
    async def setup(request: Request) -> Response:
        form = await _form(request)
        token = form.get("token", "")
        if await in_db(auth.owner_exists) or not auth.setup_token_matches(token):
            return _page("Set up", NO_OWNER, 403)

        def create(session) -> str:
            auth.check_new_password(form.get("password", ""), form.get("repeat", ""))
            auth.set_owner_password(session, form["password"])
            return auth.start_session(session)

        try:
            session_token = await in_db(create)
        except ServiceError as error:
            return _page("Set up", _setup_form(token, str(error)), 400)
        auth.forget_setup_token()
        log.info("the owner's password is set")
        return _with_session(RedirectResponse("/", status_code=303), session_token, request)

    @api.post("/auth/logout", include_in_schema=False)
    async def logout(request: Request) -> Response:
        token = request.cookies.get(SESSION_COOKIE, "")
        if token:
            await in_db(lambda session: auth.end_session(session, token))
            credentials.forget(token)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response
