"""Reading and writing the published weeks: the only source of figures for closed weeks."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, text, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from bot.analytics.anonymity import GroupKind
from bot.analytics.cells import Atom, Cell, PeriodCells, PublishedPeriod
from bot.analytics.noise import Distribution
from bot.db import relay
from bot.db.models import (
    Answer,
    Delivery,
    DeliveryStatus,
    Member,
    PendingRoster,
    PostedDigest,
    PublishedCell,
    PublishedComment,
    PublishedWeek,
    PulseRound,
    Question,
    RoundProgress,
)


def unpublished_closed_periods(*, session: Session, now: datetime) -> list[str]:
    """Weeks with rounds, every one of them closed, not yet published; oldest first."""
    rounds = session.execute(sa_select(col(PulseRound.period), col(PulseRound.closes_at))).all()
    published = set(session.exec(select(PublishedWeek.period)).all())
    still_open = {period for period, closes_at in rounds if closes_at > now}
    return sorted({period for period, _ in rounds} - still_open - published)


def is_published(*, session: Session, period: str) -> bool:
    return session.get(PublishedWeek, period) is not None


def published_periods(*, session: Session, up_to: str | None = None) -> list[str]:
    query = select(PublishedWeek.period)
    if up_to is not None:
        query = query.where(col(PublishedWeek.period) <= up_to)
    return sorted(session.exec(query).all())


@dataclass(frozen=True, slots=True)
class WeekAnswer:
    round_id: int
    respondent: str
    dimension: str
    score: int


def week_answers(*, session: Session, round_ids: Sequence[int]) -> list[WeekAnswer]:
    if not round_ids:
        return []
    query = (
        sa_select(
            col(Answer.round_id),
            col(Answer.respondent),
            col(Question.dimension),
            col(Answer.score),
        )
        .join(Question, col(Question.id) == col(Answer.question_id))
        .where(col(Answer.round_id).in_(round_ids))
    )
    return [WeekAnswer(*row) for row in session.connection().execute(query)]


@dataclass(frozen=True, slots=True)
class Invitee:
    round_id: int
    slack_user_id: str
    team: str | None
    is_leader: bool


def week_invitees(*, session: Session, round_ids: Sequence[int]) -> list[Invitee]:
    """Everyone a round's DM reached, with team and leader flag frozen at send time."""
    if not round_ids:
        return []
    query = (
        sa_select(
            col(Delivery.round_id),
            col(Member.slack_user_id),
            col(Delivery.team),
            col(Delivery.is_leader),
        )
        .join(Member, col(Member.id) == col(Delivery.member_id))
        .where(col(Delivery.round_id).in_(round_ids), col(Delivery.status) == DeliveryStatus.SENT)
    )
    return [Invitee(*row) for row in session.execute(query)]


def pending_roster(
    *, session: Session, round_ids: Sequence[int]
) -> list[tuple[int, str, str | None, bool]]:
    if not round_ids:
        return []
    query = sa_select(
        col(PendingRoster.round_id),
        col(PendingRoster.respondent),
        col(PendingRoster.team),
        col(PendingRoster.is_leader),
    ).where(col(PendingRoster.round_id).in_(round_ids))
    return [(r, p, t, bool(lead)) for r, p, t, lead in session.execute(query)]


def add_pending_roster(
    *, session: Session, round_id: int, roster: Iterable[tuple[str, str | None, bool]]
) -> None:
    # One class per person and round: the first row given for them wins.
    unique: dict[str, tuple[str | None, bool]] = {}
    for respondent, team, is_leader in roster:
        unique.setdefault(respondent, (team, is_leader))
    for respondent, (team, is_leader) in sorted(unique.items()):
        if session.get(PendingRoster, (round_id, respondent)) is None:
            session.add(
                PendingRoster(
                    round_id=round_id, respondent=respondent, team=team, is_leader=is_leader
                )
            )
    session.flush()


def rewrite_in_key_order(
    *, session: Session, round_ids: Sequence[int], only_if_unsettled: bool = False
) -> bool:
    """Re-insert these rounds' answers in pseudonym order, in one transaction, on PostgreSQL:
    its heap (and so a dump) otherwise keeps rows in the order people clicked, and each row's
    `xmin` is its click's transaction. Afterwards every row has the same `xmin` and sits in
    key order. SQLite stores the table in key order already (WITHOUT ROWID), with no
    transaction ids. With `only_if_unsettled`, nothing is rewritten unless some row was
    written after the last rewrite. Returns whether rows were rewritten."""
    if not round_ids or session.get_bind().dialect.name != "postgresql":
        return False
    ids = {"ids": list(round_ids)}
    # Clicks wait for the rewrite instead of racing it (a score changed mid-rewrite would be
    # lost); the rewrite is one server-side statement per step, so the wait is short.
    session.execute(text("LOCK TABLE answer IN SHARE ROW EXCLUSIVE MODE"))
    if only_if_unsettled:
        mixed = session.execute(
            text("SELECT count(DISTINCT xmin::text) > 1 FROM answer WHERE round_id = ANY(:ids)"),
            ids,
        ).scalar_one()
        if not mixed:
            return False
    session.execute(
        text(
            "CREATE TEMPORARY TABLE answer_settling ON COMMIT DROP AS "
            "SELECT * FROM answer WHERE round_id = ANY(:ids)"
        ),
        ids,
    )
    session.execute(text("DELETE FROM answer WHERE round_id = ANY(:ids)"), ids)
    session.execute(
        text(
            "INSERT INTO answer SELECT * FROM answer_settling "
            "ORDER BY round_id, respondent, question_id"
        )
    )
    session.execute(text("DROP TABLE answer_settling"))
    return True


def _cell_row(period: str, dimension: str, kind: GroupKind, name: str, cell: Cell) -> PublishedCell:
    s1, s2, s3, s4, s5 = cell.dist.counts
    return PublishedCell(
        period=period,
        dimension=dimension,
        group_kind=kind.value,
        group_name=name,
        people=cell.people,
        score_1=s1,
        score_2=s2,
        score_3=s3,
        score_4=s4,
        score_5=s5,
    )


def cell_rows(cells: PeriodCells) -> list[PublishedCell]:
    period = cells.period
    rows = [_cell_row(period, d, GroupKind.ORG, "", c) for d, c in cells.org.items()]
    rows += [_cell_row(period, d, GroupKind.LEADERS, "", c) for d, c in cells.leaders.items()]
    rows += [_cell_row(period, d, GroupKind.OTHERS, "", c) for d, c in cells.others.items()]
    for team, by_dimension in cells.teams.items():
        rows += [_cell_row(period, d, GroupKind.TEAM, team, c) for d, c in by_dimension.items()]
    return rows


def atoms_json(atoms: dict[str, list[Atom]]) -> str:
    return json.dumps(
        {d: [[a.team, a.is_leader, a.people] for a in found] for d, found in atoms.items()},
        sort_keys=True,
    )


@dataclass
class WeekRecord:
    """One published week as stored, with its cells."""

    week: PublishedWeek
    published: PublishedPeriod

    @property
    def drivers(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = json.loads(self.week.drivers)
        return found


def load_weeks(*, session: Session, periods: Sequence[str]) -> dict[str, WeekRecord]:
    if not periods:
        return {}
    weeks = session.exec(select(PublishedWeek).where(col(PublishedWeek.period).in_(periods)))
    out: dict[str, WeekRecord] = {}
    for week in weeks.all():
        atoms = {
            d: [Atom(team, bool(lead), int(n)) for team, lead, n in found]
            for d, found in json.loads(week.atoms).items()
        }
        out[week.period] = WeekRecord(
            week, PublishedPeriod(PeriodCells(week.period), atoms, week.hidden_teams)
        )
    query = select(PublishedCell).where(col(PublishedCell.period).in_(list(out)))
    for row in session.exec(query).all():
        cell = Cell(
            row.people,
            Distribution((row.score_1, row.score_2, row.score_3, row.score_4, row.score_5)),
        )
        cells = out[row.period].published.cells
        kind = GroupKind(row.group_kind)
        if kind is GroupKind.ORG:
            cells.org[row.dimension] = cell
        elif kind is GroupKind.TEAM:
            cells.teams.setdefault(row.group_name, {})[row.dimension] = cell
        elif kind is GroupKind.LEADERS:
            cells.leaders[row.dimension] = cell
        else:
            cells.others[row.dimension] = cell
    return out


@dataclass(frozen=True, slots=True)
class WeekComment:
    text: str
    dimension: str | None  # None when the dimension alone did not meet the comment rule
    id: str = ""  # random (bot.db.replies): it says nothing about when or by whom
    # Its author asked for replies and the link still holds (bot.services.comments sets it).
    replyable: bool = False
    # The dimensions its text speaks to, comma-separated (bot.services.themes); None for a
    # week published before comments were tagged.
    themes: str | None = None


def week_comments(*, session: Session, period: str) -> list[WeekComment]:
    """A published week's comments in the order fixed at publication (random, never by
    time or person), so every output and every page shows them in the same order."""
    query = (
        select(
            PublishedComment.text,
            PublishedComment.dimension,
            PublishedComment.id,
            PublishedComment.themes,
        )
        .where(PublishedComment.period == period)
        .order_by(col(PublishedComment.position), col(PublishedComment.id))
    )
    return [
        WeekComment(text, dimension, cid, themes=themes)
        for text, dimension, cid, themes in session.exec(query).all()
    ]


def recount_comments(*, session: Session, periods: Sequence[str]) -> None:
    """Set these weeks' comment totals to the comments they have left (after forget-me)."""
    for period in periods:
        left = session.exec(
            select(func.count())
            .select_from(PublishedComment)
            .where(PublishedComment.period == period)
        ).one()
        session.execute(
            update(PublishedWeek)
            .where(col(PublishedWeek.period) == period)
            .values(comments_total=int(left))
        )


def delete_comments_of_periods(*, session: Session, periods: Sequence[str]) -> int:
    if not periods:
        return 0
    # Their reply links and conversations go with them (the audit log stays).
    relay.forget_periods(session.connection(), periods=periods)
    result = session.execute(
        delete(PublishedComment).where(col(PublishedComment.period).in_(periods))
    )
    session.execute(
        update(PublishedWeek).where(col(PublishedWeek.period).in_(periods)).values(comments_total=0)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def record_posted_digest(*, session: Session, period: str, channel: str, ts: str) -> None:
    session.add(PostedDigest(period=period, channel=channel, ts=ts))
    session.flush()


def posted_digests(*, session: Session, periods: Sequence[str]) -> list[PostedDigest]:
    if not periods:
        return []
    query = select(PostedDigest).where(col(PostedDigest.period).in_(periods))
    return list(session.exec(query.order_by(col(PostedDigest.id))).all())


def progress(*, session: Session, period: str) -> RoundProgress | None:
    return session.get(RoundProgress, period)


def open_round_counts(*, session: Session, round_ids: Sequence[int]) -> tuple[int, int]:
    """(invited, answered) across open rounds: distinct people DMed, distinct respondents."""
    if not round_ids:
        return 0, 0
    invited = session.exec(
        select(func.count(func.distinct(Delivery.member_id))).where(
            col(Delivery.round_id).in_(round_ids), Delivery.status == DeliveryStatus.SENT
        )
    ).one()
    answered = session.exec(
        select(func.count(func.distinct(Answer.respondent))).where(
            col(Answer.round_id).in_(round_ids)
        )
    ).one()
    return int(invited), int(answered)


def clear_pending_roster(*, session: Session, round_ids: Sequence[int]) -> None:
    if round_ids:
        session.execute(delete(PendingRoster).where(col(PendingRoster.round_id).in_(round_ids)))
