"""Kudos (issue 14): public thanks for what someone did for a customer, and who asked not to be
named in them. Nothing here refers to a survey answer, a pseudonym or a round, and nothing may:
kudos are recognition, not answers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime

from sqlalchemy import Column, UniqueConstraint, delete, func, or_, update
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, select

from bot.db.types import UTCDateTime


class Kudos(SQLModel, table=True):
    """One thank-you, posted to the kudos channel and DMed to its recipient.

    `giver` and `recipient` are Slack user IDs, cleared by forget-me (the row stays, so the
    week's per-team count does not change). `recipient_team` is the recipient's team when the
    kudos was given, for those counts. `given_on` is the organisation's local day, for the
    one-a-day limit; `period` its ISO week, for the digest. `channel`/`ts` are set once the
    post is in the channel: a row without them was never posted and counts nowhere.
    """

    __table_args__ = (
        UniqueConstraint("giver", "recipient", "given_on", name="uq_kudos_once_a_day"),
    )

    id: int | None = Field(default=None, primary_key=True)
    giver: str | None = Field(default=None, max_length=32, index=True)
    recipient: str | None = Field(default=None, max_length=32, index=True)
    recipient_team: str | None = Field(default=None, max_length=120)
    story: str = Field(max_length=3000)
    source: str = Field(max_length=16)  # "command" or "shortcut"
    given_on: date
    period: str = Field(max_length=16, index=True)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    channel: str | None = Field(default=None, max_length=32)
    ts: str | None = Field(default=None, max_length=32)


class KudosOptOut(SQLModel, table=True):
    """Someone who asked not to be named in kudos posts or the digest (they still get DMs)."""

    __tablename__ = "kudos_opt_out"

    slack_user_id: str = Field(primary_key=True, max_length=32)
    since: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class KudosQuote(SQLModel, table=True):
    """The story a week's digest quotes, fixed the first time it is chosen once the week is
    over (None: the week had none to quote), so every later build quotes the same one."""

    __tablename__ = "kudos_quote"

    period: str = Field(primary_key=True, max_length=16)
    kudos_id: int | None = Field(default=None, foreign_key="kudos.id")


# --- giving --------------------------------------------------------------------------------


def given_on_day(*, session: Session, giver: str, day: date) -> int:
    """How many kudos this person gave on this day (posted or being posted)."""
    query = sa_select(func.count()).where(col(Kudos.giver) == giver, col(Kudos.given_on) == day)
    return int(session.execute(query).scalar_one())


def add_kudos(
    *,
    session: Session,
    giver: str,
    recipient: str,
    recipient_team: str | None,
    story: str,
    source: str,
    given_on: date,
    period: str,
    now: datetime,
) -> Kudos:
    """Insert a kudos not yet posted; IntegrityError when this giver already thanked this
    recipient that day (uq_kudos_once_a_day)."""
    row = Kudos(
        giver=giver,
        recipient=recipient,
        recipient_team=recipient_team,
        story=story,
        source=source,
        given_on=given_on,
        period=period,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def mark_posted(*, session: Session, kudos_id: int, channel: str, ts: str) -> None:
    session.execute(update(Kudos).where(col(Kudos.id) == kudos_id).values(channel=channel, ts=ts))


def drop_unposted(*, session: Session, kudos_id: int) -> None:
    """Remove a kudos whose post failed, so nothing half-written is left (and it can be
    given again)."""
    session.execute(delete(Kudos).where(col(Kudos.id) == kudos_id, col(Kudos.ts).is_(None)))


def get_kudos(*, session: Session, kudos_id: int) -> Kudos | None:
    return session.get(Kudos, kudos_id)


# --- naming ----------------------------------------------------------------------------------


def opted_out(*, session: Session, user_ids: Iterable[str | None]) -> set[str]:
    """Which of these people asked not to be named."""
    wanted = sorted({u for u in user_ids if u})
    if not wanted:
        return set()
    query = select(KudosOptOut.slack_user_id).where(col(KudosOptOut.slack_user_id).in_(wanted))
    return set(session.exec(query).all())


def set_opt_out(*, session: Session, slack_user_id: str, opted_out: bool, now: datetime) -> None:
    row = session.get(KudosOptOut, slack_user_id)
    if opted_out and row is None:
        session.add(KudosOptOut(slack_user_id=slack_user_id, since=now))
    elif not opted_out and row is not None:
        session.delete(row)
    session.flush()


def team_sizes(*, session: Session, teams: Iterable[str | None]) -> dict[str, int]:
    """Active members per team, as of the last directory refresh (0 for teams not found)."""
    from bot.db.models import Member  # here: bot.db.models imports this module

    wanted = sorted({t for t in teams if t})
    if not wanted:
        return {}
    query = (
        sa_select(col(Member.team), func.count())
        .where(col(Member.team).in_(wanted), col(Member.active).is_(True))
        .group_by(col(Member.team))
    )
    found = {str(team): int(count) for team, count in session.execute(query)}
    return {team: found.get(team, 0) for team in wanted}


def posted_naming(*, session: Session, slack_user_id: str) -> list[Kudos]:
    """Every posted kudos this person gave or received, oldest first."""
    query = select(Kudos).where(
        or_(col(Kudos.giver) == slack_user_id, col(Kudos.recipient) == slack_user_id),
        col(Kudos.ts).is_not(None),
    )
    return list(session.exec(query.order_by(col(Kudos.id))).all())


# --- the digest ------------------------------------------------------------------------------


def week_kudos(*, session: Session, period: str) -> list[Kudos]:
    """The kudos posted in a week, oldest first."""
    query = select(Kudos).where(col(Kudos.period) == period, col(Kudos.ts).is_not(None))
    return list(session.exec(query.order_by(col(Kudos.id))).all())


def quote_of(*, session: Session, period: str) -> KudosQuote | None:
    return session.get(KudosQuote, period)


def fix_quote(*, session: Session, period: str, kudos_id: int | None) -> int | None:
    """The week's quote, fixed the first time: whichever process wins, every later build of
    that week's digest quotes the same story."""
    existing = session.get(KudosQuote, period)
    if existing is not None:
        return existing.kudos_id
    try:
        with session.begin_nested():
            session.add(KudosQuote(period=period, kudos_id=kudos_id))
    except IntegrityError:
        stored = session.get(KudosQuote, period)
        return stored.kudos_id if stored is not None else kudos_id
    return kudos_id


def quoted_periods(*, session: Session, kudos_ids: Sequence[int]) -> set[str]:
    """The weeks whose digest quotes one of these kudos."""
    if not kudos_ids:
        return set()
    query = select(KudosQuote.period).where(col(KudosQuote.kudos_id).in_(list(kudos_ids)))
    return set(session.exec(query).all())


# --- forget-me -------------------------------------------------------------------------------


def forget_person(*, session: Session, slack_user_id: str) -> tuple[list[Kudos], set[str]]:
    """Clear this person's user ID from every kudos they gave or received, and their opt-out.

    Returns the posted kudos that named them (as they are now, without the ID) so their posts
    can be edited, and the weeks whose digest quotes one of them."""
    touched = posted_naming(session=session, slack_user_id=slack_user_id)
    weeks = quoted_periods(session=session, kudos_ids=[k.id for k in touched if k.id is not None])
    session.execute(update(Kudos).where(col(Kudos.giver) == slack_user_id).values(giver=None))
    session.execute(
        update(Kudos).where(col(Kudos.recipient) == slack_user_id).values(recipient=None)
    )
    session.execute(delete(KudosOptOut).where(col(KudosOptOut.slack_user_id) == slack_user_id))
    session.flush()
    session.expire_all()
    ids = [k.id for k in touched if k.id is not None]
    if not ids:
        return [], weeks
    refreshed = select(Kudos).where(col(Kudos.id).in_(ids)).order_by(col(Kudos.id))
    return list(session.exec(refreshed).all()), weeks
