"""CX kudos (issue 14)

- kudos: one thank-you for what someone did for a customer, posted to the kudos channel and
  DMed to its recipient; giver and recipient are Slack user IDs (cleared by forget-me), the
  recipient's team is kept as it was that day for the digest's per-team counts, and a giver
  thanks the same person at most once a day (uq_kudos_once_a_day).
- kudos_opt_out: people who asked not to be named in kudos posts or the digest.
- kudos_quote: the story each week's digest quotes, fixed the first time it is chosen.

Nothing here refers to answers, pseudonyms or rounds: kudos are public recognition and are
never joined to survey answers.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-10 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import bot.db.types

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _string(length: int | None = None) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "kudos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("giver", _string(32), nullable=True),
        sa.Column("recipient", _string(32), nullable=True),
        sa.Column("recipient_team", _string(120), nullable=True),
        sa.Column("story", _string(3000), nullable=False),
        sa.Column("source", _string(16), nullable=False),
        sa.Column("given_on", sa.Date(), nullable=False),
        sa.Column("period", _string(16), nullable=False),
        sa.Column("created_at", bot.db.types.UTCDateTime(), nullable=False),
        sa.Column("channel", _string(32), nullable=True),
        sa.Column("ts", _string(32), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("giver", "recipient", "given_on", name="uq_kudos_once_a_day"),
    )
    op.create_index(op.f("ix_kudos_giver"), "kudos", ["giver"], unique=False)
    op.create_index(op.f("ix_kudos_recipient"), "kudos", ["recipient"], unique=False)
    op.create_index(op.f("ix_kudos_period"), "kudos", ["period"], unique=False)
    op.create_table(
        "kudos_opt_out",
        sa.Column("slack_user_id", _string(32), nullable=False),
        sa.Column("since", bot.db.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("slack_user_id"),
    )
    op.create_table(
        "kudos_quote",
        sa.Column("period", _string(16), nullable=False),
        sa.Column("kudos_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["kudos_id"], ["kudos.id"]),
        sa.PrimaryKeyConstraint("period"),
    )


def downgrade() -> None:
    op.drop_table("kudos_quote")
    op.drop_table("kudos_opt_out")
    op.drop_index(op.f("ix_kudos_period"), table_name="kudos")
    op.drop_index(op.f("ix_kudos_recipient"), table_name="kudos")
    op.drop_index(op.f("ix_kudos_giver"), table_name="kudos")
    op.drop_table("kudos")
