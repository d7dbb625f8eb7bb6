"""Engine, sessions and start-up migrations for the records layer."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from alembic.config import Config
from sqlalchemy import Engine, event
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, create_engine

from alembic import command
from azera.config import PROJECT_ROOT, get_settings

log = logging.getLogger(__name__)
T = TypeVar("T")


def _enable_sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers proceed while a writer commits; FKs are off by default in SQLite.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # A writer waits up to 30 s for another's commit (an import of thousands of items takes seconds).
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """Create an engine for ``url`` with Azera's connection settings."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _enable_sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def engine_for(url: str) -> Engine:
    """One engine (and its connection pool) per database URL."""
    with _engines_lock:
        if url not in _engines:
            _engines[url] = make_engine(url)
        return _engines[url]


def dispose_engines() -> None:
    """Close every pool (tests, and a restore that swaps the database file)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def get_engine() -> Engine:
    """The engine of the configured database (settings changed, another engine: nothing to reset)."""
    return engine_for(get_settings().resolved_database_url)


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except Exception:
            session.rollback()
            raise


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at the repo's migrations and ``url``."""
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(url: str | None = None) -> None:
    """Upgrade the database at ``url`` (default: the configured one) to the newest schema."""
    url = url or get_settings().resolved_database_url
    log.info("applying migrations to %s", url.split("@")[-1])
    command.upgrade(alembic_config(url), "head")


def downgrade(url: str, revision: str = "base") -> None:
    """Downgrade the database at ``url`` to ``revision``."""
    command.downgrade(alembic_config(url), revision)


LOCK_RETRIES = 4


def _locked(error: Exception) -> bool:
    return isinstance(error, OperationalError) and "locked" in str(error.orig if error.orig else error).lower()


def retry_locked(work: Callable[[], T]) -> T:
    """Run ``work`` (one whole transaction), again after a short pause when SQLite said the database is locked.

    SQLite in WAL mode answers "database is locked" at once, without waiting, when a transaction that has
    read wants to write after another writer committed; the transaction was rolled back, so running it
    again is safe. Other errors, and a lock that outlasts the retries, go to the caller.
    """
    for attempt in range(LOCK_RETRIES):
        try:
            return work()
        except OperationalError as error:
            if not _locked(error) or attempt == LOCK_RETRIES - 1:
                raise
            log.warning("the database was locked; trying again (%d of %d)", attempt + 2, LOCK_RETRIES)
            time.sleep(0.1 * 2**attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def _run_in_session(work: Callable[[Session], T]) -> T:
    def once() -> T:
        with session_scope() as session:
            return work(session)

    return retry_locked(once)


async def in_db(work: Callable[[Session], T]) -> T:
    """Run ``work(session)`` in a worker thread inside one committed transaction (never on the event loop)."""
    return await asyncio.to_thread(_run_in_session, work)
