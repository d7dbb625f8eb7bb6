"""schemathesis over the whole OpenAPI, in process: no response is a 5xx, and every status is documented.

The app runs on the real llama.cpp backend with its own scratch data folder; models installed beside the
packages are hidden from it (the run may delete any model it lists). The browser suite runs schemathesis
again through the login guard, against the running app (tests/e2e/test_security.py).
"""

import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import uvicorn

from azera.api.routes import build_api
from azera.llm import catalogue

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
ST = shutil.which("st", path=str(Path(sys.executable).parent))
MODEL_WRITING = ["/api/journal/trigger", "/api/dreams/trigger"]  # each call writes a dream or an entry: own tests


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.skipif(ST is None, reason="schemathesis is installed by requirements-dev.txt")
def test_every_route_answers_documented_statuses_and_never_a_server_error(
    prepared, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZERA_MEMORY_MIN_AGE_SECONDS", "0")
    monkeypatch.setattr(catalogue, "installed_dir", lambda: tmp_path / "installed-models")
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(build_api(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.1)
    command = [
        str(ST),
        "run",
        f"http://127.0.0.1:{port}/api/openapi.json",
        "--checks",
        "not_a_server_error,status_code_conformance",
        "--max-examples",
        "15",
        "--seed",
        "20261124",
        "--generation-database",
        "none",
        "--no-color",
    ]
    for path in MODEL_WRITING:
        command += ["--exclude-path", path]
    try:
        run = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=tmp_path)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
    summary = run.stdout[-3000:]
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "schemathesis-in-process.txt").write_text(run.stdout + run.stderr)
    assert run.returncode == 0, summary
    assert " 0 passed" not in summary and "generated" in summary
