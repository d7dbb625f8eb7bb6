"""the OpenAI-protocol conversation a chat holds

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24

``/v1/chat/completions`` finds the chat of a client's conversation by this key: the client's ``user``, or a
digest of the conversation so far.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("chat") as batch:
        batch.add_column(sa.Column("client_key", sa.String(length=80), nullable=True))
        batch.create_index(batch.f("ix_chat_client_key"), ["client_key"], unique=True)


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("chat") as batch:
        batch.drop_index(batch.f("ix_chat_client_key"))
        batch.drop_column("client_key")
