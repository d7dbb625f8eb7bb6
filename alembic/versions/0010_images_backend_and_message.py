"""pictures: which backend drew them, img2img strength, the chat message that asked for one; a persona's image style

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("persona") as batch:
        batch.add_column(
            sa.Column("image_style", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False, server_default="")
        )
    with op.batch_alter_table("image") as batch:
        batch.add_column(sa.Column("message_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch.add_column(
            sa.Column("backend", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("strength", sa.Float(), nullable=True))
        batch.create_index(batch.f("ix_image_message_id"), ["message_id"], unique=False)
        batch.create_index(batch.f("ix_image_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("image") as batch:
        batch.drop_index(batch.f("ix_image_created_at"))
        batch.drop_index(batch.f("ix_image_message_id"))
        batch.drop_column("strength")
        batch.drop_column("backend")
        batch.drop_column("message_id")
    with op.batch_alter_table("persona") as batch:
        batch.drop_column("image_style")
