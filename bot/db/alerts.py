"""The outbox of sensitive comments on their way to the admins (issue 14), and its queries.

A row is written in the transaction that would have stored the comment, instead of it
(bot.services.alerts.screen_comment). What it holds, and why no more:
- the week (`period`) it counts in ("1 comment was passed to admins"), the category and the
  language it was screened in; no round, statement, author, pseudonym or time: nothing that
  narrows down who wrote it, or when, beyond the week;
- the text until it has reached the admins, then never again: sealed with CX_ENCRYPTION_KEY
  when one is set (`sealed_text`, re-encrypted by `cxpulse rotate-keys`), else as written
  (`text`). Delivery wipes both and keeps the row, so the week's count stays;
- what delivery needs: a random key for the DMs' metadata (so a retry finds a DM that did go
  out instead of sending it twice), attempts, the last Slack error code, and a claim taken
  while one process sends it (its time cleared with the claim).

Kept in a module of its own with no import of `bot.db.models` (which imports this one, so the
table joins the metadata wherever the models are loaded).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Table,
    and_,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlmodel import Field, SQLModel

from bot.db.types import UTCDateTime

KEY_LENGTH = 32
SEALED_LENGTH = 8000  # a Fernet token of 3,000 characters of UTF-8 (up to 12 KB) is base64


class CommentAlert(SQLModel, table=True):
    __tablename__ = "comment_alert"

    id: int | None = Field(default=None, primary_key=True)
    period: str = Field(max_length=16, index=True)
    category: str = Field(max_length=24)
    language: str = Field(max_length=8)
    delivery_key: str = Field(max_length=KEY_LENGTH, unique=True)
    text: str | None = Field(default=None, max_length=3000)  # without CX_ENCRYPTION_KEY only
    sealed_text: str | None = Field(default=None, max_length=SEALED_LENGTH)
    delivered: bool = Field(default=False, index=True)
    attempts: int = Field(default=0)
    last_error: str | None = Field(default=None, max_length=64)
    claim_token: str | None = Field(default=None, max_length=36)
    claimed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


ALERTS = _table(CommentAlert)


def queue_alert(
    connection: Connection,
    *,
    period: str,
    category: str,
    language: str,
    delivery_key: str,
    text: str | None,
    sealed_text: str | None,
) -> None:
    connection.execute(
        insert(ALERTS).values(
            period=period,
            category=category,
            language=language,
            delivery_key=delivery_key,
            text=text,
            sealed_text=sealed_text,
            delivered=False,
            attempts=0,
        )
    )


def _claimable(stale_before: datetime) -> ColumnElement[bool]:
    return and_(
        ALERTS.c.delivered.is_(False),
        or_(ALERTS.c.claim_token.is_(None), ALERTS.c.claimed_at < stale_before),
    )


def claimable_ids(connection: Connection, *, stale_before: datetime, limit: int) -> list[int]:
    """Undelivered alerts nobody is sending now (or whose sender died), oldest first."""
    query = select(ALERTS.c.id).where(_claimable(stale_before)).order_by(ALERTS.c.id).limit(limit)
    return [int(i) for i in connection.execute(query).scalars()]


def claim(
    connection: Connection, *, alert_id: int, token: str, now: datetime, stale_before: datetime
) -> bool:
    """Take the alert for this sender: one guarded UPDATE, so two processes never both do."""
    result = connection.execute(
        update(ALERTS)
        .where(ALERTS.c.id == alert_id, _claimable(stale_before))
        .values(claim_token=token, claimed_at=now, attempts=ALERTS.c.attempts + 1)
    )
    return bool(result.rowcount)


@dataclass(frozen=True, slots=True)
class ClaimedAlert:
    id: int
    period: str
    category: str
    language: str
    delivery_key: str
    text: str | None
    sealed_text: str | None
    attempts: int  # this one included


def claimed(connection: Connection, *, alert_id: int, token: str) -> ClaimedAlert | None:
    row = connection.execute(
        select(
            ALERTS.c.id,
            ALERTS.c.period,
            ALERTS.c.category,
            ALERTS.c.language,
            ALERTS.c.delivery_key,
            ALERTS.c.text,
            ALERTS.c.sealed_text,
            ALERTS.c.attempts,
        ).where(ALERTS.c.id == alert_id, ALERTS.c.claim_token == token)
    ).first()
    return None if row is None else ClaimedAlert(*row)


def mark_delivered(connection: Connection, *, alert_id: int, token: str) -> None:
    """Delivered: the text goes (both forms), the claim and its time too; the row stays."""
    connection.execute(
        update(ALERTS)
        .where(ALERTS.c.id == alert_id, ALERTS.c.claim_token == token)
        .values(
            delivered=True,
            text=None,
            sealed_text=None,
            claim_token=None,
            claimed_at=None,
            last_error=None,
        )
    )


def release(connection: Connection, *, alert_id: int, token: str, error: str) -> None:
    """Not delivered this time: it stays queued, with why, for the next run."""
    connection.execute(
        update(ALERTS)
        .where(ALERTS.c.id == alert_id, ALERTS.c.claim_token == token)
        .values(claim_token=None, claimed_at=None, last_error=error[:64])
    )


@dataclass(frozen=True, slots=True)
class Waiting:
    """Alerts not yet with the admins: how many, and the last error among them."""

    count: int
    last_error: str | None
    most_attempts: int


def waiting(connection: Connection) -> Waiting:
    count, most = connection.execute(
        select(func.count(), func.coalesce(func.max(ALERTS.c.attempts), 0)).where(
            ALERTS.c.delivered.is_(False)
        )
    ).one()
    error = connection.execute(
        select(ALERTS.c.last_error)
        .where(ALERTS.c.delivered.is_(False), ALERTS.c.last_error.is_not(None))
        .order_by(ALERTS.c.id.desc())
        .limit(1)
    ).scalar()
    return Waiting(int(count), error, int(most))


def week_count(connection: Connection, *, period: str) -> int:
    """Comments of this week passed to admins (delivered or still on their way)."""
    return int(
        connection.execute(
            select(func.count()).select_from(ALERTS).where(ALERTS.c.period == period)
        ).scalar_one()
    )
