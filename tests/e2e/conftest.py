"""Start the real app (production build) on a free port and drive it with headless Chromium."""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from azera.config import PROJECT_ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = PROJECT_ROOT / "test-artifacts"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(autouse=True)
def data_dir() -> Iterator[None]:
    """Browser tests use the app's own data folder (set per session below), not the unit-test one."""
    yield None


@pytest.fixture(scope="session")
def app_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The running app's data folder."""
    return tmp_path_factory.mktemp("e2e-data")


@pytest.fixture(scope="session")
def app_env(app_data: Path) -> dict[str, str]:
    """The environment the app runs with (CLI commands run beside it with the same one)."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AZERA_")}
    env.update(AZERA_DATA_DIR=str(app_data), AZERA_FRONTEND_PORT=str(port), AZERA_BACKEND_PORT=str(port))
    env["AZERA_MEMORY_MIN_AGE_SECONDS"] = "0"  # recall what was said seconds ago (default: 60 s)
    env["AZERA_MAX_REPLY_TOKENS"] = "200"  # shorter replies keep the suite quick; stop still has time
    if importlib.util.find_spec("diffusers"):  # the Canvas draws with a tiny random-weight pipeline
        from azera.bench.tiny_pipeline import build_tiny_pipeline

        env["AZERA_IMAGE_MODEL"] = str(build_tiny_pipeline(app_data.parent / "tiny-sd"))
        env.update(AZERA_IMAGE_CHAT_SIZE="64", AZERA_IMAGE_CHAT_STEPS="2")  # a reply that draws costs nothing
    return env


@pytest.fixture(scope="session")
def app_url(app_server: tuple[str, subprocess.Popen]) -> str:
    """URL of a running Azera with a scratch data folder."""
    return app_server[0]


@pytest.fixture(scope="session")
def app_server(app_env: dict[str, str]) -> Iterator[tuple[str, subprocess.Popen]]:
    """The running app: its URL and its supervising process (``python -m azera run``)."""
    if not os.path.exists(CHROMIUM):
        pytest.skip("Chromium is not installed (Debian package 'chromium'); scripts/test.sh installs it")
    env = app_env
    port = int(env["AZERA_FRONTEND_PORT"])
    ARTIFACTS.mkdir(exist_ok=True)
    log_path = ARTIFACTS / "e2e-app.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "azera", "run"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, process, log_path)
        yield url, process
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def wait_ready(url: str, process: subprocess.Popen, log_path: Path, timeout: float = 420) -> None:
    """Until the app answers its health check and serves the login page (the frontend is built)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the app exited early:\n{log_path.read_text()[-3000:]}")
        try:
            # The page answers once the frontend is built (before login it redirects to /login).
            if (
                httpx.get(url + "/health", timeout=2).status_code == 200
                and httpx.get(url + "/login", timeout=2).status_code == 200
            ):
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise RuntimeError(f"the app did not start within {timeout}s:\n{log_path.read_text()[-3000:]}")


OWNER_PASSWORD = "e2e owner password"


@pytest.fixture(scope="session")
def owner_cookie(app_url: str, app_data: Path) -> str:
    """Become the owner the way a person does: the one-time setup link from the data folder, then a password."""
    token = (app_data / "owner-setup-token").read_text().strip()
    response = httpx.post(
        app_url + "/auth/setup", data={"token": token, "password": OWNER_PASSWORD, "repeat": OWNER_PASSWORD}
    )
    assert response.status_code == 303, response.text
    return response.cookies["azera_session"]


def owner_headers(owner_cookie: str) -> dict[str, str]:
    """Headers for an HTTP call made as the logged-in owner."""
    return {"cookie": f"azera_session={owner_cookie}"}


@pytest.fixture(scope="session")
def browser():
    """A headless Debian Chromium driven by Playwright (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, request: pytest.FixtureRequest, app_url: str, owner_cookie: str):
    """A fresh browser page logged in as the owner; a screenshot is saved under test-artifacts/ after each test."""
    context = browser.new_context(viewport={"width": 1400, "height": 850})
    context.add_cookies([{"name": "azera_session", "value": owner_cookie, "url": app_url}])
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"))
    context.close()


def open_chat_page(page, url: str) -> None:
    """Go to the chat page and wait until its state has arrived (the sidebar's groups come from the backend)."""
    from playwright.sync_api import expect

    page.goto(url + "/")
    expect(page.locator(".group-section").first).to_be_visible(timeout=20_000)


def new_chat(page, url: str) -> str:
    """Start a chat from the sidebar; returns its id."""
    import re

    from playwright.sync_api import expect

    open_chat_page(page, url)
    page.click("#new-chat")
    expect(page).to_have_url(re.compile(r"/chat/[0-9a-f]{32}$"), timeout=20_000)
    return page.url.rsplit("/chat/", 1)[1]


def click_until_written(page, button: str, cards, *, tries: int = 6, timeout: float = 120.0) -> None:
    """Click a "write now" button until one more card appears.

    A small model sometimes writes nothing usable (nothing is saved, the page says "Nothing written this
    time", and the tick loop would retry later), so the test clicks again, up to ``tries`` times; each
    attempt ends when a card appears or the page says nothing was written.
    """
    from playwright.sync_api import expect

    nothing = page.get_by_text("Nothing written this time")
    reasons = []
    for _ in range(tries):
        expect(page.locator(button)).to_be_enabled(timeout=timeout * 1000)
        before, refusals = cards.count(), nothing.count()
        page.click(button)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if cards.count() > before:
                return
            if nothing.count() > refusals:
                reasons.append(nothing.last.inner_text())
                break
            page.wait_for_timeout(500)
        else:
            reasons.append(f"no card within {timeout:.0f} s")
    raise AssertionError(f"{button}: nothing written in {tries} tries: {reasons}")
