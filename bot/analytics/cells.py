"""From one week's answers to the cells every output may show: published once, then frozen.

A cell is one group's answers on one dimension in one week: the organisation, each team, and
the leader / non-leader split. Before anything is shown, every candidate cell of a week and
dimension goes through the disclosure auditor (`bot.analytics.disclosure`) together: no
combination of the cells shown (sums, differences, overlaps of a team with the leader split)
may single out a group smaller than the minimum, and cells are suppressed, smallest first,
until none does. The cells that pass are stored and never recomputed (bot.services.publication);
`regate` only ever hides more of them, when the minimum is raised later.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from bot.analytics.anonymity import GroupKind, may_show
from bot.analytics.disclosure import Candidate, safe_cells
from bot.analytics.noise import Distribution

GroupKey = tuple[GroupKind, str]
ORG: GroupKey = (GroupKind.ORG, "")
LEADERS: GroupKey = (GroupKind.LEADERS, "")
OTHERS: GroupKey = (GroupKind.OTHERS, "")


@dataclass(frozen=True, slots=True)
class Cell:
    people: int
    dist: Distribution


@dataclass
class PeriodCells:
    """What may be shown of one period, by dimension."""

    period: str
    org: dict[str, Cell] = field(default_factory=dict)
    teams: dict[str, dict[str, Cell]] = field(default_factory=dict)  # team -> dimension -> cell
    leaders: dict[str, Cell] = field(default_factory=dict)
    others: dict[str, Cell] = field(default_factory=dict)
    # The minimum these cells were gated with (0 when not recorded): a lower minimum later
    # never shows more of them than this one allowed.
    minimum: int = field(default=0, compare=False)

    def group(self, key: GroupKey, dimension: str) -> Cell | None:
        kind, name = key
        if kind is GroupKind.ORG:
            return self.org.get(dimension)
        if kind is GroupKind.TEAM:
            return self.teams.get(name, {}).get(dimension)
        if kind is GroupKind.LEADERS:
            return self.leaders.get(dimension)
        return self.others.get(dimension)


@dataclass(frozen=True, slots=True)
class Observation:
    """One answer, for building counts in memory (the sandbox and tests)."""

    period: str
    respondent: str
    team: str | None
    is_leader: bool
    dimension: str
    score: int


@dataclass(frozen=True, slots=True)
class Atom:
    """How many people answered a dimension in one (team, leader flag) class: the building
    block of every cell, kept (without scores) so a later, higher minimum can re-gate."""

    team: str | None
    is_leader: bool
    people: int


@dataclass
class PublishedPeriod:
    """What publishing one week yields: the cells that passed, and what re-gating needs."""

    cells: PeriodCells
    atoms: dict[str, list[Atom]] = field(default_factory=dict)  # by dimension
    hidden_teams: int = 0  # teams with answers whose cells were suppressed


def _groups_of(team: str | None, is_leader: bool) -> list[GroupKey]:
    keys = [ORG, LEADERS if is_leader else OTHERS]
    if team is not None:
        keys.append((GroupKind.TEAM, team))
    return keys


def _put(cells: PeriodCells, key: GroupKey, dimension: str, cell: Cell) -> None:
    kind, name = key
    if kind is GroupKind.ORG:
        cells.org[dimension] = cell
    elif kind is GroupKind.TEAM:
        cells.teams.setdefault(name, {})[dimension] = cell
    elif kind is GroupKind.LEADERS:
        cells.leaders[dimension] = cell
    else:
        cells.others[dimension] = cell


def _passing(
    members: Mapping[GroupKey, set[str]], minimum: int, already: Sequence[Candidate] = ()
) -> list[GroupKey]:
    """The groups the auditor lets through together; none unless the org itself passes."""
    everyone = members.get(ORG, set())
    if not may_show(len(everyone), minimum):
        return []
    halves = [len(members.get(half, ())) for half in (LEADERS, OTHERS)]
    if not all(may_show(n, minimum) for n in halves):
        # Either half beside the organisation gives the other: a split with a small (or an
        # empty) side is never a candidate.
        members = {k: v for k, v in members.items() if k not in (LEADERS, OTHERS)}
    ordered = sorted(members, key=lambda key: (key != ORG, key[0].value, key[1]))
    candidates = [Candidate(key, frozenset(members[key])) for key in ordered]
    kept = safe_cells(candidates, minimum, forced=[ORG], already_published=already)
    return [key for key in ordered if key in set(kept)]


def publish_period(period: str, rows: Iterable[Observation], minimum: int) -> PublishedPeriod:
    """Gate one week's answers. Each person counts in one team and one side of the leader
    split for the whole week (the caller resolves anyone who moved within it).

    Rows are scored answers, 1-5: "doesn't apply to me" (0) is in no cell, so the caller leaves
    it out, and any other score is refused rather than counted as some scale point.
    """
    scores: dict[tuple[str, GroupKey], list[int]] = {}
    members: dict[str, dict[GroupKey, set[str]]] = {}
    atom_people: dict[str, dict[tuple[str | None, bool], set[str]]] = {}
    teams_seen: set[str] = set()
    for row in rows:
        if not 1 <= row.score <= 5:
            raise ValueError(f"score {row.score} is not a point of the 1-5 scale")
        for key in _groups_of(row.team, row.is_leader):
            counts = scores.setdefault((row.dimension, key), [0, 0, 0, 0, 0])
            counts[row.score - 1] += 1
            members.setdefault(row.dimension, {}).setdefault(key, set()).add(row.respondent)
        atom = (row.team, row.is_leader)
        atom_people.setdefault(row.dimension, {}).setdefault(atom, set()).add(row.respondent)
        if row.team is not None:
            teams_seen.add(row.team)
    out = PublishedPeriod(PeriodCells(period, minimum=minimum))
    for dimension in sorted(members):
        groups = members[dimension]
        for key in _passing(groups, minimum):
            counts = scores[(dimension, key)]
            _put(out.cells, key, dimension, Cell(len(groups[key]), Distribution(tuple(counts))))  # type: ignore[arg-type]
        out.atoms[dimension] = [
            Atom(team, leader, len(people))
            for (team, leader), people in sorted(
                atom_people[dimension].items(), key=lambda item: (item[0][0] or "", item[0][1])
            )
        ]
    out.hidden_teams = len(teams_seen - set(out.cells.teams))
    return out


def _synthetic_members(atoms: Sequence[Atom]) -> dict[GroupKey, set[str]]:
    """Stand-in people for each atom: enough for the auditor, which sees only memberships."""
    members: dict[GroupKey, set[str]] = {}
    for index, atom in enumerate(atoms):
        people = {f"{index}:{n}" for n in range(atom.people)}
        for key in _groups_of(atom.team, atom.is_leader):
            members.setdefault(key, set()).update(people)
    return members


def regate(published: PublishedPeriod, minimum: int) -> PeriodCells:
    """A published week under a minimum raised since: only ever fewer cells (what was shown
    under the old minimum stays in the span, so it counts as already published)."""
    cells = published.cells
    out = PeriodCells(cells.period, minimum=max(minimum, cells.minimum))
    for dimension, atoms in published.atoms.items():
        members = _synthetic_members(atoms)
        shown = {key: members[key] for key in members if cells.group(key, dimension) is not None}
        for key in _passing(shown, minimum):
            cell = cells.group(key, dimension)
            assert cell is not None
            _put(out, key, dimension, cell)
    return out
