"""Queries for comments kept apart from answers and for the reply relay (tables in
bot.db.replies). Every function runs on the caller's connection, inside its transaction."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, and_, delete, exists, func, insert, or_, select, update

from bot.db.models import Answer, PublishedComment, Question
from bot.db.replies import (
    ID_LENGTH,
    PendingComment,
    RelayMessage,
    ReplyAudit,
    ReplyLink,
    ReplyThread,
)


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


def new_id() -> str:
    """A random id: rows of these tables are never numbered in the order they were written."""
    return secrets.token_hex(ID_LENGTH // 2)


# --- comments -------------------------------------------------------------------------------


def answered(connection: Connection, *, round_id: int, respondent: str, question_id: str) -> bool:
    answer = _table(Answer)
    query = select(answer.c.score).where(
        answer.c.round_id == round_id,
        answer.c.respondent == respondent,
        answer.c.question_id == question_id,
    )
    return connection.execute(query).first() is not None


def add_pending_comment(
    connection: Connection, *, round_id: int, question_id: str, text: str
) -> str:
    comment_id = new_id()
    connection.execute(
        insert(_table(PendingComment)).values(
            id=comment_id, round_id=round_id, question_id=question_id, text=text
        )
    )
    return comment_id


def add_pending_comments(connection: Connection, rows: Sequence[tuple[int, str, str]]) -> int:
    """(round, question, text) comments under new random ids, inserted in id order."""
    values = sorted(
        ({"id": new_id(), "round_id": r, "question_id": q, "text": t} for r, q, t in rows),
        key=lambda row: str(row["id"]),
    )
    if values:
        connection.execute(insert(_table(PendingComment)), values)
    return len(values)


@dataclass(frozen=True, slots=True)
class RoundComment:
    id: str
    text: str
    dimension: str


def round_comments(connection: Connection, *, round_ids: Sequence[int]) -> list[RoundComment]:
    """The pending comments of these rounds, in id order (random, never by time)."""
    if not round_ids:
        return []
    pending, question = _table(PendingComment), _table(Question)
    query = (
        select(pending.c.id, pending.c.text, question.c.dimension)
        .join(question, question.c.id == pending.c.question_id)
        .where(pending.c.round_id.in_(list(round_ids)))
        .order_by(pending.c.id)
    )
    return [RoundComment(str(i), str(t), str(d)) for i, t, d in connection.execute(query)]


def delete_round_comments(connection: Connection, *, round_ids: Sequence[int]) -> None:
    if round_ids:
        pending = _table(PendingComment)
        connection.execute(delete(pending).where(pending.c.round_id.in_(list(round_ids))))


def delete_comment_rows(connection: Connection, *, comment_ids: Sequence[str]) -> list[str]:
    """Delete these comments, pending or published (not their conversations); returns the
    weeks of the published ones deleted."""
    if not comment_ids:
        return []
    ids = list(comment_ids)
    published = _table(PublishedComment)
    found = connection.execute(select(published.c.period).where(published.c.id.in_(ids)))
    periods = sorted(set(found.scalars()))
    connection.execute(delete(published).where(published.c.id.in_(ids)))
    pending = _table(PendingComment)
    connection.execute(delete(pending).where(pending.c.id.in_(ids)))
    return periods


def forget_periods(connection: Connection, *, periods: Sequence[str]) -> None:
    """Delete every trace of the reply relay for these weeks' comments (links, conversations,
    queued messages), as their comments go (the retention purge); the audit log stays."""
    if not periods:
        return
    weeks = list(periods)
    link, thread, message = _table(ReplyLink), _table(ReplyThread), _table(RelayMessage)
    published = _table(PublishedComment)
    ids = select(published.c.id).where(published.c.period.in_(weeks)).scalar_subquery()
    threads = select(thread.c.id).where(thread.c.period.in_(weeks)).scalar_subquery()
    connection.execute(delete(message).where(message.c.thread_id.in_(threads)))
    connection.execute(delete(thread).where(thread.c.period.in_(weeks)))
    connection.execute(delete(link).where(link.c.comment_id.in_(ids)))


@dataclass(frozen=True, slots=True)
class ShownComment:
    id: str
    period: str
    text: str


def published_comment(connection: Connection, *, comment_id: str) -> ShownComment | None:
    published = _table(PublishedComment)
    row = connection.execute(
        select(published.c.id, published.c.period, published.c.text).where(
            published.c.id == comment_id
        )
    ).first()
    return None if row is None else ShownComment(str(row[0]), str(row[1]), str(row[2]))


# --- links ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Link:
    id: str
    comment_id: str
    sealed: str
    expires_at: datetime


def _link(row: Any) -> Link:
    return Link(str(row[0]), str(row[1]), str(row[2]), row[3])


def _link_query() -> Any:
    link = _table(ReplyLink)
    return select(link.c.id, link.c.comment_id, link.c.sealed, link.c.expires_at)


def add_link(connection: Connection, *, comment_id: str, sealed: str, expires_at: datetime) -> None:
    connection.execute(
        insert(_table(ReplyLink)).values(
            id=new_id(), comment_id=comment_id, sealed=sealed, expires_at=expires_at
        )
    )


def link_of(connection: Connection, *, comment_id: str) -> Link | None:
    link = _table(ReplyLink)
    row = connection.execute(_link_query().where(link.c.comment_id == comment_id)).first()
    return None if row is None else _link(row)


def links(connection: Connection) -> list[Link]:
    """Every link (there are few: opted-in comments of the last CX_REPLY_DAYS)."""
    link = _table(ReplyLink)
    return [_link(row) for row in connection.execute(_link_query().order_by(link.c.id))]


def expired_links(connection: Connection, *, now: datetime) -> list[Link]:
    link = _table(ReplyLink)
    query = _link_query().where(link.c.expires_at <= now).order_by(link.c.id)
    return [_link(row) for row in connection.execute(query)]


def reseal_link(connection: Connection, *, link_id: str, sealed: str) -> None:
    link = _table(ReplyLink)
    connection.execute(update(link).where(link.c.id == link_id).values(sealed=sealed))


def delete_links(connection: Connection, *, comment_ids: Sequence[str]) -> None:
    if comment_ids:
        link = _table(ReplyLink)
        connection.execute(delete(link).where(link.c.comment_id.in_(list(comment_ids))))


def replyable(connection: Connection, *, comment_ids: Sequence[str], now: datetime) -> set[str]:
    """Of these comments, those a leader may reply to now: linked to their author (not yet
    expired) and with no conversation, or one still open."""
    if not comment_ids:
        return set()
    link, thread = _table(ReplyLink), _table(ReplyThread)
    ended = exists().where(thread.c.comment_id == link.c.comment_id, thread.c.closed.is_not(None))
    query = select(link.c.comment_id).where(
        link.c.comment_id.in_(list(comment_ids)), link.c.expires_at > now, ~ended
    )
    return {str(i) for i in connection.execute(query).scalars()}


# --- conversations --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Thread:
    id: str
    comment_id: str
    period: str
    leader: str
    leader_channel: str | None
    leader_ts: str | None
    opened_at: datetime
    expires_at: datetime
    closed: str | None


def _thread_query() -> Any:
    thread = _table(ReplyThread)
    return select(
        thread.c.id,
        thread.c.comment_id,
        thread.c.period,
        thread.c.leader,
        thread.c.leader_channel,
        thread.c.leader_ts,
        thread.c.opened_at,
        thread.c.expires_at,
        thread.c.closed,
    )


def _one_thread(connection: Connection, condition: Any) -> Thread | None:
    row = connection.execute(_thread_query().where(condition)).first()
    return None if row is None else Thread(*row)


def thread(connection: Connection, *, thread_id: str) -> Thread | None:
    return _one_thread(connection, _table(ReplyThread).c.id == thread_id)


def thread_of_comment(connection: Connection, *, comment_id: str) -> Thread | None:
    return _one_thread(connection, _table(ReplyThread).c.comment_id == comment_id)


def thread_at(connection: Connection, *, channel: str, ts: str) -> Thread | None:
    """The conversation whose leader's side is the thread under (channel, ts)."""
    table = _table(ReplyThread)
    return _one_thread(connection, and_(table.c.leader_channel == channel, table.c.leader_ts == ts))


def threads_led_by(connection: Connection, *, leader: str) -> list[Thread]:
    table = _table(ReplyThread)
    query = _thread_query().where(table.c.leader == leader, table.c.closed.is_(None))
    return [Thread(*row) for row in connection.execute(query.order_by(table.c.id))]


def open_thread(
    connection: Connection,
    *,
    comment_id: str,
    period: str,
    leader: str,
    now: datetime,
    expires_at: datetime,
) -> str:
    thread_id = new_id()
    connection.execute(
        insert(_table(ReplyThread)).values(
            id=thread_id,
            comment_id=comment_id,
            period=period,
            leader=leader,
            opened_at=now,
            expires_at=expires_at,
        )
    )
    return thread_id


def set_leader_side(connection: Connection, *, thread_id: str, channel: str, ts: str) -> None:
    table = _table(ReplyThread)
    connection.execute(
        update(table)
        .where(table.c.id == thread_id, table.c.leader_ts.is_(None))
        .values(leader_channel=channel, leader_ts=ts)
    )


def close_thread(connection: Connection, *, thread_id: str, reason: str) -> bool:
    """Close an open conversation; False when it was already closed (by anyone)."""
    table = _table(ReplyThread)
    result = connection.execute(
        update(table).where(table.c.id == thread_id, table.c.closed.is_(None)).values(closed=reason)
    )
    return bool(result.rowcount)


# --- the queue ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Queued:
    id: str
    thread_id: str
    to_author: bool
    kind: str
    text: str | None
    due_at: datetime
    attempts: int


def last_due(connection: Connection, *, thread_id: str, to_author: bool) -> datetime | None:
    """When the latest message still waiting in this direction of a conversation is due."""
    message = _table(RelayMessage)
    query = select(func.max(message.c.due_at)).where(
        message.c.thread_id == thread_id, message.c.to_author.is_(to_author)
    )
    found: datetime | None = connection.execute(query).scalar()
    return found


def enqueue(
    connection: Connection,
    *,
    thread_id: str,
    to_author: bool,
    kind: str,
    text: str | None,
    due_at: datetime,
) -> str:
    message_id = new_id()
    connection.execute(
        insert(_table(RelayMessage)).values(
            id=message_id,
            thread_id=thread_id,
            to_author=to_author,
            kind=kind,
            text=text,
            due_at=due_at,
            attempts=0,
        )
    )
    return message_id


def drop_queued(connection: Connection, *, thread_id: str, to_author: bool) -> None:
    message = _table(RelayMessage)
    connection.execute(
        delete(message).where(message.c.thread_id == thread_id, message.c.to_author.is_(to_author))
    )


def claim_due(
    connection: Connection, *, now: datetime, stale_before: datetime, limit: int
) -> tuple[str, list[Queued]]:
    """Claim messages that are due, the first waiting in each direction of a conversation
    only (so they arrive in order), unclaimed or claimed by a worker that died. One guarded
    UPDATE, so two workers never take the same message."""
    message = _table(RelayMessage)
    earlier = message.alias("earlier")
    free = or_(message.c.claim_token.is_(None), message.c.claimed_at < stale_before)
    first = ~exists().where(
        earlier.c.thread_id == message.c.thread_id,
        earlier.c.to_author == message.c.to_author,
        earlier.c.due_at < message.c.due_at,
    )
    candidates = (
        select(message.c.id)
        .where(message.c.due_at <= now, free, first)
        .order_by(message.c.due_at)
        .limit(limit)
    )
    ids = list(connection.execute(candidates).scalars())
    token = str(uuid.uuid4())
    if not ids:
        return token, []
    connection.execute(
        update(message)
        .where(message.c.id.in_(ids), free)
        .values(claim_token=token, claimed_at=now, attempts=message.c.attempts + 1)
    )
    query = (
        select(
            message.c.id,
            message.c.thread_id,
            message.c.to_author,
            message.c.kind,
            message.c.text,
            message.c.due_at,
            message.c.attempts,
        )
        .where(message.c.claim_token == token)
        .order_by(message.c.due_at)
    )
    return token, [Queued(*row) for row in connection.execute(query)]


def delivered(connection: Connection, *, message_id: str, token: str) -> None:
    message = _table(RelayMessage)
    connection.execute(
        delete(message).where(message.c.id == message_id, message.c.claim_token == token)
    )


def release(connection: Connection, *, message_id: str, token: str) -> None:
    """Give a claimed message back, to be tried again at the next run."""
    message = _table(RelayMessage)
    connection.execute(
        update(message)
        .where(message.c.id == message_id, message.c.claim_token == token)
        .values(claim_token=None, claimed_at=None)
    )


def waiting(connection: Connection) -> list[Queued]:
    """Everything still waiting, for tests and the demo (soonest first)."""
    message = _table(RelayMessage)
    query = select(
        message.c.id,
        message.c.thread_id,
        message.c.to_author,
        message.c.kind,
        message.c.text,
        message.c.due_at,
        message.c.attempts,
    ).order_by(message.c.due_at)
    return [Queued(*row) for row in connection.execute(query)]


# --- the audit log --------------------------------------------------------------------------


def audit(
    connection: Connection, *, thread_id: str, leader: str, period: str, at: datetime, text: str
) -> None:
    connection.execute(
        insert(_table(ReplyAudit)).values(
            thread_id=thread_id, leader=leader, period=period, sent_at=at, text=text
        )
    )


@dataclass(frozen=True, slots=True)
class AuditEntry:
    thread_id: str
    leader: str
    period: str
    sent_at: datetime
    text: str


def audit_entries(
    connection: Connection, *, offset: int, limit: int
) -> tuple[int, list[AuditEntry]]:
    """(how many entries there are, a page of them, newest first)."""
    table = _table(ReplyAudit)
    total = int(connection.execute(select(func.count()).select_from(table)).scalar_one())
    query = (
        select(table.c.thread_id, table.c.leader, table.c.period, table.c.sent_at, table.c.text)
        .order_by(table.c.sent_at.desc(), table.c.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return total, [AuditEntry(*row) for row in connection.execute(query)]


def first_leader_reply(connection: Connection, *, thread_id: str) -> str | None:
    table = _table(ReplyAudit)
    query = (
        select(table.c.text)
        .where(table.c.thread_id == thread_id)
        .order_by(table.c.sent_at, table.c.id)
        .limit(1)
    )
    found = connection.execute(query).scalar()
    return None if found is None else str(found)


def purge_audit(connection: Connection, *, before: datetime) -> int:
    table = _table(ReplyAudit)
    result = connection.execute(delete(table).where(table.c.sent_at < before))
    return int(result.rowcount)


# --- storage order (PostgreSQL) -------------------------------------------------------------

SETTLED_TABLES = ("pending_comment", "reply_link")


def settle_storage_order(connection: Connection) -> bool:
    """Rewrite pending comments and links in id order, in one transaction, on PostgreSQL
    (as `bot.db.published.rewrite_in_key_order` does for answers): its heap otherwise keeps
    them in the order they were written, and each row's `xmin` is its transaction, next to
    the transactions of the same person's clicks. Afterwards every row has the rewrite's
    `xmin`. SQLite stores both tables in id order already (WITHOUT ROWID), with no
    transaction ids. Returns whether rows were rewritten."""
    if connection.dialect.name != "postgresql":
        return False
    from sqlalchemy import text

    changed = False
    for name in SETTLED_TABLES:
        connection.execute(text(f"LOCK TABLE {name} IN SHARE ROW EXCLUSIVE MODE"))
        # Any row at all: a lone row's xmin would still be the transaction that wrote it.
        rows = connection.execute(text(f"SELECT count(*) FROM {name}")).scalar_one()  # noqa: S608
        if not rows:
            continue
        connection.execute(
            text(f"CREATE TEMPORARY TABLE {name}_settling ON COMMIT DROP AS SELECT * FROM {name}")  # noqa: S608
        )
        connection.execute(text(f"DELETE FROM {name}"))  # noqa: S608
        connection.execute(
            text(f"INSERT INTO {name} SELECT * FROM {name}_settling ORDER BY id")  # noqa: S608
        )
        connection.execute(text(f"DROP TABLE {name}_settling"))
        changed = True
    return changed


def linked(connection: Connection, *, comment_ids: Sequence[str]) -> set[str]:
    """Of these comments, those with a reply link."""
    if not comment_ids:
        return set()
    link = _table(ReplyLink)
    query = select(link.c.comment_id).where(link.c.comment_id.in_(list(comment_ids)))
    return {str(i) for i in connection.execute(query).scalars()}
