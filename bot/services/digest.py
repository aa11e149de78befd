"""Building the leadership digest: each dimension's latest reading, teams, focus and comments.

Every number passes through bot.analytics.anonymity before it is put in a Digest, so renderers
can show whatever they are given.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session

from bot.analytics.anonymity import may_show, visible_groups
from bot.analytics.rotation import COVERAGE_ROUNDS
from bot.analytics.scoring import response_rate, summarize
from bot.db import repositories as repo
from bot.db.engine import session_scope
from bot.db.models import PulseRound
from bot.errors import NothingToReport
from bot.services.context import Deps

MAX_COMMENTS = 5
# Rounds read for a digest: the rotation window plus one more window for each "previous" reading.
HISTORY_ROUNDS = 2 * COVERAGE_ROUNDS


@dataclass(frozen=True, slots=True)
class Reading:
    period: str
    respondents: int
    favourable_share: float
    mean: float


@dataclass(frozen=True, slots=True)
class DimensionLine:
    dimension_id: str
    name: str
    latest: Reading
    previous: Reading | None
    asked_this_round: bool

    @property
    def favourable_change(self) -> float | None:
        return (
            None
            if self.previous is None
            else self.latest.favourable_share - self.previous.favourable_share
        )

    @property
    def mean_change(self) -> float | None:
        return None if self.previous is None else self.latest.mean - self.previous.mean


@dataclass(frozen=True, slots=True)
class TeamCell:
    favourable_share: float
    mean: float
    favourable_change: float | None


@dataclass(frozen=True, slots=True)
class TeamLine:
    team: str
    respondents: int
    cells: dict[str, TeamCell]


@dataclass(frozen=True, slots=True)
class Focus:
    dimension_id: str
    name: str
    favourable_share: float
    nudge: str


@dataclass(frozen=True)
class Digest:
    round_id: int
    period: str
    provisional: bool
    closes_at: datetime
    min_group_size: int
    invited: int
    respondents: int | None
    response_rate: float | None
    previous_response_rate: float | None
    dimensions: list[DimensionLine] = field(default_factory=list)
    hidden_dimensions: list[str] = field(default_factory=list)
    teams: list[TeamLine] = field(default_factory=list)
    hidden_teams: int = 0
    focus: Focus | None = None
    comments: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Cell:
    """Answers of one round on one dimension, one score per respondent (their mean, if several)."""

    scores_by_person: dict[str, list[int]]
    team_of: dict[str, str | None]

    def scores(self, team: str | None = None, *, any_team: bool = True) -> list[int]:
        return [
            score
            for person, scores in self.scores_by_person.items()
            if any_team or self.team_of[person] == team
            for score in scores
        ]

    def people(self, team: str | None = None, *, any_team: bool = True) -> int:
        return sum(1 for p in self.scores_by_person if any_team or self.team_of[p] == team)


def _cells(rows: Iterable[repo.AnswerRow]) -> dict[tuple[int, str], _Cell]:
    cells: dict[tuple[int, str], _Cell] = {}
    for row in rows:
        cell = cells.setdefault((row.round_id, row.dimension), _Cell({}, {}))
        cell.scores_by_person.setdefault(row.respondent, []).append(row.score)
        cell.team_of[row.respondent] = row.team
    return cells


def _reading(period: str, scores: Sequence[int], people: int) -> Reading:
    summary = summarize(scores)
    return Reading(period, people, summary.favourable_share, summary.mean)


def _team_visibility(cell: _Cell, minimum: int) -> set[str]:
    counts: dict[str, int] = defaultdict(int)
    for person, team in cell.team_of.items():
        if team is not None and person in cell.scores_by_person:
            counts[team] += 1
    return visible_groups(counts, minimum, parent_total=cell.people())


def _pick_round(session: Session, round_id: int | None, now: datetime) -> PulseRound:
    if round_id is not None:
        chosen = repo.get_round(session=session, round_id=round_id)
    else:
        chosen = repo.latest_round(session=session, opened_by=now)
    if chosen is None:
        raise NothingToReport()
    return chosen


@dataclass
class _Readings:
    dimensions: list[DimensionLine] = field(default_factory=list)
    hidden: list[str] = field(default_factory=list)
    team_cells: dict[str, dict[str, TeamCell]] = field(default_factory=lambda: defaultdict(dict))


def _team_cells(
    readings: _Readings, dimension_id: str, latest: _Cell, previous: _Cell | None, minimum: int
) -> None:
    """Per-team cells for one dimension, each gated; a change only if both readings pass."""
    previous_visible = _team_visibility(previous, minimum) if previous else set()
    for team in _team_visibility(latest, minimum):
        now_summary = summarize(latest.scores(team, any_team=False))
        change = None
        if previous is not None and team in previous_visible:
            before = summarize(previous.scores(team, any_team=False))
            change = now_summary.favourable_share - before.favourable_share
        readings.team_cells[team][dimension_id] = TeamCell(
            now_summary.favourable_share, now_summary.mean, change
        )


def _readings(
    deps: Deps, cells: dict[tuple[int, str], _Cell], history: list[PulseRound], target: PulseRound
) -> _Readings:
    """Each dimension's latest reading within the rotation window, against its previous one."""
    minimum = deps.settings.min_group_size
    window = history[-COVERAGE_ROUNDS:]
    readings = _Readings()
    for dimension in deps.prompts.bank.dimensions:
        asked = [r for r in history if (r.id, dimension.id) in cells]
        if not asked or asked[-1] not in window:
            continue
        latest_round = asked[-1]
        latest = cells[(latest_round.id or 0, dimension.id)]
        if not may_show(latest.people(), minimum):
            readings.hidden.append(dimension.name)
            continue
        previous_round = asked[-2] if len(asked) > 1 else None
        previous = cells[(previous_round.id or 0, dimension.id)] if previous_round else None
        previous_reading = None
        if previous_round and previous and may_show(previous.people(), minimum):
            previous_reading = _reading(previous_round.period, previous.scores(), previous.people())
        readings.dimensions.append(
            DimensionLine(
                dimension_id=dimension.id,
                name=dimension.name,
                latest=_reading(latest_round.period, latest.scores(), latest.people()),
                previous=previous_reading,
                asked_this_round=latest_round.id == target.id,
            )
        )
        _team_cells(readings, dimension.id, latest, previous, minimum)
    return readings


def _round_people(rows: Iterable[repo.AnswerRow], round_id: int | None) -> dict[str, str | None]:
    """Who answered anything in a round, with their team at the time."""
    return {row.respondent: row.team for row in rows if row.round_id == round_id}


def _comments(
    rows: Iterable[repo.AnswerRow], round_id: int | None, people: int, minimum: int
) -> list[str]:
    if not may_show(people, minimum):
        return []
    # Identical comments are shown once: repeats add nothing and would hint at a coordinated group.
    comments = list({row.comment for row in rows if row.round_id == round_id and row.comment})
    # Order carries no hint of who wrote what: a fresh, unpredictable shuffle every time.
    random.SystemRandom().shuffle(comments)
    return comments[:MAX_COMMENTS]


def build_digest(deps: Deps, *, round_id: int | None = None) -> Digest:
    """The digest for a round (default: the most recent one), through the anonymity gate."""
    minimum = deps.settings.min_group_size
    now = deps.clock.now()
    with session_scope(deps.engine) as session:
        target = _pick_round(session, round_id, now)
        history = repo.rounds_up_to(session=session, sequence=target.sequence)[-HISTORY_ROUNDS:]
        rows = repo.answer_rows(session=session, round_ids=[r.id for r in history if r.id])
        invited, responded = repo.delivery_counts(session=session, round_id=target.id or 0)
        previous_rate: float | None = None
        if len(history) > 1 and history[-2].id is not None:
            before = repo.delivery_counts(session=session, round_id=history[-2].id)
            if may_show(before[1], minimum):
                previous_rate = response_rate(*before)
    readings = _readings(deps, _cells(rows), history, target)

    people = _round_people(rows, target.id)
    team_counts: dict[str, int] = defaultdict(int)
    for team_name in people.values():
        if team_name is not None:
            team_counts[team_name] += 1
    visible = visible_groups(team_counts, minimum, parent_total=len(people))
    teams = [
        TeamLine(team, team_counts[team], readings.team_cells[team])
        for team in sorted(visible)
        if readings.team_cells.get(team)
    ]
    rate_visible = may_show(responded, minimum)
    return Digest(
        round_id=target.id or 0,
        period=target.period,
        provisional=now < target.closes_at,
        closes_at=target.closes_at,
        min_group_size=minimum,
        invited=invited,
        respondents=responded if rate_visible else None,
        response_rate=response_rate(invited, responded) if rate_visible else None,
        previous_response_rate=previous_rate,
        dimensions=readings.dimensions,
        hidden_dimensions=readings.hidden,
        teams=teams,
        hidden_teams=len(team_counts) - len(visible),
        focus=_focus(deps, readings.dimensions, target.sequence),
        comments=_comments(rows, target.id, len(people), minimum),
    )


def _focus(deps: Deps, dimensions: Sequence[DimensionLine], sequence: int) -> Focus | None:
    """The weakest dimension this period, with one concrete action from prompts/nudges.yaml."""
    if not dimensions:
        return None
    weakest = min(dimensions, key=lambda d: (d.latest.favourable_share, d.latest.mean))
    nudges = deps.prompts.nudges.for_dimension(weakest.dimension_id)
    nudge = nudges[sequence % len(nudges)]
    return Focus(weakest.dimension_id, weakest.name, weakest.latest.favourable_share, nudge.text)
