"""Start a throwaway PostgreSQL server (Debian's binaries) for tests."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager


def find_bin_dir() -> str | None:
    """The folder holding initdb/pg_ctl, or None when PostgreSQL is not installed."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if candidates:
        return os.path.dirname(candidates[0])
    found = shutil.which("initdb")
    return os.path.dirname(found) if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_postgres() -> Iterator[str]:
    """Yield a SQLAlchemy URL for a fresh server; stopped and removed afterwards."""
    bin_dir = find_bin_dir()
    assert bin_dir, "PostgreSQL is not installed"
    root = tempfile.mkdtemp(prefix="azera-pg-")
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        shutil.chown(root, user="postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    data = os.path.join(root, "data")
    run = lambda *args: subprocess.run([*as_user, *args], check=True, capture_output=True)  # noqa: E731
    run(f"{bin_dir}/initdb", "-D", data, "-A", "trust", "-U", "postgres")
    # -l sends the server's output to a file: an inherited pipe would never reach EOF.
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1"
    run(f"{bin_dir}/pg_ctl", "-D", data, "-l", os.path.join(root, "server.log"), "-o", options, "-w", "start")
    try:
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_user, f"{bin_dir}/pg_ctl", "-D", data, "-m", "fast", "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)
