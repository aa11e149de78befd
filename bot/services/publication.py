"""Publishing closed weeks once, through the disclosure gate, into frozen tables.

A week is published when every round in it has closed: its cells (all groupings, checked
together by the auditor), participation, frozen drivers and comments (when the comment rule
is met) are written in one transaction, and never recomputed. Every output reads closed weeks
from there, so nothing that happens afterwards (a late answer, forget-me, a purge, a team
change, a setting) changes what anyone was shown. The open week shows nothing but a coarse,
hourly response share (`open_progress`).
"""

from __future__ import annotations

import json
import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.analytics.anonymity import may_show
from bot.analytics.cells import Observation, publish_period
from bot.analytics.findings import DRIVER_MIN_PAIRS, driver_findings, week_number
from bot.db import alerts as alert_store
from bot.db import published as store
from bot.db import relay
from bot.db import repositories as repo
from bot.db.engine import session_scope
from bot.db.models import NOT_APPLICABLE, PublishedComment, PublishedWeek, RoundProgress
from bot.services.context import Deps
from bot.services.themes import tag_published_comments

log = logging.getLogger(__name__)

# Drivers look at respondents' answers over the last two months, frozen at publication.
DRIVER_WEEKS = 8
DRIVER_PEOPLE = 1500
# Shown figures are rounded: a published correlation is not an equation to solve for anyone.
DRIVER_PLACES = 2
SHARE_PLACES = 2
PROGRESS_STEP = 10  # percent
PROGRESS_EVERY = timedelta(hours=1)


def _memberships(
    deps: Deps, session: Session, round_ids: list[int]
) -> tuple[dict[str, tuple[str | None, bool]], int]:
    """Each respondent's team and leader flag for the week (their latest round's), found
    through the key from the deliveries (imported rounds: the pending roster); and how many
    people were invited."""
    latest: dict[str, tuple[int, str | None, bool]] = {}
    invited: set[str] = set()
    for invitee in store.week_invitees(session=session, round_ids=round_ids):
        respondent = deps.respondent(invitee.slack_user_id)
        invited.add(respondent)
        found = latest.get(respondent)
        if found is None or found[0] < invitee.round_id:
            latest[respondent] = (invitee.round_id, invitee.team, invitee.is_leader)
    for round_id, respondent, team, is_leader in store.pending_roster(
        session=session, round_ids=round_ids
    ):
        found = latest.get(respondent)
        if found is None or found[0] < round_id:
            latest[respondent] = (round_id, team, is_leader)
    return {p: (team, lead) for p, (_, team, lead) in latest.items()}, len(invited)


def _drivers(
    deps: Deps, session: Session, period: str, this_week: list[int]
) -> tuple[str, float | None]:
    """Drivers over the last DRIVER_WEEKS weeks, frozen now; each needs the minimum number of
    distinct people (not respondent-weeks) and enough pairs.

    The outcome each dimension is correlated with is the outcome dimension's score of the same
    respondent-week: the mean of the outcome items they answered (customer-first behaviour and
    customer outcomes), so no single item carries every driver. "Doesn't apply to me" answers
    are not read (`respondent_answers` leaves them out), so they move no mean.
    """
    # numpy is needed only here, once per week published: not on every command's start-up.
    from bot.analytics.respondents import (
        driver_pair_counts,
        paired_people,
        period_means,
        person_share,
    )

    minimum = deps.settings.min_group_size
    now_week = week_number(period)
    earlier = [
        p
        for p in store.published_periods(session=session, up_to=period)
        if 0 < now_week - week_number(p) < DRIVER_WEEKS
    ]
    rounds = list(repo.rounds_of_periods(session=session, periods=earlier)) + this_week
    people = len(repo.respondents_in_rounds(session=session, round_ids=this_week))
    share_kept = min(1.0, DRIVER_PEOPLE / max(people, 1))
    below = None if share_kept >= 1.0 else f"{max(1, int(share_kept * 256)):02x}"
    answers = repo.respondent_answers(session=session, round_ids=rounds, below=below)
    means = period_means(answers.periods, answers.respondents, answers.dimensions, answers.scores)
    outcome = deps.prompts.bank.outcome_dimension
    pairs = driver_pair_counts(means, outcome)
    behind = paired_people(means, outcome)
    usable = {d: c for d, c in pairs.items() if may_show(behind.get(d, 0), minimum)}
    drivers = [
        {
            "dimension": d.dimension,
            "rho": round(d.rho, DRIVER_PLACES),
            "low": round(d.low, DRIVER_PLACES),
            "high": round(d.high, DRIVER_PLACES),
            "pairs": d.pairs,
        }
        for d in driver_findings(usable)
        if d.pairs >= DRIVER_MIN_PAIRS
    ]
    share = person_share(means)
    return json.dumps(drivers), None if share is None else round(share, SHARE_PLACES)


def publish_week(deps: Deps, period: str) -> bool:
    """Publish one closed week; False when it was already published (by anyone)."""
    settings = deps.settings
    minimum = settings.min_group_size
    now = deps.clock.now()
    try:
        with session_scope(deps.engine) as session:
            if store.is_published(session=session, period=period):
                return False
            rounds = repo.rounds_in_period(session=session, period=period)
            if any(r.closes_at > now for r in rounds):
                return False
            round_ids = [r.id for r in rounds if r.id is not None]
            # The row goes in first: a second publisher blocks on it, then fails and rolls back.
            week = PublishedWeek(period=period, published_at=now, min_group_size=minimum)
            session.add(week)
            session.flush()
            memberships, invited = _memberships(deps, session, round_ids)
            answers = store.week_answers(session=session, round_ids=round_ids)
            # "Doesn't apply to me" is in no cell (nor any n, distribution or driver); the
            # person still counts below as a respondent, for participation and comments.
            rows = [
                Observation(
                    period,
                    a.respondent,
                    *memberships.get(a.respondent, (None, False)),
                    a.dimension,
                    a.score,
                )
                for a in answers
                if a.score != NOT_APPLICABLE
            ]
            published = publish_period(period, rows, minimum)
            session.add_all(store.cell_rows(published.cells))
            respondents = {a.respondent for a in answers}
            imported = invited == 0 and bool(respondents)
            week.invited = None if imported else invited
            week.respondents = len(respondents) if may_show(len(respondents), minimum) else None
            week.hidden_teams = published.hidden_teams
            week.atoms = store.atoms_json(published.atoms)
            week.drivers, week.person_share = _drivers(deps, session, period, round_ids)
            week.comments_total = _publish_comments(deps, session, period, answers, round_ids)
            # Each comment's themes, from its text alone, and how many comments of the week
            # went to the admins instead (bot.services.themes, bot.services.alerts).
            tag_published_comments(deps, session, period=period)
            week.comments_alerted = alert_store.week_count(session.connection(), period=period)
            session.add(week)
            store.rewrite_in_key_order(session=session, round_ids=round_ids)
            store.clear_pending_roster(session=session, round_ids=round_ids)
    except IntegrityError:
        log.info("week %s was published by another process", period)
        return False
    deps.reports.invalidate()
    log.info("week %s published", period)
    return True


def _publish_comments(
    deps: Deps,
    session: Session,
    period: str,
    answers: list[store.WeekAnswer],
    round_ids: list[int],
) -> int:
    """The week's comments, if enough people answered to hide any author: each text once, in
    an order fixed now at random, under the random id it had while pending (so an opted-in
    comment keeps its reply link). Nothing says who wrote any of them. The pending rows go
    either way; a comment the rule keeps from leaders loses its link with them."""
    connection = session.connection()
    pending = relay.round_comments(connection, round_ids=round_ids)
    relay.delete_round_comments(connection, round_ids=round_ids)
    people = len({a.respondent for a in answers})
    minimum = deps.settings.comment_minimum
    if not may_show(people, minimum):
        relay.delete_links(connection, comment_ids=[c.id for c in pending])
        return 0
    linked = relay.linked(connection, comment_ids=[c.id for c in pending])
    by_text: dict[str, relay.RoundComment] = {}
    for comment in pending:
        kept = by_text.get(comment.text)
        # The same words twice are shown once; a copy opened to replies is the one kept.
        if kept is None or (comment.id in linked and kept.id not in linked):
            by_text[comment.text] = comment
    shown = {c.id for c in by_text.values()}
    relay.delete_links(connection, comment_ids=[c.id for c in pending if c.id not in shown])
    # Comments name their dimension only when every commented dimension's answerers alone
    # meet the comment rule: filtering by dimension must not narrow the possible authors below
    # it, and neither may the absence of a label (were some labelled, an unlabelled comment
    # would point at the one small dimension). All or none, per week.
    answered: dict[str, set[str]] = {}
    for answer in answers:
        answered.setdefault(answer.dimension, set()).add(answer.respondent)
    labelled = all(may_show(len(answered.get(c.dimension, ())), minimum) for c in by_text.values())
    order = random.SystemRandom()
    positions = order.sample(range(1_000_000_000), len(by_text))
    # Added in id order (random): neither the storage order nor the ids follow anything.
    chosen = sorted(by_text.values(), key=lambda c: c.id)
    for comment, position in zip(chosen, positions, strict=True):
        session.add(
            PublishedComment(
                id=comment.id,
                period=period,
                position=position,
                text=comment.text,
                dimension=comment.dimension if labelled else None,
            )
        )
    return len(chosen)


def publish_due_weeks(deps: Deps) -> list[str]:
    """Publish every closed week not yet published, oldest first (drivers build on earlier
    weeks); safe to run from any number of processes at once."""
    with session_scope(deps.engine) as session:
        due = store.unpublished_closed_periods(session=session, now=deps.clock.now())
    return [period for period in due if publish_week(deps, period)]


def settle_open_answers(deps: Deps) -> bool:
    """Put the open rounds' answers back in key order (PostgreSQL), so a dump tells click
    order apart only within the few minutes since the last run (the publish job's cadence)."""
    with session_scope(deps.engine) as session:
        round_ids = [r.id for r in repo.open_rounds(session=session, now=deps.clock.now()) if r.id]
        # Pending comments and reply links too: their transaction ids sit next to those of
        # the same person's clicks (bot.db.relay.settle_storage_order).
        comments = relay.settle_storage_order(session.connection())
        answers = store.rewrite_in_key_order(
            session=session, round_ids=round_ids, only_if_unsettled=True
        )
        return answers or comments


def publish_and_settle(deps: Deps) -> None:
    """The publish job: publish closed weeks, then settle the open rounds' storage order."""
    publish_due_weeks(deps)
    settle_open_answers(deps)


@dataclass(frozen=True, slots=True)
class OpenProgress:
    """The open week as anyone may see it: a share answered so far, in steps of 10%."""

    period: str
    closes_at: datetime
    share_step: int | None  # tens of percent answered; None while fewer than the minimum


def open_progress(deps: Deps) -> OpenProgress | None:
    """The open week's response share, recomputed at most once an hour (across processes),
    so two looks a click apart show the same figure."""
    now = deps.clock.now()
    hour = now.replace(minute=0, second=0, microsecond=0)
    with session_scope(deps.engine) as session:
        open_rounds = repo.open_rounds(session=session, now=now)
        if not open_rounds:
            return None
        period = max(r.period for r in open_rounds)
        in_period = [r for r in open_rounds if r.period == period]
        row = store.progress(session=session, period=period)
        if row is None or row.computed_at < hour:
            invited, answered = store.open_round_counts(
                session=session, round_ids=[r.id for r in in_period if r.id is not None]
            )
            step = None
            if invited and may_show(answered, deps.settings.min_group_size):
                step = answered * 100 // invited // PROGRESS_STEP
            if row is None:
                row = RoundProgress(period=period, computed_at=hour, share_step=step)
            else:
                row.computed_at, row.share_step = hour, step
            session.add(row)
        closes_at = max(r.closes_at for r in in_period)
        step = row.share_step
        try:
            session.flush()
        except IntegrityError:
            # Another process computed this hour's figure first: theirs is the one shown.
            session.rollback()
            found = store.progress(session=session, period=period)
            step = None if found is None else found.share_step
    return OpenProgress(period, closes_at, step)
