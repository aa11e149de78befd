"""commitments with owner and due date, focus rotation, team-nudge log, "doesn't apply"

- answer.score may be 0: "doesn't apply to me", recorded (so the person counts as having
  answered) but never part of any figure's n.
- action_item gains owner, due_on and followed_up_at: a commitment from the digest's focus
  (or `/cx act`) is followed up once, at its due date.
- action_item.outcome: what the follow-up measured (JSON), for the "you said, we did" line.
- published_comment.dimension: the dimension a comment was left on, when that dimension had
  enough people to meet the comment rule on its own (else empty), so leaders can filter.
- focus_proposal: the dimension each published week's digest proposed as its focus, so the
  same focus is not proposed more than two weeks running unless someone committed to it.
- team_nudge_sent: a team nudge reaches each lead (or team channel) at most once per
  calendar week, however often the digest is posted.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 12:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import bot.db.types

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _string(length: int | None = None) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def _rebuild_answers(check: str) -> None:
    """A new CHECK on SQLite means a new table; rebuilt by hand, not through a batch, so it
    stays WITHOUT ROWID and is copied in key order (no trace of the order of clicks)."""
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("ck_answer_score_range", "answer", type_="check")
        op.create_check_constraint("ck_answer_score_range", "answer", check)
        return
    op.create_table(
        "answer_new",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("respondent", _string(64), nullable=False),
        sa.Column("question_id", _string(80), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", _string(3000), nullable=True),
        sa.Column("click_order", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(check, name="ck_answer_score_range"),
        sa.ForeignKeyConstraint(["question_id"], ["question.id"]),
        sa.ForeignKeyConstraint(["round_id"], ["pulse_round.id"]),
        sa.PrimaryKeyConstraint("round_id", "respondent", "question_id"),
        sqlite_with_rowid=False,
    )
    op.execute(
        "INSERT INTO answer_new (round_id, respondent, question_id, score, comment, click_order)"
        " SELECT round_id, respondent, question_id, score, comment, click_order FROM answer"
        " ORDER BY round_id, respondent, question_id"
    )
    op.drop_index(op.f("ix_answer_respondent"), table_name="answer")
    op.drop_table("answer")
    op.rename_table("answer_new", "answer")
    op.create_index(op.f("ix_answer_respondent"), "answer", ["respondent"], unique=False)


def upgrade() -> None:
    _rebuild_answers("score BETWEEN 0 AND 5")
    with op.batch_alter_table("action_item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner", _string(32), nullable=True))
        batch_op.add_column(sa.Column("due_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("followed_up_at", bot.db.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("outcome", _string(400), nullable=True))
    with op.batch_alter_table("published_comment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dimension", _string(40), nullable=True))
    op.create_table(
        "focus_proposal",
        sa.Column("period", _string(16), nullable=False),
        sa.Column("dimension", _string(40), nullable=False),
        sa.PrimaryKeyConstraint("period"),
    )
    op.create_table(
        "team_nudge_sent",
        sa.Column("target", _string(32), nullable=False),
        sa.Column("week", _string(16), nullable=False),
        sa.Column("team", _string(120), nullable=False),
        sa.Column("sent_at", bot.db.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("target", "week", "team"),
    )


def downgrade() -> None:
    op.drop_table("team_nudge_sent")
    op.drop_table("focus_proposal")
    with op.batch_alter_table("published_comment", schema=None) as batch_op:
        batch_op.drop_column("dimension")
    with op.batch_alter_table("action_item", schema=None) as batch_op:
        batch_op.drop_column("outcome")
        batch_op.drop_column("followed_up_at")
        batch_op.drop_column("due_on")
        batch_op.drop_column("owner")
    op.execute("DELETE FROM answer WHERE score = 0")
    _rebuild_answers("score BETWEEN 1 AND 5")
