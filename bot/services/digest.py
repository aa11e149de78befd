"""The leadership report for one period: loaded from the database as sums, gated once, and
turned into findings. The digest, `digest --json`, `/cx` replies and the chart all read it.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.analytics.anonymity import GroupKind, may_show
from bot.analytics.cells import Cell, PeriodCells, PeriodCounts, gate
from bot.analytics.findings import (
    SWING_HISTORY,
    Findings,
    Reading,
    build_findings,
    week_number,
)
from bot.analytics.noise import Distribution
from bot.analytics.periods import period_key
from bot.analytics.respondents import PairCounts, driver_pair_counts, period_means, person_share
from bot.db import repositories as repo
from bot.db.engine import session_scope
from bot.errors import NothingToReport, UnknownPeriod
from bot.services.context import Deps

MAX_COMMENTS = 5
# Weeks read for a report: enough for the weekly-swing estimate and two quarters.
HISTORY_WEEKS = max(SWING_HISTORY, 26) + 1
# Drivers look at respondents' answers over the last two months.
DRIVER_WEEKS = 8
DRIVER_PEOPLE = 1500
FOLLOW_UP_WEEKS = 13


@dataclass(frozen=True, slots=True)
class Participation:
    invited: int | None
    respondents: int | None  # None when fewer than the minimum answered
    rate: float | None
    # True when fewer than the minimum did *not* answer: the rate is then shown only as
    # "over N%", so nobody learns that one particular person stayed silent.
    rate_is_floor: bool = False


@dataclass(frozen=True, slots=True)
class Focus:
    dimension: str
    declined: bool
    nudge: str


@dataclass(frozen=True, slots=True)
class TeamNudge:
    team: str
    dimension: str
    nudge: str
    nudge_id: str = ""  # so a DM to each member can word it in that member's language


@dataclass(frozen=True, slots=True)
class FollowUp:
    dimension: str
    action: str
    since: str
    delta: float | None
    real: bool


@dataclass
class Report:
    period: str
    provisional: bool
    closes_at: datetime | None
    min_group_size: int
    participation: Participation
    previous_rate: float | None
    findings: Findings
    hidden_teams: int = 0
    comments: list[str] = field(default_factory=list)
    focus: Focus | None = None
    team_nudges: list[TeamNudge] = field(default_factory=list)
    follow_ups: list[FollowUp] = field(default_factory=list)
    history: list[PeriodCells] = field(default_factory=list)

    def reading(self, dimension: str) -> Reading | None:
        return next((r for r in self.findings.dimensions if r.dimension == dimension), None)


def _counts(
    session: Session, periods: Sequence[str], dimension_of: dict[str, str]
) -> dict[str, PeriodCounts]:
    """Each period's sums, with distinct people per group.

    One answer per person per question per round is guaranteed by the schema, so where a
    period asked a dimension through a single question of a single round (the usual case), the
    answers counted *are* the people; only other periods pay for COUNT(DISTINCT).
    """
    counts = {period: PeriodCounts(period) for period in periods}
    period_of = repo.rounds_of_periods(session=session, periods=periods)
    sources: dict[tuple[str, str], set[tuple[int, str]]] = defaultdict(set)
    people: dict[tuple[str, str, GroupKind, str], int] = defaultdict(int)
    for row in repo.cell_counts(session=session, round_ids=list(period_of)):
        period, dimension = period_of[row.round_id], dimension_of[row.question_id]
        counts[period].add_counts(dimension, row.team, row.is_leader, row.scores)
        sources[(period, dimension)].add((row.round_id, row.question_id))
        split = GroupKind.LEADERS if row.is_leader else GroupKind.OTHERS
        answers = row.answers
        people[(period, dimension, GroupKind.ORG, "")] += answers
        people[(period, dimension, split, "")] += answers
        if row.team is not None:
            people[(period, dimension, GroupKind.TEAM, row.team)] += answers
    for (period, dimension, kind, name), n in people.items():
        if len(sources[(period, dimension)]) == 1:
            counts[period].people[(dimension, kind, name)] = n
    mixed = sorted({period for (period, _), found in sources.items() if len(found) > 1})
    for exact in repo.people_counts(session=session, periods=mixed):
        if len(sources[(exact.period, exact.dimension)]) > 1:
            key = (exact.dimension, GroupKind(exact.group_kind), exact.group_name)
            counts[exact.period].people[key] = exact.people
    for kept in repo.kept_counts(session=session, periods=periods):
        key = (kept.dimension, GroupKind(kept.group_kind), kept.group_name)
        counts[kept.period].kept[key] = Cell(kept.people, Distribution(kept.counts))
    return counts


def gated_periods(
    session: Session,
    periods: Sequence[str],
    *,
    minimum: int,
    dimension_of: dict[str, str] | None = None,
) -> list[PeriodCells]:
    """Each period's cells through the one gate, in the order given: all that any output may
    show of them. Each period is summed and gated on its own, exactly as in a digest's history
    (`build_digest`), so an export and a digest never disagree about what is shown."""
    if dimension_of is None:
        dimension_of = repo.question_dimensions(session=session)
    counts = _counts(session, periods, dimension_of)
    return [gate(counts[period], minimum) for period in periods]


def _participation(
    session: Session, period: str, minimum: int
) -> tuple[Participation, float | None]:
    invited, responded = repo.participation(session=session, period=period)
    current = _gated_participation(invited, responded, minimum)
    previous_rate = None
    earlier = repo.periods_with_invitations(session=session, before=period)
    if earlier:
        before = _gated_participation(
            *repo.participation(session=session, period=earlier[0]), minimum
        )
        previous_rate = None if before.rate_is_floor else before.rate
    return current, previous_rate


def _gated_participation(invited: int, responded: int, minimum: int) -> Participation:
    if invited == 0:
        return Participation(None, None, None)  # an imported week: nobody was invited by us
    if not may_show(responded, minimum):
        return Participation(invited, None, None)
    silent = invited - responded
    if 0 <= silent < minimum:
        floor = max(0, (invited - minimum) // 1) / invited
        return Participation(invited, None, floor, rate_is_floor=True)
    return Participation(invited, responded, responded / invited)


def _driver_pairs(
    session: Session, periods: Sequence[str], outcome: str, people: int
) -> tuple[PairCounts, float | None]:
    """(dimension score, outcome score) pairs of respondent-periods, counted by dimension, and
    the person share.

    Above DRIVER_PEOPLE respondents a fixed, unbiased sample of them is enough for both.
    """
    period_of = repo.rounds_of_periods(session=session, periods=periods)
    share_kept = min(1.0, DRIVER_PEOPLE / max(people, 1))
    below = None if share_kept >= 1.0 else f"{max(1, int(share_kept * 256)):02x}"
    answers = repo.respondent_answers(session=session, round_ids=list(period_of), below=below)
    means = period_means(answers.periods, answers.respondents, answers.dimensions, answers.scores)
    return driver_pair_counts(means, outcome), person_share(means)


def _pick_period(session: Session, deps: Deps, period: str | None) -> str:
    # A week with a round sent but no answer yet still has a (provisional) report.
    known = sorted(
        set(repo.periods_with_answers(session=session))
        | set(repo.periods_with_rounds(session=session))
    )
    if period is not None:
        if period not in known:
            raise UnknownPeriod(period=period[:16])
        return period
    current = period_key(deps.clock.now(), deps.settings.zone)
    usable = [p for p in known if p <= current]
    if not usable:
        raise NothingToReport()
    return usable[-1]


def latest_report(deps: Deps) -> Report:
    """The latest week's report for `/cx` replies: at most a minute old, built in the
    background (bot.services.report_cache), and built afresh whenever a gate setting differs."""
    settings = deps.settings
    key = ("latest", settings.min_group_size, settings.comment_minimum)
    report = deps.reports.get(key, lambda: build_digest(deps))
    assert isinstance(report, Report)
    return report


def warm_latest_report(deps: Deps) -> bool:
    """Build the `/cx` report before anyone asks (at start-up), so even the first reply is
    served from memory; False when there is nothing to report yet."""
    try:
        latest_report(deps)
    except NothingToReport:
        return False
    return True


def build_digest(deps: Deps, *, period: str | None = None) -> Report:
    """The report for a period (default: the latest with answers), through the one gate."""
    settings = deps.settings
    bank = deps.prompts.bank
    minimum = settings.min_group_size
    with session_scope(deps.engine) as session:
        chosen = _pick_period(session, deps, period)
        now_week = week_number(chosen)
        answered = repo.periods_with_answers(session=session, up_to=chosen)
        periods = sorted(
            {p for p in answered if now_week - week_number(p) < HISTORY_WEEKS} | {chosen}
        )
        dimension_of = repo.question_dimensions(session=session)
        counts = _counts(session, periods, dimension_of)
        participation, previous_rate = _participation(session, chosen, minimum)
        recent = [p for p in periods if now_week - week_number(p) < DRIVER_WEEKS]
        outcome = bank.outcome_dimension
        org_people = repo.period_respondents(session=session, period=chosen)
        pairs, share = _driver_pairs(session, recent, outcome, org_people)
        comments = repo.period_comments(session=session, period=chosen)
        rounds = repo.rounds_in_period(session=session, period=chosen)
        since = deps.clock.now() - timedelta(weeks=FOLLOW_UP_WEEKS)
        actions = repo.actions_since(session=session, since=since)
    history = [gate(counts[p], minimum) for p in periods]
    dimensions = [d.id for d in bank.dimensions]
    findings = build_findings(
        history,
        dimensions=dimensions,
        driver_pairs=pairs,
        person_part=share,
        actions=[(a.dimension, a.period) for a in actions if a.period <= chosen],
    )
    open_rounds = [r for r in rounds if r.closes_at > deps.clock.now()]
    report = Report(
        period=chosen,
        provisional=bool(open_rounds),
        closes_at=max((r.closes_at for r in open_rounds), default=None),
        min_group_size=minimum,
        participation=participation,
        previous_rate=previous_rate,
        findings=findings,
        hidden_teams=_hidden_teams(counts[chosen], history[-1]),
        comments=_comments(comments, org_people, settings.comment_minimum),
        history=history,
    )
    report.focus = _focus(deps, report)
    report.team_nudges = _team_nudges(deps, findings)
    texts = {(a.dimension, a.period): a.text for a in actions}
    report.follow_ups = [
        FollowUp(
            f.dimension, texts[(f.dimension, f.since)], f.since, f.verdict.delta, f.verdict.real
        )
        for f in findings.follow_ups
    ]
    return report


def _hidden_teams(counts: PeriodCounts, shown: PeriodCells) -> int:
    teams = {name for (_, kind, name) in counts.people if kind is GroupKind.TEAM}
    return len(teams - set(shown.teams))


def _comments(comments: Sequence[str], people: int, minimum: int) -> list[str]:
    """Up to five comments, only when enough people answered that week to hide any author."""
    if not may_show(people, minimum):
        return []
    # Identical comments are shown once: repeats add nothing and could hint at who wrote them.
    unique = list(dict.fromkeys(comments))
    # Order carries no hint of who wrote what: a fresh, unpredictable shuffle every time.
    random.SystemRandom().shuffle(unique)
    return unique[:MAX_COMMENTS]


def _focus(deps: Deps, report: Report) -> Focus | None:
    """The most clearly declined dimension, else the weakest one this period."""
    readings = report.findings.dimensions
    if not readings:
        return None
    declined = [r for r in readings if r.real_direction == "down"]
    if declined:
        chosen = min(declined, key=lambda r: (r.vs_baseline.delta or 0.0, r.dimension))
    else:
        chosen = min(readings, key=lambda r: (r.favourable_share, r.mean, r.dimension))
    nudges = deps.prompts.nudges.for_dimension(chosen.dimension)
    pick = nudges[week_number(report.period) % len(nudges)]
    return Focus(chosen.dimension, bool(declined), pick.text)


def _team_nudges(deps: Deps, findings: Findings) -> list[TeamNudge]:
    """One nudge for each team with a dimension that clearly declined (its worst one)."""
    out = []
    for team in findings.teams:
        declined = [r for r in team.readings if r.real_direction == "down"]
        if not declined:
            continue
        worst = min(declined, key=lambda r: (r.vs_baseline.delta or 0.0, r.dimension))
        nudges = deps.prompts.nudges.for_dimension(worst.dimension)
        pick = nudges[(week_number(findings.period) + 1) % len(nudges)]
        out.append(TeamNudge(team.team, worst.dimension, pick.text, pick.id))
    return out
