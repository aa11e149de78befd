"""Closing the loop: a leader commits to the digest's focus (what, by when, who leads it);
at the due date the digest says whether the dimension moved beyond noise, and the next
pulse tells the people who were asked ("you said, we did")."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.analytics.periods import period_key
from bot.db import commitments as store
from bot.db.engine import session_scope
from bot.db.models import ActionItem
from bot.errors import ActionTooLong, ActionUsage, CommitmentDueInPast, UnknownDimension
from bot.services.context import Deps

MAX_ACTION_CHARS = 500
# A commitment made with `/cx act <dimension> <text>` (no date asked) is due in four weeks:
# one full rotation, so the dimension has been asked again by then.
DEFAULT_DUE = timedelta(weeks=4)
# Due dates further out than this are refused: a follow-up a year on measures nothing.
LONGEST_DUE = timedelta(weeks=26)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the follow-up found, frozen when the digest reporting it was built."""

    period: str
    real: bool
    direction: str
    now: float | None
    before: float | None


@dataclass(frozen=True, slots=True)
class Commitment:
    id: int
    dimension: str
    text: str
    owner: str | None
    due_on: date | None
    period: str
    outcome: Outcome | None = None


def due_period(due_on: date) -> str:
    year, week, _ = due_on.isocalendar()
    return f"{year}-W{week:02d}"


def _commitment(item: ActionItem) -> Commitment:
    outcome = None
    if item.outcome:
        data = json.loads(item.outcome)
        outcome = Outcome(
            data["period"], data["real"], data["direction"], data.get("now"), data.get("before")
        )
    assert item.id is not None
    return Commitment(
        item.id, item.dimension, item.text, item.owner, item.due_on, item.period, outcome
    )


def record_commitment(
    deps: Deps,
    *,
    created_by: str,
    dimension: str,
    text: str,
    owner: str | None,
    due_on: date | None,
) -> Commitment:
    """Store a commitment; refused (politely, by the caller) when it cannot be followed up."""
    bank = deps.prompts.bank
    if dimension not in {d.id for d in bank.dimensions}:
        known = ", ".join(f"`{d.id}`" for d in bank.dimensions)
        raise UnknownDimension(name=dimension[:40], known=known)
    text = text.strip()
    if not text:
        raise ActionUsage()
    if len(text) > MAX_ACTION_CHARS:
        raise ActionTooLong(limit=MAX_ACTION_CHARS)
    now = deps.clock.now()
    today = now.astimezone(deps.settings.zone).date()
    due = due_on or today + DEFAULT_DUE
    if due < today or due > today + LONGEST_DUE:
        raise CommitmentDueInPast(
            earliest=today.isoformat(), latest=(today + LONGEST_DUE).isoformat()
        )
    period = period_key(now, deps.settings.zone)
    with session_scope(deps.engine) as session:
        item = store.add_commitment(
            session=session,
            dimension=dimension,
            text=text,
            created_by=created_by,
            owner=owner or created_by,
            due_on=due,
            period=period,
            now=now,
        )
        return _commitment(item)


@dataclass(frozen=True, slots=True)
class CommitmentsForReport:
    due: list[Commitment]  # followed up in this week's digest
    open: list[Commitment]  # not due yet: listed, not tested


def commitments_for_report(deps: Deps, period: str) -> CommitmentsForReport:
    """The commitments a week's digest follows up (due by its week and not yet reported by an
    earlier week's digest) and those still running."""
    with session_scope(deps.engine) as session:
        pending = [_commitment(i) for i in store.open_commitments(session=session)]
        reported = [_commitment(i) for i in store.followed_up(session=session)]
    due = [c for c in pending if c.period <= period and _due_by(c, period)]
    due += [c for c in reported if c.outcome is not None and c.outcome.period == period]
    running = [c for c in pending if c.period <= period and not _due_by(c, period)]
    return CommitmentsForReport(sorted(due, key=lambda c: c.id), running)


def every_commitment(deps: Deps) -> tuple[list[Commitment], list[Commitment]]:
    """Every commitment: those not yet followed up, and those whose follow-up a digest
    reported (with what it found), each oldest first (the web report's actions page)."""
    with session_scope(deps.engine) as session:
        pending = [_commitment(i) for i in store.open_commitments(session=session)]
        reported = [_commitment(i) for i in store.followed_up(session=session)]
    return pending, reported


def _due_by(commitment: Commitment, period: str) -> bool:
    due = commitment.due_on
    return due is None or due_period(due) <= period


@dataclass(frozen=True, slots=True)
class FollowUpResult:
    """What a digest found for one due commitment."""

    action_id: int
    real: bool
    delta: float | None  # tested, in points of the 1-5 scale
    now: float | None
    before: float | None


def record_follow_ups(deps: Deps, period: str, results: list[FollowUpResult]) -> int:
    """Freeze what a posted digest reported for each due commitment (once per commitment):
    the next pulse tells the people who were asked."""
    recorded = 0
    now = deps.clock.now()
    with session_scope(deps.engine) as session:
        for result in results:
            if result.now is None:
                continue  # not asked since it was made: reported again next week, not closed
            real = result.real and result.delta is not None
            outcome = {
                "period": period,
                "real": real,
                "direction": ("up" if (result.delta or 0) > 0 else "down") if real else "none",
                "now": result.now,
                "before": result.before,
            }
            recorded += store.mark_followed_up(
                session=session, action_id=result.action_id, outcome=json.dumps(outcome), now=now
            )
    return recorded


def followed_up_between(deps: Deps, since: datetime, until: datetime) -> list[Commitment]:
    """Commitments whose result a digest reported in this span: the "you said, we did" lines
    of the round that opened at `until`."""
    with session_scope(deps.engine) as session:
        items = store.followed_up_between(session=session, since=since, until=until)
        return [_commitment(i) for i in items]
