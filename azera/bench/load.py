"""``bench load``: many browser sessions doing ordinary things while replies stream.

Each session is a real socket.io client on Reflex's event channel, logged in as the owner, sending
the event a person sends most (typing in the chat search box: a state change and an SQL search) about
once a second and timing the round trip until its state update comes back. First the sessions run
alone, then the same while ``replies`` chats stream a reply each. The app is a real ``python -m azera
run`` on a scratch data folder (or one already running, for the browser tests); its resident memory
is read from /proc before and after.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx

WORDS = ["tea", "garden", "lighthouse", "cello", "taxes", "bicycle", "sourdough", "chess", "harbour", "sister"]
ROUND_TRIP_TIMEOUT = 30.0
PASSWORD = "bench load owner password"


def _state_name(path: str) -> str:
    import reflex as rx

    module, name = path.rsplit(".", 1)
    return f"{rx.State.get_name()}.{getattr(__import__(module, fromlist=[name]), name).get_name()}"


def _tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and everything below it (MiB)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    tree, frontier = [pid], [pid]
    while frontier:
        frontier = [child for child, parent in parents.items() if parent in frontier]
        tree += frontier
    total = 0
    for member in tree:
        try:
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


class Session:
    """One browser tab's event channel (the browser tests use it too, with headers of their own)."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        import socketio

        self.url, self.headers = url, headers
        self.client = socketio.AsyncClient(reconnection=False)
        self.updates: asyncio.Queue[object] = asyncio.Queue()
        self.client.on("event", self.updates.put_nowait, namespace="/_event")

    @classmethod
    def owner(cls, url: str, cookie: str) -> Session:
        """A tab of the logged-in owner on the app's own page."""
        return cls(url, {"cookie": f"azera_session={cookie}", "origin": url})

    async def connect(self) -> Session:
        """Open the channel as a page does (a fresh client token); raises socketio's ConnectionError if refused."""
        await self.client.connect(
            f"{self.url}?token={uuid.uuid4().hex}",
            headers=self.headers,
            transports=["websocket"],
            socketio_path="/_event",
            namespaces=["/_event"],
            wait_timeout=20,
        )
        return self

    async def send(self, name: str, payload: dict, path: str = "/") -> None:
        """Send one event as the page at ``path`` would."""
        event = {"name": name, "payload": payload, "router_data": {"pathname": path, "query": {}, "asPath": path}}
        await self.client.emit("event", event, namespace="/_event")

    async def round_trip(self, name: str, payload: dict, path: str = "/") -> float:
        """Seconds from sending an event to its state update."""
        while not self.updates.empty():
            self.updates.get_nowait()
        begin = time.perf_counter()
        await self.send(name, payload, path)
        await asyncio.wait_for(self.updates.get(), ROUND_TRIP_TIMEOUT)
        return time.perf_counter() - begin


async def _phase(sessions: list[Session], search: str, seconds: float) -> tuple[list[float], int]:
    samples: list[float] = []
    errors = 0
    end = time.monotonic() + seconds

    async def ordinary(session: Session, rng: random.Random) -> None:
        nonlocal errors
        while time.monotonic() < end:
            try:
                samples.append(await session.round_trip(search, {"value": rng.choice(WORDS)}))
            except Exception:  # a timeout or a dropped connection: counted, and the session goes on
                errors += 1
            await asyncio.sleep(rng.uniform(0.5, 1.5))

    await asyncio.gather(*(ordinary(s, random.Random(n)) for n, s in enumerate(sessions)))
    return samples, errors


def _percentiles(samples: list[float]) -> dict[str, float]:
    if not samples:
        return {"n": 0, "p50_ms": 0.0, "p99_ms": 0.0}
    ordered = sorted(samples)
    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000, 1),
    }


def _event_names() -> dict[str, str]:
    """Full event names, as the browser sends them (named in the caller's thread: it needs Reflex's context)."""
    chat_list = _state_name("azera.state.chats.ChatState")
    conversation = _state_name("azera.state.conversation.ConversationState")
    return {"search": f"{chat_list}.set_search", "load": f"{conversation}.load_page", "send": f"{conversation}.send"}


async def _measure(
    url: str, cookie: str, chat_ids: list[str], names: dict[str, str], *, sessions: int, seconds: float, pid: int
) -> dict:
    search, load_chat, send = names["search"], names["load"], names["send"]
    rss = {"start": _tree_rss_mb(pid)}
    tabs = [Session.owner(url, cookie) for _ in range(sessions)]
    await asyncio.gather(*(tab.connect() for tab in tabs))
    idle, idle_errors = await _phase(tabs, search, seconds)
    rss["after_idle"] = _tree_rss_mb(pid)
    writers = [Session.owner(url, cookie) for _ in chat_ids]
    for writer, chat_id in zip(writers, chat_ids, strict=True):
        await writer.connect()
        await writer.round_trip(load_chat, {}, f"/chat/{chat_id}")
        message = {"form_data": {"message": "Tell me a long story about a lighthouse."}}
        await writer.send(send, message, f"/chat/{chat_id}")
    await asyncio.sleep(2)  # the replies are under way
    busy, busy_errors = await _phase(tabs, search, seconds)
    rss["after_streaming"] = _tree_rss_mb(pid)  # the chat model is loaded by now
    await asyncio.sleep(seconds)  # let the replies end
    again, again_errors = await _phase(tabs, search, seconds)
    rss["after_idle_again"] = _tree_rss_mb(pid)
    for tab in [*tabs, *writers]:
        await tab.client.disconnect()
    return {
        "idle": _percentiles(idle) | {"errors": idle_errors},
        "while_streaming": _percentiles(busy) | {"errors": busy_errors},
        "idle_again": _percentiles(again) | {"errors": again_errors},
        "rss_mb": {name: round(value) for name, value in rss.items()},
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_app(data: Path) -> tuple[str, subprocess.Popen]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AZERA_")}
    env.update(AZERA_DATA_DIR=str(data), AZERA_FRONTEND_PORT=str(port), AZERA_BACKEND_PORT=str(port))
    log = open(data / "bench-load-app.log", "w")  # noqa: SIM115  (the app writes to it until it stops)
    process = subprocess.Popen(
        [sys.executable, "-m", "azera", "run"], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 420
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the app exited: see {data / 'bench-load-app.log'}")
        try:
            if (
                httpx.get(url + "/health", timeout=2).status_code == 200
                and httpx.get(url + "/login").status_code == 200
            ):
                return url, process
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise RuntimeError("the app did not start in 7 minutes")


def stop_app(process: subprocess.Popen | None) -> None:
    """Stop a scratch app started by a benchmark (killed if it does not stop in 30 s: it may be mid-reply)."""
    if process is None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def _owner_cookie(url: str, data: Path) -> str:
    token = (data / "owner-setup-token").read_text().strip()
    reply = httpx.post(url + "/auth/setup", data={"token": token, "password": PASSWORD, "repeat": PASSWORD})
    return reply.cookies["azera_session"]


def bench_load(
    *, sessions: int = 50, replies: int = 2, seconds: float = 60.0, url: str = "", cookie: str = "", pid: int = 0
) -> dict[str, object]:
    """Round trips of ``sessions`` tabs: idle, while ``replies`` replies stream, idle again; the app's RSS after each.

    Without ``url`` a fresh app is started on a scratch folder (and stopped afterwards).
    """
    from azera.bench import scratch_settings
    from azera.db.engine import session_scope
    from azera.services import chats

    process = None
    if not url:
        data = Path(scratch_settings("azera-load-"))
        url, process = _start_app(data)
        cookie, pid = _owner_cookie(url, data), process.pid
    try:
        with session_scope() as session:
            chat_ids = [chats.create_chat(session, ai_persona_id="azera").id for _ in range(replies)]
        names = _event_names()
        measure = _measure(url, cookie, chat_ids, names, sessions=sessions, seconds=seconds, pid=pid)
        with concurrent.futures.ThreadPoolExecutor(1) as pool:  # a caller may have an event loop running
            figures = pool.submit(asyncio.run, measure).result()
    finally:
        stop_app(process)
    return {
        "sessions": sessions,
        "replies": replies,
        "seconds_per_phase": seconds,
        "chats": chat_ids,
        **figures,
    }
