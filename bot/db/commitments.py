"""Commitments (action items with an owner and a due date) and the focus each week proposed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.db.models import ActionItem, FocusProposal


def add_commitment(
    *,
    session: Session,
    dimension: str,
    text: str,
    created_by: str,
    owner: str | None,
    due_on: date | None,
    period: str,
    now: datetime,
) -> ActionItem:
    item = ActionItem(
        dimension=dimension,
        text=text,
        created_by=created_by,
        owner=owner,
        due_on=due_on,
        period=period,
        created_at=now,
    )
    session.add(item)
    session.flush()
    return item


def open_commitments(*, session: Session) -> list[ActionItem]:
    """Commitments not yet followed up, oldest first."""
    query = select(ActionItem).where(col(ActionItem.followed_up_at).is_(None))
    return list(session.exec(query.order_by(col(ActionItem.created_at))).all())


def followed_up(*, session: Session) -> list[ActionItem]:
    """Commitments already followed up (their outcome recorded), oldest first."""
    query = select(ActionItem).where(col(ActionItem.followed_up_at).is_not(None))
    return list(session.exec(query.order_by(col(ActionItem.created_at))).all())


def followed_up_between(*, session: Session, since: datetime, until: datetime) -> list[ActionItem]:
    query = select(ActionItem).where(
        col(ActionItem.followed_up_at) >= since, col(ActionItem.followed_up_at) <= until
    )
    return list(session.exec(query.order_by(col(ActionItem.followed_up_at))).all())


def mark_followed_up(*, session: Session, action_id: int, outcome: str, now: datetime) -> bool:
    """Record a commitment's follow-up once; False when another digest recorded it first."""
    item = session.get(ActionItem, action_id)
    if item is None or item.followed_up_at is not None:
        return False
    item.followed_up_at = now
    item.outcome = outcome
    session.add(item)
    session.flush()
    return True


def focus_proposals(*, session: Session, periods: Sequence[str]) -> dict[str, str]:
    query = select(FocusProposal).where(col(FocusProposal.period).in_(list(periods)))
    return {row.period: row.dimension for row in session.exec(query).all()}


def propose_focus(*, session: Session, period: str, dimension: str) -> str:
    """The week's focus, fixed the first time it is proposed: whichever process wins, every
    later build of that week's digest proposes the same."""
    existing = session.get(FocusProposal, period)
    if existing is not None:
        return existing.dimension
    try:
        with session.begin_nested():
            session.add(FocusProposal(period=period, dimension=dimension))
    except IntegrityError:
        stored = session.get(FocusProposal, period)
        return stored.dimension if stored is not None else dimension
    return dimension
