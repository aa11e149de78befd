"""pseudonymous answers: the respondent is an HMAC, with no link back to the delivery

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 06:10:00
"""

import hashlib
import hmac
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import context, op

import bot.db.types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _existing_answers() -> list[sa.Row[tuple[object, ...]]]:
    query = sa.text(
        "SELECT a.question_id, a.score, a.comment, a.created_at, a.updated_at, a.clicked_at,"
        " d.round_id, d.team, d.is_leader, m.slack_user_id"
        " FROM answer a JOIN delivery d ON d.id = a.delivery_id"
        " JOIN member m ON m.id = d.member_id"
    )
    return list(op.get_bind().execute(query).all())


def upgrade() -> None:
    rows = _existing_answers()
    key = context.config.attributes.get("pseudonym_key")
    if rows and not key:
        raise RuntimeError(
            "CX_PSEUDONYM_KEY is needed to move existing answers to pseudonyms; set it and rerun."
        )
    op.drop_table("answer")
    op.create_table(
        "answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("respondent", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("team", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("is_leader", sa.Boolean(), nullable=False),
        sa.Column("question_id", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sqlmodel.sql.sqltypes.AutoString(length=3000), nullable=True),
        sa.Column("created_at", bot.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", bot.db.types.UTCDateTime(), nullable=False),
        sa.Column("clicked_at", bot.db.types.UTCDateTime(), nullable=True),
        sa.CheckConstraint("score BETWEEN 1 AND 5", name="ck_answer_score_range"),
        sa.ForeignKeyConstraint(["question_id"], ["question.id"]),
        sa.ForeignKeyConstraint(["round_id"], ["pulse_round.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("round_id", "respondent", "question_id", name="uq_answer_respondent"),
    )
    with op.batch_alter_table("answer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_answer_question_id"), ["question_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_answer_respondent"), ["respondent"], unique=False)
        batch_op.create_index(batch_op.f("ix_answer_round_id"), ["round_id"], unique=False)
    if rows:
        secret = str(key).encode()
        # Untyped columns: the stored values go back exactly as they were read.
        names = ("round_id", "respondent", "team", "is_leader", "question_id", "score")
        more = ("comment", "created_at", "updated_at", "clicked_at")
        answer = sa.table("answer", *(sa.column(name) for name in names + more))
        op.bulk_insert(
            answer,
            [
                {
                    "round_id": row.round_id,
                    "respondent": hmac.new(
                        secret, str(row.slack_user_id).encode(), hashlib.sha256
                    ).hexdigest(),
                    "team": row.team,
                    "is_leader": row.is_leader,
                    "question_id": row.question_id,
                    "score": row.score,
                    "comment": row.comment,
                    "created_at": row.created_at,
                    "updated_at": row.updated_at,
                    "clicked_at": row.clicked_at,
                }
                for row in rows
            ],
        )


def downgrade() -> None:
    # A pseudonym cannot be turned back into a person: that is the point of it.
    raise RuntimeError("0004 cannot be downgraded: answers no longer say who gave them.")
