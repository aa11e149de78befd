"""The leadership report for one published week: read from the published tables (never from
raw answers) and turned into findings. The digest, `digest --json`, `/cx` replies, App Home,
exports and the chart all read it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session

from bot.analytics.anonymity import may_show
from bot.analytics.cells import PeriodCells, regate
from bot.analytics.findings import (
    SWING_HISTORY,
    Driver,
    Findings,
    Reading,
    build_findings,
    week_number,
)
from bot.analytics.headlines import Headline, headlines
from bot.analytics.kudos import KudosSummary
from bot.analytics.periods import shift_period
from bot.analytics.themes import WeekThemes
from bot.db import commitments as commitment_store
from bot.db import published as store
from bot.db import repositories as repo
from bot.db.engine import session_scope
from bot.db.published import WeekComment
from bot.errors import NothingToReport, NotYetPublished, UnknownPeriod
from bot.services.comments import visible_comments
from bot.services.commitments import Commitment, commitments_for_report
from bot.services.context import Deps
from bot.services.kudos import kudos_summary
from bot.services.publication import OpenProgress, open_progress, publish_due_weeks
from bot.services.themes import themes_of

MAX_COMMENTS = 5
# Weeks read for a report: enough for the weekly-swing estimate and two quarters.
HISTORY_WEEKS = max(SWING_HISTORY, 26) + 1


@dataclass(frozen=True, slots=True)
class Participation:
    """Who was invited and answered in a published week. Exact: the response count says how
    many did not answer, never who (README, "What no gate can prevent")."""

    invited: int | None
    respondents: int | None  # None when fewer than the minimum answered
    rate: float | None


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
    nudge_id: str = ""  # so a DM to each lead can word it in that lead's language


@dataclass(frozen=True, slots=True)
class FollowUp:
    """A commitment due by this week, with what its dimension did since it was made."""

    dimension: str
    action: str
    since: str
    delta: float | None
    real: bool
    owner: str | None = None
    due_on: date | None = None
    now: float | None = None  # favourable share of the readings since (None: none yet)
    before: float | None = None  # and of the eight weeks before it was made
    action_id: int = 0


@dataclass
class Report:
    period: str
    min_group_size: int
    participation: Participation
    previous_rate: float | None
    findings: Findings
    hidden_teams: int = 0
    comment_minimum: int = 0  # the comment rule: comments are shown once this many answered
    comments: list[WeekComment] = field(default_factory=list)  # the first MAX_COMMENTS
    comments_total: int = 0
    focus: Focus | None = None
    team_nudges: list[TeamNudge] = field(default_factory=list)
    follow_ups: list[FollowUp] = field(default_factory=list)
    # Commitments made and not yet due: listed so leaders see the loop is open.
    commitments: list[Commitment] = field(default_factory=list)
    # Every real finding, biggest first: what the notification and first section say.
    headlines: list[Headline] = field(default_factory=list)
    history: list[PeriodCells] = field(default_factory=list)
    # The week still open, if any: only its coarse response share, nothing of its answers.
    open_week: OpenProgress | None = None
    # The week's kudos (bot.services.kudos): None when kudos are off and there were none.
    kudos: KudosSummary | None = None
    # What the shown comments are about (bot.services.themes): None for weeks published
    # before comments were tagged, or with no comment shown.
    themes: WeekThemes | None = None
    # Comments of the week passed to admins instead of shown (frozen at publication).
    comments_passed_to_admins: int = 0

    def reading(self, dimension: str) -> Reading | None:
        return next((r for r in self.findings.dimensions if r.dimension == dimension), None)


def weeks_as_shown(records: dict[str, store.WeekRecord], minimum: int) -> dict[str, PeriodCells]:
    """Each published week's cells under the minimum in force: frozen as published, or with
    more hidden when the minimum has been raised since (never fewer)."""
    out = {}
    for period, record in records.items():
        published = record.published
        published.cells.minimum = record.week.min_group_size
        if minimum > record.week.min_group_size:
            out[period] = regate(published, minimum)
        else:
            out[period] = published.cells
    return out


def gated_periods(session: Session, periods: Sequence[str], *, minimum: int) -> list[PeriodCells]:
    """Published weeks' cells, in the order given: all that any output may show of them (an
    export and a digest read the same rows, so they never disagree)."""
    shown = weeks_as_shown(store.load_weeks(session=session, periods=periods), minimum)
    return [shown[p] for p in periods if p in shown]


def _participation(record: store.WeekRecord, minimum: int) -> Participation:
    week = record.week
    if week.invited is None:
        return Participation(None, None, None)  # an imported week: nobody was invited by us
    if week.respondents is None or not may_show(week.respondents, minimum) or not week.invited:
        return Participation(week.invited, None, None)
    return Participation(week.invited, week.respondents, week.respondents / week.invited)


def _frozen_drivers(record: store.WeekRecord) -> list[Driver]:
    return [
        Driver(d["dimension"], d["rho"], d["low"], d["high"], d["pairs"]) for d in record.drivers
    ]


def _pick_period(session: Session, period: str | None) -> str:
    """The week asked for, which must be published; by default the latest published."""
    published = store.published_periods(session=session)
    if period is not None:
        if period in published:
            return period
        if period in set(repo.periods_with_rounds(session=session)):
            raise NotYetPublished(period=period[:16])
        raise UnknownPeriod(period=period[:16])
    if not published:
        raise NothingToReport()
    return published[-1]


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
    """The report for a published week (default: the latest), from the published tables only:
    every closed week is published first, so nothing here reads a raw answer. Timed in
    cxpulse_digest_build_seconds."""
    with deps.metrics.digest_build():
        return _build_digest(deps, period=period)


def _build_digest(deps: Deps, *, period: str | None) -> Report:
    publish_due_weeks(deps)
    settings = deps.settings
    bank = deps.prompts.bank
    minimum = settings.min_group_size
    with session_scope(deps.engine) as session:
        chosen = _pick_period(session, period)
        now_week = week_number(chosen)
        periods = [
            p
            for p in store.published_periods(session=session, up_to=chosen)
            if now_week - week_number(p) < HISTORY_WEEKS
        ]
        records = store.load_weeks(session=session, periods=periods)
        visible = visible_comments(deps, session, chosen)
    commitments = commitments_for_report(deps, chosen)
    shown = weeks_as_shown(records, minimum)
    history = [shown[p] for p in periods]
    current = records[chosen]
    previous = [p for p in periods if p < chosen and records[p].week.invited]
    previous_rate = _participation(records[previous[-1]], minimum).rate if previous else None
    dimensions = [d.id for d in bank.dimensions]
    findings = build_findings(
        history,
        dimensions=dimensions,
        drivers=_frozen_drivers(current),
        person_part=current.week.person_share,
        actions=[(c.dimension, c.period) for c in commitments.due],
    )
    report = Report(
        period=chosen,
        # The minimum this week is shown under: today's, or the one it was published with if
        # that was higher (a lower minimum never shows more of a published week).
        min_group_size=max(minimum, current.week.min_group_size),
        participation=_participation(current, minimum),
        previous_rate=previous_rate,
        findings=findings,
        hidden_teams=current.week.hidden_teams + _newly_hidden(current, shown[chosen]),
        comment_minimum=settings.comment_minimum,
        comments=visible[:MAX_COMMENTS],
        comments_total=len(visible),
        themes=themes_of(deps, [c.themes for c in visible]),
        comments_passed_to_admins=current.week.comments_alerted,
        history=history,
        open_week=open_progress(deps),
    )
    report.team_nudges = _team_nudges(deps, findings)
    report.follow_ups = [
        FollowUp(
            f.dimension,
            c.text,
            f.since,
            f.verdict.delta,
            f.verdict.real,
            owner=c.owner,
            due_on=c.due_on,
            now=f.after_favourable,
            before=f.before_favourable,
            action_id=c.id,
        )
        for c, f in zip(commitments.due, findings.follow_ups, strict=True)
    ]
    report.commitments = commitments.open
    report.headlines = headlines(findings, tuple(range(len(findings.follow_ups))))
    report.focus = _focus(deps, report, committed={c.dimension for c in commitments.open})
    report.kudos = kudos_summary(deps, chosen)
    return report


def _newly_hidden(record: store.WeekRecord, shown: PeriodCells) -> int:
    """Teams published but hidden now, under a minimum raised since."""
    return len(set(record.published.cells.teams) - set(shown.teams))


def _focus(deps: Deps, report: Report, *, committed: set[str]) -> Focus | None:
    """The dimension to work on: the clearest fall, else the weakest reading, but never the
    same one more than two weeks running unless someone committed to it (a focus nobody takes
    up is not news the third time). Fixed the first time the week's digest is built."""
    readings = report.findings.dimensions
    if not readings:
        return None
    declined = sorted(
        (r for r in readings if r.real_direction == "down"),
        key=lambda r: (r.vs_baseline.delta or 0.0, r.dimension),
    )
    rest = sorted(
        (r for r in readings if r.real_direction != "down"),
        key=lambda r: (r.favourable_share, r.mean, r.dimension),
    )
    ranked = [*declined, *rest]
    earlier = [shift_period(report.period, -weeks) for weeks in (1, 2)]
    with session_scope(deps.engine) as session:
        before = commitment_store.focus_proposals(session=session, periods=earlier)
        stale = {before[p] for p in earlier if p in before}
        if len(stale) == 1 and len(before) == 2:
            (repeated,) = stale
            if repeated not in committed:
                ranked = [r for r in ranked if r.dimension != repeated] or ranked
        chosen_id = commitment_store.propose_focus(
            session=session, period=report.period, dimension=ranked[0].dimension
        )
    chosen = next((r for r in readings if r.dimension == chosen_id), ranked[0])
    nudges = deps.prompts.nudges.for_dimension(chosen.dimension)
    pick = nudges[week_number(report.period) % len(nudges)]
    return Focus(chosen.dimension, chosen.real_direction == "down", pick.text)


def _team_nudges(deps: Deps, findings: Findings) -> list[TeamNudge]:
    """One nudge for each team with a dimension that clearly declined (its worst one): an
    action its lead can take with the team this week, from the team-level list."""
    out = []
    for team in findings.teams:
        declined = [r for r in team.readings if r.real_direction == "down"]
        if not declined:
            continue
        worst = min(declined, key=lambda r: (r.vs_baseline.delta or 0.0, r.dimension))
        nudges = deps.prompts.nudges.for_team(worst.dimension)
        pick = nudges[week_number(findings.period) % len(nudges)]
        out.append(TeamNudge(team.team, worst.dimension, pick.text, pick.id))
    return out
