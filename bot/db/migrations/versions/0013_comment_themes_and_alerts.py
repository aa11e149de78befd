"""comment themes and sensitive-comment alerts (issue 14)

- published_comment.themes: the dimensions a comment's text speaks to, strongest first,
  tagged once when its week is published (bot.services.themes). Weeks published before stay
  NULL (untagged): what their digests showed never changes.
- published_week.comments_alerted: how many of the week's comments were passed to admins
  instead of being shown ("1 comment was passed to admins"), frozen at publication; 0 before.
- comment_alert: the outbox of those comments on their way to the admins: the week, the
  category and the language; the text (sealed with CX_ENCRYPTION_KEY when one is set) only
  until it is delivered; no round, statement, author or time (bot/db/alerts.py).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-10 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import bot.db.types

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _string(length: int | None = None) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    # Plain ADD COLUMN on both databases: a batch on SQLite would rebuild published_week,
    # whose cells and comments point at it.
    op.add_column("published_comment", sa.Column("themes", _string(400), nullable=True))
    op.add_column(
        "published_week",
        sa.Column("comments_alerted", sa.Integer(), nullable=False, server_default="0"),
    )
    if op.get_bind().dialect.name == "postgresql":
        # The default only filled the weeks already there; the model has none. (SQLite keeps
        # it: it cannot drop a default without rebuilding the table.)
        op.alter_column("published_week", "comments_alerted", server_default=None)
    op.create_table(
        "comment_alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", _string(16), nullable=False),
        sa.Column("category", _string(24), nullable=False),
        sa.Column("language", _string(8), nullable=False),
        sa.Column("delivery_key", _string(32), nullable=False),
        sa.Column("text", _string(3000), nullable=True),
        sa.Column("sealed_text", _string(8000), nullable=True),
        sa.Column("delivered", sa.Boolean(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", _string(64), nullable=True),
        sa.Column("claim_token", _string(36), nullable=True),
        sa.Column("claimed_at", bot.db.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("delivery_key"),
    )
    op.create_index(op.f("ix_comment_alert_period"), "comment_alert", ["period"], unique=False)
    op.create_index(
        op.f("ix_comment_alert_delivered"), "comment_alert", ["delivered"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_comment_alert_delivered"), table_name="comment_alert")
    op.drop_index(op.f("ix_comment_alert_period"), table_name="comment_alert")
    op.drop_table("comment_alert")
    op.drop_column("published_week", "comments_alerted")
    op.drop_column("published_comment", "themes")
