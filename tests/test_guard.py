"""The front door (azera/api/guard.py) and owner login, on the real API app behind the real guard.

Each test names the attack it reproduces (issue 10's findings): a foreign page, a rebinding Host,
no login, a bad token, an oversized body, malformed JSON.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from azera.api.guard import SESSION_COOKIE, Guard, credentials, csp_for
from azera.api.login import forget_failed_logins
from azera.api.routes import build_api
from azera.config import get_settings
from azera.db.engine import session_scope
from azera.services import auth

BASE = "http://127.0.0.1:3000"
PASSWORD = "correct horse battery"


@pytest.fixture
def client(prepared) -> Iterator[TestClient]:
    credentials.clear()
    forget_failed_logins()
    with TestClient(Guard(build_api(), get_settings()), base_url=BASE, follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def owner(client: TestClient) -> str:
    """Set the owner's password through the one-time link; returns the session cookie."""
    token = auth.setup_token()
    response = client.post("/auth/setup", data={"token": token, "password": PASSWORD, "repeat": PASSWORD})
    assert response.status_code == 303 and response.headers["location"] == "/"
    return response.cookies[SESSION_COOKIE]


@pytest.fixture
def api_token(owner: str) -> str:
    with session_scope() as session:
        return auth.create_api_token(session, "tests")[1]


def test_health_is_public_and_tells_nothing_private(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert response.headers["x-content-type-options"] == "nosniff"


def test_api_without_login_is_401_and_pages_redirect_to_login(client: TestClient, owner: str) -> None:
    client.cookies.clear()
    assert client.get("/api/journal").status_code == 401
    assert client.get("/api/journal").headers["www-authenticate"] == "Bearer"
    page = client.get("/chat/abc", headers={"accept": "text/html"})
    assert page.status_code == 303 and page.headers["location"] == "/login?next=/chat/abc"
    upload = client.post("/_upload", content=b"x")
    assert upload.status_code == 401


def test_session_cookie_and_api_token_open_the_api(client: TestClient, owner: str, api_token: str) -> None:
    client.cookies.clear()
    assert client.get("/api/journal", cookies={SESSION_COOKIE: owner}).status_code == 200
    assert client.get("/api/journal", headers={"authorization": f"Bearer {api_token}"}).status_code == 200
    bad = client.get("/api/journal", headers={"authorization": "Bearer azera_not-a-token"})
    assert bad.status_code == 401 and "not valid" in bad.json()["detail"]


def test_a_revoked_token_stops_working(client: TestClient, api_token: str) -> None:
    client.cookies.clear()
    headers = {"authorization": f"Bearer {api_token}"}
    assert client.get("/api/journal", headers=headers).status_code == 200
    with session_scope() as session:
        auth.revoke_api_token(session, auth.list_api_tokens(session)[0].id)
    credentials.clear()  # what the Settings page and the CLI do after revoking
    assert client.get("/api/journal", headers=headers).status_code == 401


def test_login_with_the_password_and_logout(client: TestClient, owner: str) -> None:
    client.cookies.clear()
    wrong = client.post("/auth/login", data={"password": "nope", "next": "/dreams"})
    assert wrong.status_code == 401 and "not right" in wrong.text
    right = client.post("/auth/login", data={"password": PASSWORD, "next": "/dreams"})
    assert right.status_code == 303 and right.headers["location"] == "/dreams"
    cookie = right.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    session_token = right.cookies[SESSION_COOKIE]
    assert client.get("/api/journal", cookies={SESSION_COOKIE: session_token}).status_code == 200
    out = client.post("/auth/logout", cookies={SESSION_COOKIE: session_token})
    assert out.status_code == 303
    client.cookies.clear()
    assert client.get("/api/journal", cookies={SESSION_COOKIE: session_token}).status_code == 401


def test_login_never_redirects_off_site(client: TestClient, owner: str) -> None:
    for target in ("//evil.example/x", "https://evil.example", "/\\evil.example"):
        response = client.post("/auth/login", data={"password": PASSWORD, "next": target})
        assert response.headers["location"] == "/"


def test_failed_logins_are_rate_limited(client: TestClient, owner: str) -> None:
    codes = [client.post("/auth/login", data={"password": f"guess {n}"}).status_code for n in range(7)]
    assert codes[:5] == [401] * 5 and codes[5:] == [429, 429]
    # even the right password waits until the window has passed
    assert client.post("/auth/login", data={"password": PASSWORD}).status_code == 429


def test_setup_link_works_once_and_only_with_its_token(client: TestClient) -> None:
    assert client.get("/auth/setup", params={"token": "guess"}).status_code == 403
    token = auth.setup_token()
    short = client.post("/auth/setup", data={"token": token, "password": "short", "repeat": "short"})
    assert short.status_code == 400 and "at least 8" in short.text
    assert (
        client.post("/auth/setup", data={"token": token, "password": PASSWORD, "repeat": PASSWORD}).status_code == 303
    )
    assert not (get_settings().data_dir / auth.SETUP_TOKEN_FILE).exists()
    again = client.post("/auth/setup", data={"token": token, "password": "another one!", "repeat": "another one!"})
    assert again.status_code == 403


def test_rebinding_host_is_refused(client: TestClient, owner: str) -> None:
    response = client.get("/health", headers={"host": "evil.example:3000"})
    assert response.status_code == 400 and "AZERA_ALLOWED_HOSTS" in response.json()["detail"]
    assert client.get("/api/journal", headers={"host": "rebind.evil.example"}).status_code == 400
    assert client.get("/health", headers={"host": "localhost:3000"}).status_code == 200
    assert client.get("/health", headers={"host": "[::1]:3000"}).status_code == 200


def test_allowed_hosts_setting_adds_a_name(monkeypatch: pytest.MonkeyPatch, prepared) -> None:
    monkeypatch.setenv("AZERA_ALLOWED_HOSTS", "azera.lan")
    get_settings.cache_clear()
    with TestClient(Guard(build_api(), get_settings()), base_url="http://azera.lan:3000") as lan:
        assert lan.get("/health").status_code == 200


def test_foreign_origin_is_refused_even_with_the_owners_cookie(client: TestClient, owner: str) -> None:
    cookies = {SESSION_COOKIE: owner}
    client.cookies.clear()
    for origin in ("http://evil.example", "http://127.0.0.1:3001", "null"):
        response = client.get("/api/journal", headers={"origin": origin}, cookies=cookies)
        assert response.status_code == 403, origin
        assert "access-control-allow-origin" not in response.headers
    same = client.get("/api/journal", headers={"origin": BASE}, cookies=cookies)
    assert same.status_code == 200


def test_text_plain_post_with_the_cookie_is_refused(client: TestClient, owner: str) -> None:
    """The journal import CSRF: one text/plain POST with the owner's cookie and no Origin header."""
    client.cookies.clear()
    response = client.post(
        "/api/journal/import",
        content=b"## Hi\n\n<iframe srcdoc='<script>alert(1)</script>'></iframe>",
        headers={"content-type": "text/plain"},
        cookies={SESSION_COOKIE: owner},
    )
    assert response.status_code == 415
    listing = client.get("/api/journal", cookies={SESSION_COOKIE: owner}).json()
    assert listing == []


def test_oversized_bodies_are_refused_before_parsing(client: TestClient, api_token: str) -> None:
    headers = {"authorization": f"Bearer {api_token}", "content-type": "application/json"}
    huge = json.dumps({"persona": "azera", "mood": "x" * 2_000_000})
    response = client.post("/api/status/mood", content=huge, headers=headers)
    assert response.status_code == 413 and len(response.content) < 200

    def chunks():
        for _ in range(30):
            yield b"x" * 100_000

    streamed = client.post("/api/status/mood", content=chunks(), headers=headers)
    assert streamed.status_code == 413


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ('{"persona": "azera", "mood": "\\ud800"}', "unicode"),
        ("[" * 100_000 + "]" * 100_000, ""),
    ],
)
def test_malformed_json_is_a_4xx_not_a_500(client: TestClient, api_token: str, body: str, reason: str) -> None:
    headers = {"authorization": f"Bearer {api_token}", "content-type": "application/json"}
    response = client.post("/api/status/mood", content=body.encode(), headers=headers)
    assert 400 <= response.status_code < 500
    assert reason in response.text.lower() and len(response.content) < 5_000


def test_bad_dates_nul_bytes_and_wildcards(client: TestClient, api_token: str) -> None:
    headers = {"authorization": f"Bearer {api_token}"}
    for date in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00"):
        archive = json.dumps([{"content": "A dream of a long corridor of doors.", "date": date}])
        response = client.post("/api/dreams/import", content=archive, headers=headers, params={"filename": "d.json"})
        assert response.status_code == 400 and "out of range" in response.json()["detail"], date
    assert client.get("/api/media/x%00.png", headers=headers).status_code == 404
    ok = json.dumps([{"content": "The orchard was full of lanterns and quiet voices."}])
    assert (
        client.post("/api/dreams/import", content=ok, headers=headers, params={"filename": "d.json"}).status_code == 201
    )
    for wildcard in ("%", "_"):
        found = client.get("/api/dreams/search", params={"q": wildcard}, headers=headers)
        assert found.status_code == 200 and found.json() == [], wildcard


def test_head_is_answered_like_get_without_a_body(client: TestClient, api_token: str) -> None:
    response = client.head("/api/journal", headers={"authorization": f"Bearer {api_token}"})
    assert response.status_code == 200 and response.content == b""
    assert client.head("/health").status_code == 200


def test_api_docs_are_served_from_this_app(client: TestClient, owner: str) -> None:
    docs = client.get("/api/docs", cookies={SESSION_COOKIE: owner})
    assert docs.status_code == 200 and "cdn" not in docs.text.lower()
    assert "/api/docs-static/swagger-ui-bundle.js" in docs.text
    policy = docs.headers["content-security-policy"]
    assert "'unsafe-inline'" not in policy.split("script-src", 1)[1].split(";")[0]
    assert "'sha256-" in policy and "frame-ancestors 'none'" in policy
    bundle = client.get("/api/docs-static/swagger-ui-bundle.js", cookies={SESSION_COOKIE: owner})
    assert bundle.status_code == 200 and len(bundle.content) > 100_000


def test_csp_allows_exactly_the_pages_own_inline_scripts() -> None:
    page = b"<script>one()</script><script src='/x.js'></script><script type='module'>two()</script>"
    policy = csp_for(page)
    assert policy.count("'sha256-") == 2
    assert csp_for(page + b"<script>evil()</script>").count("'sha256-") == 3
    assert "object-src 'none'" in policy and "frame-ancestors 'none'" in policy


def test_auth_off_is_refused_beyond_localhost(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    from azera.config import Settings

    monkeypatch.setenv("AZERA_AUTH", "false")
    monkeypatch.setenv("AZERA_HOST", "0.0.0.0")
    monkeypatch.setenv("AZERA_ALLOW_REMOTE", "true")
    with pytest.raises(ValidationError, match="AZERA_AUTH=false is only allowed"):
        Settings()


def test_unknown_api_routes_and_methods_are_json(client: TestClient, api_token: str) -> None:
    headers = {"authorization": f"Bearer {api_token}"}
    wrong_method = client.get("/api/dreams/import", headers=headers)
    assert wrong_method.status_code == 405 and wrong_method.headers["allow"] == "POST"
    missing = client.get("/api/nothing/here", headers=headers)
    assert missing.status_code == 404 and missing.json()["detail"] == "No API route /api/nothing/here"
