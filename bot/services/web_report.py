"""The web report's pages as data: what one viewer may see, built from the report of the
latest posted digest's week (`bot.services.digest.build_digest`, the same one the digest,
`digest --json`, `/cx` replies and the charts read). Every figure here is a published,
disclosure-audited one (the report's cells under the minimum in force); nothing of an open
week is read. Beyond choosing what a viewer's role lets them see, the only arithmetic is the
digest chart's own, on those cells: each trend's noise band (bot.analytics.bands), each
reading's likely range (bot.analytics.headlines) and why a cell is hidden, from the week's
published people counts (bot.analytics.suppression).

Who sees what (issue 15): admins and leaders see the organisation and every team the gate
lets through; a team lead sees the organisation's headline and their own teams; anyone else
sees the organisation-level findings of the latest posted digest and their own answers.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum

from sqlmodel import col, select

from bot.analytics.bands import Band, noise_bands, share_swing
from bot.analytics.cells import Atom, Cell, PeriodCells
from bot.analytics.findings import (
    QUARTER_WEEKS,
    WINDOW_WEEKS,
    Reading,
    TeamFindings,
    week_number,
)
from bot.analytics.headlines import Headline, Kind, Span, likely_range
from bot.analytics.noise import Distribution
from bot.analytics.periods import shift_period
from bot.analytics.suppression import HiddenReason, hidden_reason, teams_answering
from bot.db import personal
from bot.db import published as store
from bot.db import workspace_settings as snapshots
from bot.db.engine import session_scope
from bot.db.models import PublishedWeek
from bot.prompts import Prompts
from bot.services.comments import CommentsPage, comments_page
from bot.services.commitments import Commitment, every_commitment
from bot.services.context import Deps
from bot.services.digest import Participation, Report, build_digest

CHART_WEEKS = 16  # the weeks a trend shows, as the digest's chart does
OWN_ANSWER_ROUNDS = 4  # App Home shows two; a page has room for a month


class Scope(StrEnum):
    EVERYTHING = "everything"  # admins and leaders: the organisation and every team shown
    LEAD = "lead"  # team leads: the organisation's headline and their own teams
    OWN = "own"  # everyone else: the organisation's findings and their own answers


@dataclass(frozen=True, slots=True)
class ReportAccess:
    """What a viewer's roles let them see; `user_id` finds their own answers (through their
    pseudonym) and their own commitments, and never leaves this module."""

    scope: Scope
    teams: frozenset[str]  # the teams they lead (LEAD)
    user_id: str

    def may_see_team(self, team: str) -> bool:
        return self.scope is Scope.EVERYTHING or (self.scope is Scope.LEAD and team in self.teams)


class PageNotAllowed(Exception):
    """The viewer's roles do not include this page (`page` names it for the refusal)."""

    def __init__(self, page: str) -> None:
        super().__init__(page)
        self.page = page


class PageNotFound(Exception):
    """Nothing here for this viewer: for someone who does not see every team, a team that is
    not theirs gets this too, exactly like a team that does not exist."""


# --- the week shown -----------------------------------------------------------------------------


def posted_period(deps: Deps) -> str | None:
    """The week of the latest posted digest, or None before any was posted."""
    with session_scope(deps.engine) as session:
        found = snapshots.latest_snapshot(session=session)
        if found is None or not store.is_published(session=session, period=found[0]):
            return None
        return found[0]


def _report(deps: Deps, period: str) -> Report:
    """The week's report, kept warm like `/cx` replies' (per gate setting, so a raised minimum
    builds afresh at once; forget-me invalidates it)."""
    settings = deps.settings
    key = ("web", period, settings.min_group_size, settings.comment_minimum)
    report = deps.reports.get(key, lambda: build_digest(deps, period=period))
    assert isinstance(report, Report)
    return report


def posted_report(deps: Deps) -> Report | None:
    period = posted_period(deps)
    return None if period is None else _report(deps, period)


# --- findings -----------------------------------------------------------------------------------


class Owner(StrEnum):
    YOU = "you"
    SOMEONE = "someone"  # named in Slack; the web report knows people by ID only
    NOBODY = "nobody"
    UNSAID = "unsaid"  # not said to someone who does not see the leadership digest


def _owner(owner: str | None, access: ReportAccess) -> Owner:
    if owner is None:
        return Owner.NOBODY
    return Owner.YOU if owner == access.user_id else Owner.SOMEONE


@dataclass(frozen=True, slots=True)
class Finding:
    """One real finding of the digest, as its sentence needs it (shares 0-1).

    `kind`: change, change_mixed, say_do, silo, follow_up_moved, follow_up_flat or
    follow_up_unmeasured.
    """

    kind: str
    dimension: str
    team: str | None
    direction: str
    now: float | None
    before: float | None
    low: float | None = None
    high: float | None = None
    span: str = ""
    previous_period: str = ""
    mean_delta: float = 0.0
    highest: str = ""
    lowest: str = ""
    action: str = ""
    owner: Owner = Owner.NOBODY
    since: str = ""


def _visible(headline: Headline, access: ReportAccess) -> bool:
    """Whether a finding is the viewer's to see: any for leaders; the organisation's (never a
    silo, which names teams) and, for a lead, their own teams' changes."""
    if access.scope is Scope.EVERYTHING:
        return True
    if headline.kind is Kind.SILO:
        return False
    if headline.team is None:
        return True
    return access.scope is Scope.LEAD and headline.team in access.teams


def _finding(report: Report, headline: Headline, access: ReportAccess) -> Finding:
    finding = Finding(
        kind=headline.kind.value,
        dimension=headline.dimension,
        team=headline.team,
        direction=headline.direction,
        now=headline.now,
        before=headline.before,
    )
    if headline.kind is Kind.CHANGE:
        return replace(
            finding,
            kind="change_mixed" if headline.mixed else "change",
            low=headline.low,
            high=headline.high,
            span=(headline.span or Span.BASELINE).value,
            previous_period=headline.previous_period or "",
            mean_delta=abs(headline.mean_delta or 0.0),
        )
    if headline.kind is Kind.SAY_DO:
        return finding
    if headline.kind is Kind.SILO:
        return replace(finding, highest=headline.highest or "", lowest=headline.lowest or "")
    follow = report.follow_ups[headline.follow_up or 0]
    if headline.real:
        kind = "follow_up_moved"
    elif headline.now is None:
        kind = "follow_up_unmeasured"
    else:
        kind = "follow_up_flat"
    return replace(
        finding,
        kind=kind,
        action=follow.action,
        owner=_owner(follow.owner, access) if access.scope is Scope.EVERYTHING else Owner.UNSAID,
        since=follow.since,
    )


def findings_for(report: Report, access: ReportAccess) -> list[Finding]:
    """The digest's findings (biggest first) that this viewer may see."""
    return [_finding(report, h, access) for h in report.headlines if _visible(h, access)]


@dataclass(frozen=True, slots=True)
class Standing:
    """The organisation's strongest and weakest readings, for a week without a finding."""

    strongest: str
    strongest_share: float
    weakest: str
    weakest_share: float


def _standing(report: Report) -> Standing | None:
    readings = report.findings.dimensions
    if not readings:
        return None
    strongest = max(readings, key=lambda r: (r.favourable_share, r.dimension))
    weakest = min(readings, key=lambda r: (r.favourable_share, r.dimension))
    return Standing(
        strongest.dimension,
        strongest.favourable_share,
        weakest.dimension,
        weakest.favourable_share,
    )


# --- trends -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TrendWeek:
    period: str
    share: float | None  # None: not published, not asked, or hidden that week
    people: int | None
    band: Band | None  # where the week would likely land had nothing changed
    marked: str = ""  # "up" / "down": the week a real change is measured from


@dataclass(frozen=True, slots=True)
class Trend:
    dimension: str
    team: str | None  # None: the organisation
    weeks: tuple[TrendWeek, ...]
    direction: str  # the latest reading's real change: "up", "down" or "none"
    latest: float | None

    @property
    def marked(self) -> list[TrendWeek]:
        return [w for w in self.weeks if w.marked]

    @property
    def shown(self) -> list[TrendWeek]:
        return [w for w in self.weeks if w.share is not None]


def _calendar_weeks(report: Report) -> list[str]:
    """The last CHART_WEEKS calendar weeks up to the report's, from the first published one."""
    if not report.history:
        return []
    first = max(week_number(report.history[0].period), week_number(report.period) - CHART_WEEKS + 1)
    count = week_number(report.period) - first + 1
    return [shift_period(report.period, offset - count + 1) for offset in range(count)]


def _marker_period(reading: Reading, span: Span | None) -> str:
    """The week a change is measured from (as the digest's chart marks it)."""
    if span is Span.RECENT:
        return shift_period(reading.period, -(WINDOW_WEEKS - 1))
    if span is Span.QUARTER:
        return shift_period(reading.period, -(QUARTER_WEEKS - 1))
    return reading.period


def _group_cells(period: PeriodCells, team: str | None) -> dict[str, Cell]:
    return period.org if team is None else period.teams.get(team, {})


class _Trends:
    """Each group's published series over the report's history, placed on the weeks shown."""

    def __init__(self, report: Report) -> None:
        self.report = report
        self.weeks = _calendar_weeks(report)
        self._slot = {p.period: i for i, p in enumerate(report.history)}
        earlier = report.history[:-1]
        org_series = [
            [p.org[d].dist for p in earlier if d in p.org]
            for d in sorted({d for p in earlier for d in p.org})
        ]
        pairs = sorted({(t, d) for p in earlier for t, cells in p.teams.items() for d in cells})
        team_series = [
            [p.teams[t][d].dist for p in earlier if d in p.teams.get(t, {})] for t, d in pairs
        ]
        self._swing = {"org": share_swing(org_series), "team": share_swing(team_series)}

    def trend(self, team: str | None, reading: Reading | None, dimension: str) -> Trend:
        history = self.report.history
        cells = [_group_cells(p, team).get(dimension) for p in history]
        dists: list[Distribution | None] = [c.dist if c is not None else None for c in cells]
        headline = next(
            (
                h
                for h in self.report.headlines
                if h.kind is Kind.CHANGE and h.team == team and h.dimension == dimension
            ),
            None,
        )
        marker = anchor = None
        if headline is not None and reading is not None:
            marker = _marker_period(reading, headline.span)
            start = week_number(marker)
            anchor = next(
                (i for i, p in enumerate(history) if week_number(p.period) >= start), None
            )
        swing = self._swing["org" if team is None else "team"]
        bands = noise_bands(dists, swing=swing, anchor=anchor)
        weeks = []
        for period in self.weeks:
            slot = self._slot.get(period)
            cell = cells[slot] if slot is not None else None
            share = cell.dist.favourable_share if cell is not None and cell.dist.n else None
            weeks.append(
                TrendWeek(
                    period=period,
                    share=share,
                    people=cell.people if cell is not None and share is not None else None,
                    band=bands[slot] if slot is not None else None,
                    marked=headline.direction if headline is not None and period == marker else "",
                )
            )
        return Trend(
            dimension=dimension,
            team=team,
            weeks=tuple(weeks),
            direction=reading.real_direction if reading is not None else "none",
            latest=reading.favourable_share if reading is not None else None,
        )


# --- cells --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CellView:
    """One group on one dimension: shown (with its likely range), hidden (with why), or not
    asked in the rotation window."""

    state: str  # "shown", "hidden" or "none"
    share: float | None = None
    low: float | None = None
    high: float | None = None
    people: int | None = None
    direction: str = "none"
    period: str = ""  # the week of the reading (the latest within the rotation window)
    reason: HiddenReason | None = None


def _shown(reading: Reading) -> CellView:
    low, high = likely_range(reading)
    return CellView(
        "shown",
        reading.favourable_share,
        low,
        high,
        reading.respondents,
        reading.real_direction,
        reading.period,
    )


class _Cells:
    """The report's cells and, for a hidden one, why (from its week's people counts)."""

    def __init__(self, deps: Deps, report: Report) -> None:
        self.report = report
        self.org = {r.dimension: r for r in report.findings.dimensions}
        self.teams = {t.team: t for t in report.findings.teams}
        periods = sorted({r.period for r in self.org.values()} | {report.period})
        with session_scope(deps.engine) as session:
            records = store.load_weeks(session=session, periods=periods)
        self._atoms: dict[str, dict[str, list[Atom]]] = {
            period: record.published.atoms for period, record in records.items()
        }

    def organisation(self, dimension: str) -> CellView:
        reading = self.org.get(dimension)
        return _shown(reading) if reading is not None else CellView("none")

    def team(self, team: str, dimension: str) -> CellView:
        found = self.teams.get(team)
        reading = (
            next((r for r in found.readings if r.dimension == dimension), None) if found else None
        )
        if reading is not None:
            return _shown(reading)
        org = self.org.get(dimension)
        if org is None:
            return CellView("none")  # not asked (or shown) for anyone in the window
        atoms = self._atoms.get(org.period, {}).get(dimension, [])
        reason = hidden_reason(atoms, team, self.report.min_group_size)
        return CellView("hidden", period=org.period, reason=reason)

    def known_teams(self) -> set[str]:
        """The teams shown, and those the window's weeks know of though hidden entirely."""
        known = set(self.teams)
        for atoms in self._atoms.values():
            known |= teams_answering(atoms.values())
        return known


# --- pages --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Dimension:
    id: str
    name: str
    short: str


def _dimensions(prompts: Prompts) -> list[Dimension]:
    return [Dimension(d.id, d.name, d.short) for d in prompts.bank.dimensions]


@dataclass(frozen=True, slots=True)
class Overview:
    period: str | None  # None: no digest has been posted yet
    scope: Scope
    min_group_size: int
    findings: list[Finding]
    standing: Standing | None
    participation: Participation | None  # leaders only
    focus: str | None  # the digest's focus dimension (leaders only)
    focus_nudge: str
    trends: list[Trend]  # every dimension's (leaders only)
    own_teams: list[str]  # a lead's teams, to link to
    hidden_findings: bool  # the digest had findings this viewer does not see


def overview(deps: Deps, prompts: Prompts, access: ReportAccess) -> Overview:
    report = posted_report(deps)
    teams = sorted(access.teams) if access.scope is Scope.LEAD else []
    if report is None:
        return Overview(
            None,
            access.scope,
            deps.settings.min_group_size,
            [],
            None,
            None,
            None,
            "",
            [],
            teams,
            False,
        )
    shown = findings_for(report, access)
    trends: list[Trend] = []
    everything = access.scope is Scope.EVERYTHING
    if everything:
        builder = _Trends(report)
        trends = [builder.trend(None, report.reading(d.id), d.id) for d in prompts.bank.dimensions]
    return Overview(
        period=report.period,
        scope=access.scope,
        min_group_size=report.min_group_size,
        findings=shown,
        standing=_standing(report),
        participation=report.participation if everything else None,
        focus=report.focus.dimension if everything and report.focus else None,
        focus_nudge=report.focus.nudge if everything and report.focus else "",
        trends=trends,
        own_teams=teams,
        hidden_findings=len(shown) < len(report.headlines),
    )


@dataclass(frozen=True, slots=True)
class HeatRow:
    team: str | None  # None: the organisation
    people: int
    cells: list[CellView]  # one per dimension, in the bank's order


@dataclass(frozen=True, slots=True)
class Heatmap:
    period: str | None
    min_group_size: int
    dimensions: list[Dimension]
    organisation: HeatRow | None
    teams: list[HeatRow]
    hidden_teams: int  # teams with answers hidden entirely (not named, as in the digest)

    @property
    def hidden_cells(self) -> int:
        return sum(c.state == "hidden" for row in self.teams for c in row.cells)


def heatmap(deps: Deps, prompts: Prompts, access: ReportAccess) -> Heatmap:
    """Every team the gate lets through, on every dimension (leaders and admins only)."""
    if access.scope is not Scope.EVERYTHING:
        raise PageNotAllowed("heatmap")
    dimensions = _dimensions(prompts)
    report = posted_report(deps)
    if report is None:
        return Heatmap(None, deps.settings.min_group_size, dimensions, None, [], 0)
    cells = _Cells(deps, report)
    people = report.participation.respondents or max(
        (r.respondents for r in report.findings.dimensions), default=0
    )
    organisation = HeatRow(None, people, [cells.organisation(d.id) for d in dimensions])
    teams = [
        HeatRow(t.team, t.respondents, [cells.team(t.team, d.id) for d in dimensions])
        for t in report.findings.teams
    ]
    return Heatmap(
        report.period, report.min_group_size, dimensions, organisation, teams, report.hidden_teams
    )


@dataclass(frozen=True, slots=True)
class TeamRow:
    dimension: Dimension
    team: CellView
    organisation: CellView


@dataclass(frozen=True, slots=True)
class TeamPage:
    team: str
    period: str | None
    min_group_size: int
    shown: bool  # False: the team is hidden entirely this week
    people: int | None
    rows: list[TeamRow]
    findings: list[Finding]
    trends: list[Trend]  # the dimensions the team has a published reading of
    # Hidden entirely: why, when every dimension is hidden for the same reason (else None).
    hidden_reason: HiddenReason | None = None


def team_page(deps: Deps, prompts: Prompts, access: ReportAccess, team: str) -> TeamPage:
    """One team, for those who may see it; anyone else gets PageNotFound, whether or not the
    team exists, so nobody can probe which teams there are."""
    if not access.may_see_team(team):
        raise PageNotFound()
    report = posted_report(deps)
    dimensions = _dimensions(prompts)
    if report is None:
        if access.scope is Scope.EVERYTHING:
            raise PageNotFound()
        return TeamPage(team, None, deps.settings.min_group_size, False, None, [], [], [])
    cells = _Cells(deps, report)
    found: TeamFindings | None = cells.teams.get(team)
    if found is None and access.scope is Scope.EVERYTHING and team not in cells.known_teams():
        raise PageNotFound()
    rows = [TeamRow(d, cells.team(team, d.id), cells.organisation(d.id)) for d in dimensions]
    reasons = {row.team.reason for row in rows if row.team.state == "hidden"}
    trends: list[Trend] = []
    if found is not None:
        builder = _Trends(report)
        readings = {r.dimension: r for r in found.readings}
        trends = [builder.trend(team, readings[d.id], d.id) for d in dimensions if d.id in readings]
    return TeamPage(
        team=team,
        period=report.period,
        min_group_size=report.min_group_size,
        shown=found is not None,
        people=found.respondents if found is not None else None,
        rows=rows,
        findings=[
            _finding(report, h, access)
            for h in report.headlines
            if h.kind is Kind.CHANGE and h.team == team
        ],
        trends=trends,
        hidden_reason=reasons.pop() if found is None and len(reasons) == 1 else None,
    )


@dataclass(frozen=True, slots=True)
class CommentsView:
    period: str | None  # None: no week's comments may be shown
    weeks: list[str]  # the published weeks with comments that may be shown, newest first
    comment_minimum: int
    page: CommentsPage | None


def comment_weeks(deps: Deps) -> list[str]:
    """Published weeks whose comments pass the comment rule today, newest first."""
    minimum = deps.settings.comment_minimum
    with session_scope(deps.engine) as session:
        rows = session.exec(
            select(PublishedWeek.period, PublishedWeek.respondents).where(
                col(PublishedWeek.comments_total) > 0
            )
        ).all()
    return sorted((p for p, n in rows if (n or 0) >= minimum), reverse=True)


def comments(
    deps: Deps,
    access: ReportAccess,
    *,
    period: str | None,
    dimension: str | None,
    page: int,
    theme: str | None = None,
) -> CommentsView:
    """A week's comments that pass the comment rule, filtered by dimension and by theme (what
    their words speak to), page by page (leaders and admins, as the digest's Read all)."""
    if access.scope is not Scope.EVERYTHING:
        raise PageNotAllowed("comments")
    weeks = comment_weeks(deps)
    minimum = deps.settings.comment_minimum
    if period is not None and period not in weeks:
        raise PageNotFound()
    chosen = period
    if chosen is None:
        posted = posted_period(deps)
        chosen = posted if posted in weeks else (weeks[0] if weeks else None)
    if chosen is None:
        return CommentsView(None, weeks, minimum, None)
    found = comments_page(deps, period=chosen, dimension=dimension, page=page, theme=theme)
    return CommentsView(chosen, weeks, minimum, found)


@dataclass(frozen=True, slots=True)
class ActionView:
    dimension: str
    text: str
    owner: Owner
    due_on: date | None
    since: str  # the week it was made in
    # What its follow-up measured (favourable shares since it was made and before), when due.
    measured_in: str = ""  # the week whose digest reported it
    real: bool = False
    direction: str = "none"
    now: float | None = None
    before: float | None = None


@dataclass(frozen=True, slots=True)
class Actions:
    period: str | None
    due: list[ActionView]  # followed up in the latest posted digest
    running: list[ActionView]  # not due yet
    done: list[ActionView]  # followed up by earlier digests, newest first


def _action(commitment: Commitment, access: ReportAccess) -> ActionView:
    view = ActionView(
        commitment.dimension,
        commitment.text,
        _owner(commitment.owner, access),
        commitment.due_on,
        commitment.period,
    )
    outcome = commitment.outcome
    if outcome is None:
        return view
    return replace(
        view,
        measured_in=outcome.period,
        real=outcome.real,
        direction=outcome.direction,
        now=outcome.now,
        before=outcome.before,
    )


def actions(deps: Deps, access: ReportAccess) -> Actions:
    """Commitments, their owners and due dates, and what their follow-ups measured."""
    if access.scope is not Scope.EVERYTHING:
        raise PageNotAllowed("actions")
    report = posted_report(deps)
    pending, reported = every_commitment(deps)
    due: list[ActionView] = []
    due_ids: set[int] = set()
    if report is not None:
        for follow in report.follow_ups:
            due_ids.add(follow.action_id)
            due.append(
                ActionView(
                    follow.dimension,
                    follow.action,
                    _owner(follow.owner, access),
                    follow.due_on,
                    follow.since,
                    measured_in=report.period,
                    real=follow.real and follow.delta is not None,
                    direction=(
                        ("up" if (follow.delta or 0) > 0 else "down")
                        if follow.real and follow.delta is not None
                        else "none"
                    ),
                    now=follow.now,
                    before=follow.before,
                )
            )
    running = [_action(c, access) for c in pending if c.id not in due_ids]
    done = [_action(c, access) for c in reversed(reported) if c.id not in due_ids]
    return Actions(report.period if report else None, due, running, done)


@dataclass(frozen=True, slots=True)
class OwnAnswerView:
    statement: str
    dimension: str
    label: str
    score: int


@dataclass(frozen=True, slots=True)
class OwnWeek:
    period: str
    answers: list[OwnAnswerView]


def own_answers(deps: Deps, prompts: Prompts, access: ReportAccess) -> list[OwnWeek]:
    """The viewer's own answers (found through their pseudonym), newest week first: theirs to
    see, open week included, as App Home shows them."""
    respondent = deps.respondent(access.user_id)
    with session_scope(deps.engine) as session:
        found = personal.recent_answers(
            session=session, respondent=respondent, rounds=OWN_ANSWER_ROUNDS
        )
    weeks: dict[str, list[OwnAnswerView]] = {}
    for answer in found:
        dimension = answer.question_id.split(".", 1)[0]
        weeks.setdefault(answer.period, []).append(
            OwnAnswerView(
                prompts.statement(answer.question_id, answer.question_text),
                dimension,
                prompts.bank.label(answer.score),
                answer.score,
            )
        )
    return [OwnWeek(period, items) for period, items in weeks.items()]
