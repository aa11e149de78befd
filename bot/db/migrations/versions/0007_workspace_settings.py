"""workspace settings chosen by admins in App Home; digest snapshots for it

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 19:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import bot.db.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "workspace_setting",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("value", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
        sa.Column("updated_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("updated_at", bot.db.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "digest_snapshot",
        sa.Column("period", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("posted_at", bot.db.types.UTCDateTime(), nullable=False),
        sa.Column("findings", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("period"),
    )
    with op.batch_alter_table("digest_snapshot", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_digest_snapshot_posted_at"), ["posted_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("digest_snapshot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_digest_snapshot_posted_at"))
    op.drop_table("digest_snapshot")
    op.drop_table("workspace_setting")
