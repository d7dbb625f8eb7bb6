"""sampling overrides on personas and chats

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("persona") as batch:
        batch.add_column(sa.Column("sampling", sa.JSON(), nullable=False, server_default="{}"))
    with op.batch_alter_table("chat") as batch:
        batch.add_column(sa.Column("sampling_override", sa.JSON(), nullable=False, server_default="{}"))


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("chat") as batch:
        batch.drop_column("sampling_override")
    with op.batch_alter_table("persona") as batch:
        batch.drop_column("sampling")
