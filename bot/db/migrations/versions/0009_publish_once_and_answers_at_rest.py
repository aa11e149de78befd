"""publish closed weeks once into frozen, gated tables; answers that link to nobody at rest

- published_week / published_cell / published_comment: what every output reads for a closed
  week. Weeks whose every round was already purged keep what answer_aggregate held (only the
  groups kept in every round of the week, so sums across rounds stay consistent), and
  answer_aggregate goes.
- answer loses its row id, team, leader flag and timestamps: the primary key is (round,
  pseudonym, question), SQLite stores it in key order (WITHOUT ROWID), and click_order only
  orders one person's own clicks. Imported answers' team and leader flag wait in
  pending_roster until their week is published.
- action_item.created_by and workspace_setting.updated_by may be cleared by forget-me.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 09:00:00.000000
"""

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import bot.db.types

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Aggregates were written by a gate that used the minimum in force at purge time; the
# default is the honest record of it when nothing else is known.
LEGACY_MINIMUM = 5


def _string(length: int | None = None) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def _create_published_tables() -> None:
    op.create_table(
        "published_week",
        sa.Column("period", _string(16), nullable=False),
        sa.Column("published_at", bot.db.types.UTCDateTime(), nullable=False),
        sa.Column("min_group_size", sa.Integer(), nullable=False),
        sa.Column("invited", sa.Integer(), nullable=True),
        sa.Column("respondents", sa.Integer(), nullable=True),
        sa.Column("hidden_teams", sa.Integer(), nullable=False),
        sa.Column("comments_total", sa.Integer(), nullable=False),
        sa.Column("person_share", sa.Float(), nullable=True),
        sa.Column("drivers", _string(), nullable=False),
        sa.Column("atoms", _string(), nullable=False),
        sa.PrimaryKeyConstraint("period"),
    )
    op.create_table(
        "published_cell",
        sa.Column("period", _string(16), nullable=False),
        sa.Column("dimension", _string(40), nullable=False),
        sa.Column("group_kind", _string(16), nullable=False),
        sa.Column("group_name", _string(120), nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        *(sa.Column(f"score_{s}", sa.Integer(), nullable=False) for s in range(1, 6)),
        sa.ForeignKeyConstraint(["period"], ["published_week.period"]),
        sa.PrimaryKeyConstraint("period", "dimension", "group_kind", "group_name"),
    )
    op.create_table(
        "published_comment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", _string(16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", _string(3000), nullable=False),
        sa.Column("author_tag", _string(64), nullable=False),
        sa.ForeignKeyConstraint(["period"], ["published_week.period"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("published_comment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_published_comment_author_tag"), ["author_tag"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_published_comment_period"), ["period"], unique=False)
    op.create_table(
        "posted_digest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", _string(16), nullable=False),
        sa.Column("channel", _string(32), nullable=False),
        sa.Column("ts", _string(32), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("posted_digest", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_posted_digest_period"), ["period"], unique=False)
    op.create_table(
        "round_progress",
        sa.Column("period", _string(16), nullable=False),
        sa.Column("computed_at", bot.db.types.UTCDateTime(), nullable=False),
        sa.Column("share_step", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("period"),
    )
    op.create_table(
        "pending_roster",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("respondent", _string(64), nullable=False),
        sa.Column("team", _string(120), nullable=True),
        sa.Column("is_leader", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["round_id"], ["pulse_round.id"]),
        sa.PrimaryKeyConstraint("round_id", "respondent"),
    )


def _publish_legacy_aggregates(connection: sa.Connection) -> None:
    """Weeks whose every round was purged: their kept aggregates become the published week."""
    rounds = connection.execute(
        sa.text("SELECT id, period, answers_purged_at FROM pulse_round")
    ).all()
    by_period: dict[str, list[int]] = defaultdict(list)
    purged: dict[str, bool] = defaultdict(lambda: True)
    for round_id, period, purged_at in rounds:
        by_period[period].append(round_id)
        purged[period] = purged[period] and purged_at is not None
    rows = connection.execute(
        sa.text(
            "SELECT a.round_id, q.dimension, a.group_kind, a.group_name, a.respondents,"
            " a.score_1, a.score_2, a.score_3, a.score_4, a.score_5"
            " FROM answer_aggregate a JOIN question q ON q.id = a.question_id"
        )
    ).all()
    period_of = {round_id: period for round_id, period, _ in rounds}
    cells: dict[tuple[str, str, str, str], dict[int, list[int]]] = defaultdict(dict)
    for round_id, dimension, kind, name, people, *scores in rows:
        period = period_of[round_id]
        if not purged[period]:
            continue
        key = (period, dimension, kind, name)
        found = cells[key].setdefault(round_id, [0, 0, 0, 0, 0, 0])
        found[0] = max(found[0], people)
        for index, n in enumerate(scores):
            found[index + 1] += n
    now = datetime.now(UTC).replace(tzinfo=None)
    weeks = sorted({key[0] for key in cells})
    for period in weeks:
        connection.execute(
            sa.text(
                "INSERT INTO published_week (period, published_at, min_group_size, invited,"
                " respondents, hidden_teams, comments_total, person_share, drivers, atoms)"
                " VALUES (:period, :now, :minimum, NULL, NULL, 0, 0, NULL, '[]', '{}')"
            ),
            {"period": period, "now": now, "minimum": LEGACY_MINIMUM},
        )
    for (period, dimension, kind, name), per_round in sorted(cells.items()):
        # A group hidden in one round of the week is left out: summed with the other rounds'
        # org cell, a partial sum would be a difference nobody was meant to see.
        if len(per_round) != len(by_period[period]):
            continue
        people = max(found[0] for found in per_round.values())
        totals = [sum(found[i] for found in per_round.values()) for i in range(1, 6)]
        connection.execute(
            sa.text(
                "INSERT INTO published_cell (period, dimension, group_kind, group_name, people,"
                " score_1, score_2, score_3, score_4, score_5) VALUES (:p, :d, :k, :n, :people,"
                " :s1, :s2, :s3, :s4, :s5)"
            ),
            {
                "p": period,
                "d": dimension,
                "k": kind,
                "n": name,
                "people": people,
                **{f"s{i + 1}": n for i, n in enumerate(totals)},
            },
        )


def _rebuild_answers() -> None:
    op.execute(
        "INSERT INTO pending_roster (round_id, respondent, team, is_leader)"
        " SELECT a.round_id, a.respondent, MAX(a.team), MAX(CASE WHEN a.is_leader THEN 1 ELSE 0"
        " END) = 1 FROM answer a JOIN pulse_round r ON r.id = a.round_id"
        " WHERE r.kind = 'imported' GROUP BY a.round_id, a.respondent"
    )
    op.create_table(
        "answer_new",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("respondent", _string(64), nullable=False),
        sa.Column("question_id", _string(80), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", _string(3000), nullable=True),
        sa.Column("click_order", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("score BETWEEN 1 AND 5", name="ck_answer_score_range"),
        sa.ForeignKeyConstraint(["question_id"], ["question.id"]),
        sa.ForeignKeyConstraint(["round_id"], ["pulse_round.id"]),
        sa.PrimaryKeyConstraint("round_id", "respondent", "question_id"),
        sqlite_with_rowid=False,
    )
    # Copied in key order: the old row ids (the order of clicks) are not carried over.
    op.execute(
        "INSERT INTO answer_new (round_id, respondent, question_id, score, comment, click_order)"
        " SELECT round_id, respondent, question_id, score, comment, 0 FROM answer"
        " ORDER BY round_id, respondent, question_id"
    )
    op.drop_table("answer")
    op.rename_table("answer_new", "answer")
    # Not through a batch: on SQLite a batch may copy the table, and the copy would get a rowid.
    op.create_index(op.f("ix_answer_respondent"), "answer", ["respondent"], unique=False)


def upgrade() -> None:
    _create_published_tables()
    _publish_legacy_aggregates(op.get_bind())
    with op.batch_alter_table("answer_aggregate", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_answer_aggregate_round_id"))
    op.drop_table("answer_aggregate")
    _rebuild_answers()
    with op.batch_alter_table("action_item", schema=None) as batch_op:
        batch_op.alter_column("created_by", existing_type=sa.VARCHAR(length=32), nullable=True)
    with op.batch_alter_table("workspace_setting", schema=None) as batch_op:
        batch_op.alter_column("updated_by", existing_type=sa.VARCHAR(length=32), nullable=True)


def downgrade() -> None:
    # One way by design: the rows this revision drops (team, leader flag, click times) are
    # exactly what let an answer be joined to a person, and they cannot be rebuilt.
    raise NotImplementedError("revision 0009 cannot be reverted; restore a backup instead")
