"""voice samples stand on their own: a name, a length; a persona uses one through its voice

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24

The first schema tied a sample to one persona and stored its path; no version of Azera ever wrote a row.
A sample is now ``<data>/media/voice-samples/<name>.wav`` and a persona names it in its voice
(``xtts:<name>``), so the table is made anew.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("voicesample") as batch:
        batch.drop_index(batch.f("ix_voicesample_persona_id"))
    op.drop_table("voicesample")
    op.create_table(
        "voicesample",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )


def downgrade() -> None:
    """Revert this migration."""
    op.drop_table("voicesample")
    op.create_table(
        "voicesample",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("persona_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("path", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["persona_id"], ["persona.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("persona_id", "name"),
    )
    with op.batch_alter_table("voicesample") as batch:
        batch.create_index(batch.f("ix_voicesample_persona_id"), ["persona_id"], unique=False)
