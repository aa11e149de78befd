"""delivery.due_at: each person's DM goes out at their own local pulse time

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db.types

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("due_at", bot.db.types.UTCDateTime(), nullable=True))
    # Deliveries made before this revision were all due when their round opened.
    op.execute(
        "UPDATE delivery SET due_at = "
        "(SELECT pulse_round.opened_at FROM pulse_round WHERE pulse_round.id = delivery.round_id)"
    )
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.alter_column("due_at", existing_type=bot.db.types.UTCDateTime(), nullable=False)
        batch_op.create_index(batch_op.f("ix_delivery_due_at"), ["due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_delivery_due_at"))
        batch_op.drop_column("due_at")
