from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

import azera.db.models  # noqa: F401  (registers the tables)
from azera.db.engine import downgrade, make_engine, migrate
from tests.postgres import find_bin_dir, running_postgres

TABLES = set(SQLModel.metadata.tables)  # every table the models declare must come from a migration


def _tables(url: str, table: str = "chatmessage") -> tuple[set[str], set[str]]:
    """Table names and one table's columns, on a connection closed straight after (no lock held)."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            inspector = inspect(connection)
            names = set(inspector.get_table_names())
            columns = {c["name"] for c in inspector.get_columns(table)} if table in names else set()
    finally:
        engine.dispose()
    return names, columns


def _round_trip(url: str) -> None:
    migrate(url)
    names, message_columns = _tables(url)
    assert names >= TABLES
    assert {"parent_id", "branch", "role", "content", "thinking", "model", "created_at"} <= message_columns
    downgrade(url, "base")
    assert _tables(url)[0] <= {"alembic_version"}
    migrate(url)  # and up again
    assert _tables(url)[0] >= TABLES


def test_sqlite_upgrade_downgrade_upgrade(tmp_path: Path) -> None:
    _round_trip(f"sqlite:///{tmp_path / 'fresh.db'}")


@pytest.mark.skipif(find_bin_dir() is None, reason="PostgreSQL is not installed (apt-get install postgresql)")
def test_postgresql_upgrade_downgrade_upgrade() -> None:
    with running_postgres() as url:
        _round_trip(url)


@pytest.mark.skipif(find_bin_dir() is None, reason="PostgreSQL is not installed (apt-get install postgresql)")
def test_app_services_work_on_postgresql(monkeypatch: pytest.MonkeyPatch) -> None:
    from azera.config import get_settings
    from azera.db import engine as db_engine
    from azera.services import chats
    from azera.services.startup import prepare

    with running_postgres() as url:
        monkeypatch.setenv("AZERA_DATABASE_URL", url)
        get_settings.cache_clear()
        report = prepare()
        assert sorted(report.seeded) == ["areza", "azera", "protag"]
        with db_engine.session_scope() as session:
            chat = chats.create_chat(session, ai_persona_id="azera", title="On Postgres")
            chats.set_chat_tags(session, chat.id, ["work"])
        with db_engine.session_scope() as session:
            assert [c.title for c in chats.list_chats(session, search="postgres")] == ["On Postgres"]
        db_engine.get_engine().dispose()


def test_models_and_migrations_agree(tmp_path: Path) -> None:
    """A model changed without a migration fails here (Alembic's autogenerate finds a difference)."""
    url = f"sqlite:///{tmp_path / 'drift.db'}"
    migrate(url)
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    finally:
        engine.dispose()
    assert differences == []
