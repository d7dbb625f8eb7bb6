"""indexes for memory lookups by message and by indexing state

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24

Without them, finding the memory of a message and the next memories waiting to be indexed scanned the
whole memory table: with 100k memories a re-index ran slower at every batch.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("memory") as batch:
        batch.create_index(batch.f("ix_memory_message_id"), ["message_id"], unique=False)
        batch.create_index(batch.f("ix_memory_indexed_at"), ["indexed_at"], unique=False)


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("memory") as batch:
        batch.drop_index(batch.f("ix_memory_indexed_at"))
        batch.drop_index(batch.f("ix_memory_message_id"))
