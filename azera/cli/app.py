"""Starting and checking the app: run, doctor, migrate."""

from __future__ import annotations

import argparse
import json
import os
import sys

from azera.config import PROJECT_ROOT, get_settings


def _reflex_env() -> dict[str, str]:
    """Environment for the Reflex CLI: caches inside the project, no telemetry, local bun."""
    env = dict(os.environ)
    env.setdefault("REFLEX_TELEMETRY_ENABLED", "false")
    env.setdefault("REFLEX_CHECK_LATEST_VERSION", "false")
    env.setdefault("REFLEX_DIR", str(PROJECT_ROOT / ".reflex"))
    env.setdefault("BUN_INSTALL_CACHE_DIR", str(PROJECT_ROOT / ".tools" / "bun-cache"))
    bun = PROJECT_ROOT / ".tools" / "node_modules" / ".bin" / "bun"
    if bun.exists():
        env.setdefault("REFLEX_BUN_PATH", str(bun))
    return env


def cmd_run(args: argparse.Namespace) -> int:
    """Start the app (production build by default, dev mode with --dev)."""
    settings = get_settings()
    env = _reflex_env()
    command = [sys.executable, "-m", "reflex", "run", "--backend-host", settings.host]
    if args.dev:
        command += ["--env", "dev", "--frontend-port", str(settings.frontend_port)]
        command += ["--backend-port", str(settings.backend_port)]
    else:
        # Production serves the compiled pages and the backend on one port.
        env["AZERA_BACKEND_PORT"] = str(settings.frontend_port)
        command += ["--env", "prod", "--single-port", "--frontend-port", str(settings.frontend_port)]
    print(f"Azera starting on http://{settings.host}:{settings.frontend_port}", flush=True)
    if args.dev:  # hot reload restarts on its own; a crash there is for the developer to see
        os.chdir(PROJECT_ROOT)
        os.execve(sys.executable, command, env)
    return supervise(command, env)


RESTART_BACKOFF = (1, 2, 5, 10, 30, 60)  # seconds before each further restart
STABLE_SECONDS = 120  # up this long: the next crash starts the back-off again


def supervise(command: list[str], env: dict[str, str]) -> int:
    """Run the app and start it again (with back-off, logged) whenever it dies; stop it on SIGTERM or Ctrl+C.

    One crash is not an outage: an out-of-memory kill of the server process ends ``reflex run`` too.
    """
    import signal
    import subprocess
    import time

    stopping = False
    child: subprocess.Popen | None = None

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    failures = 0
    while True:
        started = time.monotonic()
        child = subprocess.Popen(command, env=env, cwd=PROJECT_ROOT)
        code = child.wait()
        if stopping or code == 0:
            return 0 if stopping else code
        failures = 1 if time.monotonic() - started > STABLE_SECONDS else failures + 1
        pause = RESTART_BACKOFF[min(failures, len(RESTART_BACKOFF)) - 1]
        print(f"Azera stopped unexpectedly (exit {code}); starting it again in {pause} s", file=sys.stderr, flush=True)
        time.sleep(pause)
        if stopping:
            return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    """Print each layer's implementation and status; exit 1 if a required layer is broken."""
    from azera.doctor import run_checks

    results = run_checks()
    if args.json:
        print(json.dumps([result.__dict__ for result in results], indent=2))
    else:
        for result in results:
            mark = "OK     " if result.ok else ("BROKEN " if result.required else "problem")
            print(f"{mark} {result.layer:<16} {result.implementation:<30} {result.detail}")
    return 1 if any(result.required and not result.ok for result in results) else 0


def cmd_migrate(_args: argparse.Namespace) -> int:
    """Apply database migrations."""
    from azera.db.engine import migrate

    get_settings().ensure_dirs()
    migrate()
    print("database is at the newest schema")
    return 0
