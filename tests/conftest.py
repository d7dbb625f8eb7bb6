"""Shared fixtures: every test gets its own data folder and database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session

from azera.config import get_settings
from azera.db import engine as db_engine
from azera.llm.catalogue import SMALL_MODEL


def _fresh_process_state() -> None:
    """Settings read again, and a new runtime built from them on first use."""
    from azera.runtime import set_runtime

    get_settings.cache_clear()
    set_runtime(None)


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A scratch AZERA_DATA_DIR (and no stray AZERA_* settings from the environment)."""
    import os

    for key in list(os.environ):
        if key.startswith("AZERA_"):
            monkeypatch.delenv(key)
    folder = tmp_path / "data"
    monkeypatch.setenv("AZERA_DATA_DIR", str(folder))
    # Unit tests run the real pipeline on the small model (fast); the default 1.5 B model is tested by name.
    monkeypatch.setenv("AZERA_CHAT_MODEL", SMALL_MODEL)
    monkeypatch.chdir(tmp_path)  # no project .env is read
    _fresh_process_state()
    yield folder
    db_engine.dispose_engines()
    _fresh_process_state()


@pytest.fixture
def prepared(data_dir: Path):
    """A migrated database with the seeded personas, default group and tags."""
    from azera.services.startup import prepare

    return prepare()


@pytest.fixture
def session(prepared) -> Iterator[Session]:
    """A session on the prepared database (committed at the end of the test)."""
    with db_engine.session_scope() as session:
        yield session


@pytest.fixture
def personas_dir() -> Path:
    """The live persona folder of this test's data folder."""
    return get_settings().resolved_personas_dir


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run browser tests last: sync Playwright keeps an event loop running until the session ends."""
    items.sort(key=lambda item: "tests/e2e/" in str(item.path).replace("\\", "/"))
