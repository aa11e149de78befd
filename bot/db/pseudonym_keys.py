"""Queries for the pseudonym key: which key the database is under, and re-keying every row
a pseudonym identifies. Used by `cxpulse rotate-pseudonym-key`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, case, delete, text, union, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from bot.db.models import (
    Answer,
    ForgottenMember,
    Member,
    PendingRoster,
    PseudonymKey,
)

# Every table a rotation rewrites; on PostgreSQL they are locked for its whole transaction.
REKEYED_TABLES = ("answer", "pending_roster", "forgotten_member")
REKEY_CHUNK = 1000  # rows of parameters per executemany


def key_state(*, session: Session) -> PseudonymKey | None:
    return session.get(PseudonymKey, 1)


def adopt_key(*, session: Session, key_check: str, now: datetime) -> PseudonymKey:
    """Record the key as the database's, unless one is recorded already (by anyone): returns
    the row in force."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(PseudonymKey)
        .values(id=1, generation=1, key_check=key_check, since=now)
        .on_conflict_do_nothing(index_elements=["id"])
    )
    found = session.get(PseudonymKey, 1, populate_existing=True)
    assert found is not None
    return found


def advance_generation(
    *, session: Session, current_check: str, new_check: str, now: datetime
) -> int | None:
    """Move the database to the new key if it is under `current_check`: one compare-and-set,
    the rotation's first write (SQLite's write lock, PostgreSQL's row lock from here to its
    commit). Returns the new generation, or None when the database is not under that key."""
    table = PseudonymKey.__table__  # type: ignore[attr-defined]
    moved = session.execute(
        update(table)
        .where(table.c.id == 1, table.c.key_check == current_check)
        .values(generation=table.c.generation + 1, key_check=new_check, since=now)
        .returning(table.c.generation)
    ).scalar_one_or_none()
    return None if moved is None else int(moved)


def lock_rekeyed_tables(*, session: Session) -> None:
    """PostgreSQL: clicks, comments and forget-me wait until the rotation commits, rather than
    writing a row under the old key between its reads and its writes. (SQLite already holds
    its one write lock.)"""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"LOCK TABLE {', '.join(REKEYED_TABLES)} IN SHARE ROW EXCLUSIVE MODE"))


def member_user_ids(*, session: Session) -> list[str]:
    """Every person in the directory, active or not: the raw IDs a rotation re-keys from."""
    return list(session.execute(sa_select(col(Member.slack_user_id))).scalars())


def stored_respondents(*, session: Session) -> set[str]:
    """Every pseudonym answers and the pending roster are stored under."""
    query = union(
        sa_select(col(Answer.respondent)).distinct(),
        sa_select(col(PendingRoster.respondent)).distinct(),
    )
    return set(session.execute(query).scalars())


def tombstones(*, session: Session) -> set[str]:
    return set(session.execute(sa_select(col(ForgottenMember.pseudonym))).scalars())


def answered_round_ids(*, session: Session) -> list[int]:
    query = sa_select(col(Answer.round_id)).distinct()
    return sorted(int(r) for r in session.execute(query).scalars())


@dataclass(frozen=True, slots=True)
class Rekey:
    """One pseudonym's move: its answers' `click_order` shifts by `delta` (the new key's offset
    for the new pseudonym minus the old key's for the old one), so one person's order holds."""

    old: str
    new: str
    delta: int = 0


def _chunks(rows: Sequence[Mapping[str, object]]) -> list[Sequence[Mapping[str, object]]]:
    return [rows[start : start + REKEY_CHUNK] for start in range(0, len(rows), REKEY_CHUNK)]


def rekey_answers(*, session: Session, changes: Sequence[Rekey]) -> int:
    table = Answer.__table__  # type: ignore[attr-defined]
    statement = (
        update(table)
        .where(table.c.respondent == bindparam("old_pseudonym"))
        .values(
            respondent=bindparam("new_pseudonym"),
            # Imported answers carry no click time (0): nothing to shift.
            click_order=case(
                (table.c.click_order == 0, 0),
                else_=table.c.click_order + bindparam("delta"),
            ),
        )
    )
    rows = [{"old_pseudonym": c.old, "new_pseudonym": c.new, "delta": c.delta} for c in changes]
    connection = session.connection()
    for chunk in _chunks(rows):
        connection.execute(statement, chunk)
    return len(rows)


def rekey_pending_roster(*, session: Session, changes: Sequence[Rekey]) -> None:
    table = PendingRoster.__table__  # type: ignore[attr-defined]
    statement = (
        update(table)
        .where(table.c.respondent == bindparam("old_pseudonym"))
        .values(respondent=bindparam("new_pseudonym"))
    )
    rows = [{"old_pseudonym": c.old, "new_pseudonym": c.new} for c in changes]
    connection = session.connection()
    for chunk in _chunks(rows):
        connection.execute(statement, chunk)


def rekey_tombstones(*, session: Session, changes: Sequence[Rekey], dropped: Sequence[str]) -> None:
    table = ForgottenMember.__table__  # type: ignore[attr-defined]
    if dropped:
        session.execute(delete(table).where(table.c.pseudonym.in_(list(dropped))))
    statement = (
        update(table)
        .where(table.c.pseudonym == bindparam("old_pseudonym"))
        .values(pseudonym=bindparam("new_pseudonym"))
    )
    rows = [{"old_pseudonym": c.old, "new_pseudonym": c.new} for c in changes]
    connection = session.connection()
    for chunk in _chunks(rows):
        connection.execute(statement, chunk)
