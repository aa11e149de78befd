"""Queries about one person, for their own eyes only (App Home): their answers and streak."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.db.models import Answer, Delivery, DeliveryStatus, PulseRound, Question


@dataclass(frozen=True, slots=True)
class OwnAnswer:
    period: str
    question_id: str
    question_text: str
    score: int


def recent_answers(*, session: Session, respondent: str, rounds: int) -> list[OwnAnswer]:
    """The person's answers in their `rounds` most recent answered rounds, newest first."""
    latest = (
        select(Answer.round_id)
        .where(Answer.respondent == respondent)
        .group_by(col(Answer.round_id))
        .order_by(col(Answer.round_id).desc())
        .limit(rounds)
    )
    rows = session.exec(
        select(PulseRound.period, Answer.question_id, Question.text, Answer.score)
        .join(PulseRound, col(PulseRound.id) == col(Answer.round_id))
        .join(Question, col(Question.id) == col(Answer.question_id))
        .where(Answer.respondent == respondent, col(Answer.round_id).in_(latest))
        .order_by(col(PulseRound.opened_at).desc(), col(Answer.question_id))
    ).all()
    return [OwnAnswer(period, qid, text, score) for period, qid, text, score in rows]


def invited_rounds(
    *, session: Session, member_id: int, opened_by: datetime, limit: int
) -> list[tuple[int, datetime]]:
    """The rounds sent to this member (id, closes_at), newest first."""
    rows = session.exec(
        select(PulseRound.id, PulseRound.closes_at)
        .join(Delivery, col(Delivery.round_id) == col(PulseRound.id))
        .where(Delivery.member_id == member_id, col(PulseRound.opened_at) <= opened_by)
        .order_by(col(PulseRound.opened_at).desc())
        .limit(limit)
    ).all()
    return [(round_id, closes_at) for round_id, closes_at in rows if round_id is not None]


def answered_rounds(*, session: Session, respondent: str, round_ids: list[int]) -> set[int]:
    if not round_ids:
        return set()
    rows = session.exec(
        select(Answer.round_id, func.count())
        .where(Answer.respondent == respondent, col(Answer.round_id).in_(round_ids))
        .group_by(col(Answer.round_id))
    ).all()
    return {round_id for round_id, _ in rows}


@dataclass(frozen=True, slots=True)
class OpenInvitation:
    round_id: int
    period: str
    closes_at: datetime


def open_invitation(*, session: Session, member_id: int, now: datetime) -> OpenInvitation | None:
    """The open round whose pulse is in this member's DMs now (the newest, should there be two)."""
    row = session.exec(
        select(PulseRound.id, PulseRound.period, PulseRound.closes_at)
        .join(Delivery, col(Delivery.round_id) == col(PulseRound.id))
        .where(
            Delivery.member_id == member_id,
            Delivery.status == DeliveryStatus.SENT,
            col(PulseRound.opened_at) <= now,
            col(PulseRound.closes_at) > now,
        )
        .order_by(col(PulseRound.opened_at).desc())
    ).first()
    if row is None or row[0] is None:
        return None
    return OpenInvitation(row[0], row[1], row[2])


def pending_pulse_due(*, session: Session, member_id: int, now: datetime) -> datetime | None:
    """When this member's pulse of an open round is due, if it has not reached them yet (a
    scheduled round reaches each person at the pulse time on their own clock)."""
    due: datetime | None = session.exec(
        select(func.min(Delivery.due_at))
        .join(PulseRound, col(PulseRound.id) == col(Delivery.round_id))
        .where(
            Delivery.member_id == member_id,
            col(Delivery.status).in_((DeliveryStatus.PENDING, DeliveryStatus.SENDING)),
            col(PulseRound.closes_at) > now,
        )
    ).one()
    return due
