"""confidential replies (issue 14): comments apart from answers, the relay link, audit log

- pending_comment: the comments of weeks not yet published, apart from the answers: a random
  id, the round and the statement, never a respondent, stored in id order (WITHOUT ROWID on
  SQLite). Existing `answer.comment` values of unpublished weeks move here, under new random
  ids, inserted in id order; those of published weeks were copied to `published_comment` when
  their week was published, and are not copied again.
- answer loses `comment`: rebuilt by hand on SQLite (still WITHOUT ROWID, copied in key
  order), the column dropped on PostgreSQL (run `VACUUM FULL answer` afterwards there: the old
  row versions keep the dropped column's bytes until vacuumed).
- published_comment loses `author_tag` (a keyed hash of the author: with CX_PSEUDONYM_KEY it
  named them) and its sequential id: every comment gets a random id, assigned in random order.
  Comments published before this revision are therefore linked to nobody at all: not even
  `/cx forget-me` can find them any more.
- reply_link (the only link from an opted-in comment to its author: Fernet ciphertext under
  CX_ENCRYPTION_KEY), reply_thread (a leader's conversation about a comment), relay_message
  (what waits to be passed on, at a random delay) and reply_audit (every leader reply, for
  admins). None of them exists for comments made before this revision: none was opted in.

Downgrading drops the reply tables, gives `published_comment` back its integer ids and an
author tag that links to nobody, and gives `answer` back an empty `comment` column. The
comments of weeks not yet published are lost on the way down: nothing ties them to an answer
any more, by design.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-10 09:00:00.000000
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import bot.db.types

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID_LENGTH = 32


def _string(length: int | None = None) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def _random_id() -> str:
    return secrets.token_hex(ID_LENGTH // 2)


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


# --- answers without comments ---------------------------------------------------------------


def _answer_table(name: str, *, with_comment: bool) -> None:
    columns = [
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("respondent", _string(64), nullable=False),
        sa.Column("question_id", _string(80), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
    ]
    if with_comment:
        columns.append(sa.Column("comment", _string(3000), nullable=True))
    op.create_table(
        name,
        *columns,
        sa.Column("click_order", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("score BETWEEN 0 AND 5", name="ck_answer_score_range"),
        sa.ForeignKeyConstraint(["question_id"], ["question.id"]),
        sa.ForeignKeyConstraint(["round_id"], ["pulse_round.id"]),
        sa.PrimaryKeyConstraint("round_id", "respondent", "question_id"),
        sqlite_with_rowid=False,
    )


def _rebuild_answers(*, with_comment: bool) -> None:
    """SQLite: a new table by hand, not through a batch (a batch's copy would get a rowid),
    copied in key order so it keeps no trace of the order of clicks."""
    if not _sqlite():
        if with_comment:
            op.add_column("answer", sa.Column("comment", _string(3000), nullable=True))
        else:
            op.drop_column("answer", "comment")
        return
    _answer_table("answer_new", with_comment=with_comment)
    op.execute(
        "INSERT INTO answer_new (round_id, respondent, question_id, score, click_order)"
        " SELECT round_id, respondent, question_id, score, click_order FROM answer"
        " ORDER BY round_id, respondent, question_id"
    )
    op.drop_index(op.f("ix_answer_respondent"), table_name="answer")
    op.drop_table("answer")
    op.rename_table("answer_new", "answer")
    op.create_index(op.f("ix_answer_respondent"), "answer", ["respondent"], unique=False)


def _move_unpublished_comments(connection: sa.Connection) -> None:
    found = connection.execute(
        sa.text(
            "SELECT a.round_id, a.question_id, a.comment FROM answer a"
            " JOIN pulse_round r ON r.id = a.round_id"
            " WHERE a.comment IS NOT NULL AND a.comment <> ''"
            " AND r.period NOT IN (SELECT period FROM published_week)"
        )
    ).all()
    rows = sorted(
        (
            {"id": _random_id(), "round_id": round_id, "question_id": question_id, "text": text}
            for round_id, question_id, text in found
        ),
        key=lambda row: str(row["id"]),
    )
    if rows:
        connection.execute(
            sa.text(
                "INSERT INTO pending_comment (id, round_id, question_id, text)"
                " VALUES (:id, :round_id, :question_id, :text)"
            ),
            rows,
        )


# --- published comments ---------------------------------------------------------------------


def _published_rows(connection: sa.Connection) -> list[tuple[str, int, str, str | None]]:
    query = "SELECT period, position, text, dimension FROM published_comment ORDER BY position"
    return [(p, int(n), t, d) for p, n, t, d in connection.execute(sa.text(query)).all()]


def _drop_published(*, with_tag: bool) -> None:
    if with_tag:
        op.drop_index(op.f("ix_published_comment_author_tag"), table_name="published_comment")
    op.drop_index(op.f("ix_published_comment_period"), table_name="published_comment")
    op.drop_table("published_comment")


def _published_ids_at_random(connection: sa.Connection) -> None:
    rows = _published_rows(connection)
    _drop_published(with_tag=True)
    op.create_table(
        "published_comment",
        sa.Column("id", _string(ID_LENGTH), nullable=False),
        sa.Column("period", _string(16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", _string(3000), nullable=False),
        sa.Column("dimension", _string(40), nullable=True),
        sa.ForeignKeyConstraint(["period"], ["published_week.period"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_published_comment_period"), "published_comment", ["period"], unique=False
    )
    # Inserted in the order of their new random ids: neither the storage order nor an id says
    # in which order anything was written.
    values = sorted(
        (
            {"id": _random_id(), "period": p, "position": n, "text": t, "dimension": d}
            for p, n, t, d in rows
        ),
        key=lambda row: str(row["id"]),
    )
    if values:
        connection.execute(
            sa.text(
                "INSERT INTO published_comment (id, period, position, text, dimension)"
                " VALUES (:id, :period, :position, :text, :dimension)"
            ),
            values,
        )


def _published_ids_sequential(connection: sa.Connection) -> None:
    rows = _published_rows(connection)
    _drop_published(with_tag=False)
    op.create_table(
        "published_comment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", _string(16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", _string(3000), nullable=False),
        sa.Column("author_tag", _string(64), nullable=False),
        sa.Column("dimension", _string(40), nullable=True),
        sa.ForeignKeyConstraint(["period"], ["published_week.period"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_published_comment_author_tag"), "published_comment", ["author_tag"], unique=False
    )
    op.create_index(
        op.f("ix_published_comment_period"), "published_comment", ["period"], unique=False
    )
    values = [
        # A random tag: the comment links to nobody, as it did after the upgrade.
        {"period": p, "position": n, "text": t, "tag": secrets.token_hex(32), "dimension": d}
        for p, n, t, d in rows
    ]
    if values:
        connection.execute(
            sa.text(
                "INSERT INTO published_comment (period, position, text, author_tag, dimension)"
                " VALUES (:period, :position, :text, :tag, :dimension)"
            ),
            values,
        )


# --- the reply relay ------------------------------------------------------------------------


def _create_reply_tables() -> None:
    op.create_table(
        "reply_link",
        sa.Column("id", _string(ID_LENGTH), nullable=False),
        sa.Column("comment_id", _string(ID_LENGTH), nullable=False),
        sa.Column("sealed", _string(1000), nullable=False),
        sa.Column("expires_at", bot.db.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sqlite_with_rowid=False,
    )
    op.create_index(op.f("ix_reply_link_comment_id"), "reply_link", ["comment_id"], unique=True)
    op.create_index(op.f("ix_reply_link_expires_at"), "reply_link", ["expires_at"], unique=False)
    op.create_table(
        "reply_thread",
        sa.Column("id", _string(ID_LENGTH), nullable=False),
        sa.Column("comment_id", _string(ID_LENGTH), nullable=False),
        sa.Column("period", _string(16), nullable=False),
        sa.Column("leader", _string(32), nullable=False),
        sa.Column("leader_channel", _string(32), nullable=True),
        sa.Column("leader_ts", _string(32), nullable=True),
        sa.Column("opened_at", bot.db.types.UTCDateTime(), nullable=False),
        sa.Column("expires_at", bot.db.types.UTCDateTime(), nullable=False),
        sa.Column("closed", _string(16), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_reply_thread_comment_id"), "reply_thread", ["comment_id"], unique=True)
    op.create_index(op.f("ix_reply_thread_leader"), "reply_thread", ["leader"], unique=False)
    op.create_index(op.f("ix_reply_thread_leader_ts"), "reply_thread", ["leader_ts"], unique=False)
    op.create_index(op.f("ix_reply_thread_period"), "reply_thread", ["period"], unique=False)
    op.create_table(
        "relay_message",
        sa.Column("id", _string(ID_LENGTH), nullable=False),
        sa.Column("thread_id", _string(ID_LENGTH), nullable=False),
        sa.Column("to_author", sa.Boolean(), nullable=False),
        sa.Column("kind", _string(16), nullable=False),
        sa.Column("text", _string(3000), nullable=True),
        sa.Column("due_at", bot.db.types.UTCDateTime(), nullable=False),
        sa.Column("claim_token", _string(36), nullable=True),
        sa.Column("claimed_at", bot.db.types.UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sqlite_with_rowid=False,
    )
    op.create_index(op.f("ix_relay_message_due_at"), "relay_message", ["due_at"], unique=False)
    op.create_index(
        op.f("ix_relay_message_thread_id"), "relay_message", ["thread_id"], unique=False
    )
    op.create_table(
        "reply_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("thread_id", _string(ID_LENGTH), nullable=False),
        sa.Column("leader", _string(32), nullable=False),
        sa.Column("period", _string(16), nullable=False),
        sa.Column("sent_at", bot.db.types.UTCDateTime(), nullable=False),
        sa.Column("text", _string(3000), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_reply_audit_leader"), "reply_audit", ["leader"], unique=False)
    op.create_index(op.f("ix_reply_audit_sent_at"), "reply_audit", ["sent_at"], unique=False)


def _drop_reply_tables() -> None:
    for table, indexes in (
        ("reply_audit", ("leader", "sent_at")),
        ("relay_message", ("due_at", "thread_id")),
        ("reply_thread", ("comment_id", "leader", "leader_ts", "period")),
        ("reply_link", ("comment_id", "expires_at")),
    ):
        for column in indexes:
            op.drop_index(op.f(f"ix_{table}_{column}"), table_name=table)
        op.drop_table(table)


def upgrade() -> None:
    connection = op.get_bind()
    op.create_table(
        "pending_comment",
        sa.Column("id", _string(ID_LENGTH), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("question_id", _string(80), nullable=False),
        sa.Column("text", _string(3000), nullable=False),
        sa.ForeignKeyConstraint(["question_id"], ["question.id"]),
        sa.ForeignKeyConstraint(["round_id"], ["pulse_round.id"]),
        sa.PrimaryKeyConstraint("id"),
        sqlite_with_rowid=False,
    )
    op.create_index(
        op.f("ix_pending_comment_round_id"), "pending_comment", ["round_id"], unique=False
    )
    _move_unpublished_comments(connection)
    _rebuild_answers(with_comment=False)
    _published_ids_at_random(connection)
    _create_reply_tables()


def downgrade() -> None:
    connection = op.get_bind()
    _drop_reply_tables()
    _published_ids_sequential(connection)
    _rebuild_answers(with_comment=True)
    op.drop_index(op.f("ix_pending_comment_round_id"), table_name="pending_comment")
    op.drop_table("pending_comment")
