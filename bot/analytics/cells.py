"""From summed answers to the cells every output may show: one gate, applied once per period.

A cell is one group's answers on one dimension in one period. The org cell is shown only when
enough distinct people answered; team cells follow `visible_groups` (the remainder beside
them must pass too, or the next-smallest team is hidden); the leader / non-leader split is
shown whole or not at all. Digest, JSON, `/cx` replies and charts all read these cells, so
two outputs can never be subtracted from each other to reveal a smaller group.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from bot.analytics.anonymity import GroupKind, may_show, visible_groups
from bot.analytics.noise import Distribution

GroupKey = tuple[GroupKind, str]


@dataclass(frozen=True, slots=True)
class Cell:
    people: int
    dist: Distribution


@dataclass
class PeriodCounts:
    """One period's answers as summed by the database (or by `counts_from_rows`).

    `scores` maps (dimension, team, is_leader) to counts of scores 1..5; `people` maps
    (dimension, group kind, group name) to distinct respondents; `kept` holds aggregates that
    survived a retention purge, already gated when they were written.
    """

    period: str
    scores: dict[tuple[str, str | None, bool], list[int]] = field(default_factory=dict)
    people: dict[tuple[str, GroupKind, str], int] = field(default_factory=dict)
    kept: dict[tuple[str, GroupKind, str], Cell] = field(default_factory=dict)

    def add_scores(
        self, dimension: str, team: str | None, is_leader: bool, score: int, n: int
    ) -> None:
        counts = self.scores.setdefault((dimension, team, is_leader), [0, 0, 0, 0, 0])
        counts[score - 1] += n

    def add_counts(
        self, dimension: str, team: str | None, is_leader: bool, scores: Sequence[int]
    ) -> None:
        """Add answers counted by score (how many gave 1, 2, .. 5)."""
        counts = self.scores.setdefault((dimension, team, is_leader), [0, 0, 0, 0, 0])
        for index, n in enumerate(scores):
            counts[index] += n


@dataclass
class PeriodCells:
    """What may be shown of one period, by dimension."""

    period: str
    org: dict[str, Cell] = field(default_factory=dict)
    teams: dict[str, dict[str, Cell]] = field(default_factory=dict)  # team -> dimension -> cell
    leaders: dict[str, Cell] = field(default_factory=dict)
    others: dict[str, Cell] = field(default_factory=dict)

    def group(self, key: GroupKey, dimension: str) -> Cell | None:
        kind, name = key
        if kind is GroupKind.ORG:
            return self.org.get(dimension)
        if kind is GroupKind.TEAM:
            return self.teams.get(name, {}).get(dimension)
        if kind is GroupKind.LEADERS:
            return self.leaders.get(dimension)
        return self.others.get(dimension)


def _sum(counts: Iterable[list[int]]) -> Distribution:
    ones = twos = threes = fours = fives = 0
    for one, two, three, four, five in counts:
        ones += one
        twos += two
        threes += three
        fours += four
        fives += five
    return Distribution((ones, twos, threes, fours, fives))


def _raw_cells(counts: PeriodCounts) -> dict[tuple[str, GroupKind, str], Cell]:
    """Every group's cell before gating, from live answers."""
    cells: dict[tuple[str, GroupKind, str], Cell] = {}
    by_key: dict[tuple[str, GroupKind, str], list[list[int]]] = {}
    for (dimension, team, is_leader), row in counts.scores.items():
        by_key.setdefault((dimension, GroupKind.ORG, ""), []).append(row)
        if team is not None:
            by_key.setdefault((dimension, GroupKind.TEAM, team), []).append(row)
        split = GroupKind.LEADERS if is_leader else GroupKind.OTHERS
        by_key.setdefault((dimension, split, ""), []).append(row)
    for key, rows in by_key.items():
        cells[key] = Cell(counts.people.get(key, 0), _sum(rows))
    return cells


def gate(counts: PeriodCounts, minimum: int) -> PeriodCells:
    """The one anonymity gate: what of this period may be shown anywhere."""
    raw = {**_raw_cells(counts), **counts.kept}
    shown = PeriodCells(counts.period)
    dimensions = {dimension for dimension, _, _ in raw}
    # Each dimension's teams and their people, found in one pass over the cells.
    team_people: dict[str, dict[str, int]] = {}
    for (dimension, kind, name), cell in raw.items():
        if kind is GroupKind.TEAM:
            team_people.setdefault(dimension, {})[name] = cell.people
    for dimension in sorted(dimensions):
        org = raw.get((dimension, GroupKind.ORG, ""))
        if org is None or not may_show(org.people, minimum):
            continue
        shown.org[dimension] = org
        teams = team_people.get(dimension, {})
        for team in visible_groups(teams, minimum, parent_total=org.people):
            shown.teams.setdefault(team, {})[dimension] = raw[(dimension, GroupKind.TEAM, team)]
        leaders = raw.get((dimension, GroupKind.LEADERS, ""))
        others = raw.get((dimension, GroupKind.OTHERS, ""))
        if (
            leaders is not None
            and others is not None
            and may_show(leaders.people, minimum)
            and may_show(others.people, minimum)
        ):
            shown.leaders[dimension] = leaders
            shown.others[dimension] = others
    return shown


@dataclass(frozen=True, slots=True)
class Observation:
    """One answer, for building counts in memory (the sandbox and tests)."""

    period: str
    respondent: str
    team: str | None
    is_leader: bool
    dimension: str
    score: int


def counts_from_rows(rows: Iterable[Observation]) -> dict[str, PeriodCounts]:
    """What the database's GROUP BY queries return, computed from individual answers."""
    periods: dict[str, PeriodCounts] = {}
    people: dict[tuple[str, str, GroupKind, str], set[str]] = {}
    for row in rows:
        counts = periods.setdefault(row.period, PeriodCounts(row.period))
        counts.add_scores(row.dimension, row.team, row.is_leader, row.score, 1)
        keys = [(GroupKind.ORG, "")]
        if row.team is not None:
            keys.append((GroupKind.TEAM, row.team))
        keys.append((GroupKind.LEADERS if row.is_leader else GroupKind.OTHERS, ""))
        for kind, name in keys:
            people.setdefault((row.period, row.dimension, kind, name), set()).add(row.respondent)
    for (period, dimension, kind, name), members in people.items():
        periods[period].people[(dimension, kind, name)] = len(members)
    return periods
