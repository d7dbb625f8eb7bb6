"""``python -m azera run`` keeps the app up: a killed app process is started again; SIGTERM stops everything."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from azera.config import PROJECT_ROOT

CHILD = """
import os, sys, time
with open(sys.argv[1], "a") as f:
    f.write(f"{os.getpid()}\\n")
time.sleep(120)
"""


def _pids(path: Path) -> list[int]:
    return [int(line) for line in path.read_text().split()] if path.exists() else []


def _wait_for(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_a_killed_app_is_started_again_and_sigterm_stops_it(tmp_path: Path) -> None:
    (tmp_path / "child.py").write_text(CHILD)
    started = tmp_path / "started.txt"
    supervisor = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from azera.cli.app import supervise; "
            f"sys.exit(supervise([sys.executable, {str(tmp_path / 'child.py')!r}, {str(started)!r}], {{}}))",
        ],
        stderr=subprocess.PIPE,
        text=True,
        cwd=PROJECT_ROOT,
    )
    try:
        _wait_for(lambda: len(_pids(started)) == 1)
        os.kill(_pids(started)[0], signal.SIGKILL)  # as an out-of-memory kill would
        _wait_for(lambda: len(_pids(started)) == 2)
        second = _pids(started)[1]
        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(timeout=20) == 0
        _wait_for(lambda: subprocess.run(["kill", "-0", str(second)], capture_output=True).returncode != 0)
        assert "stopped unexpectedly (exit -9); starting it again in 1 s" in supervisor.stderr.read()
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
