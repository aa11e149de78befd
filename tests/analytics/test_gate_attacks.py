"""Trying to break the gate with everything one week publishes: sums, differences and
overlaps of teams with the leader split, judged by a brute-force oracle (tests/privacy)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.analytics.anonymity import GroupKind
from bot.analytics.cells import Observation, PeriodCells, publish_period
from tests.privacy.oracle import determined_groups

MINIMUM = 4
WEEK = "2026-W48"


def shown_member_sets(
    cells: PeriodCells, rows: list[Observation], dimension: str
) -> list[set[str]]:
    """The people behind each cell shown: what the oracle needs."""
    members: dict[tuple[GroupKind, str], set[str]] = {}
    for row in rows:
        if row.dimension != dimension:
            continue
        keys = [(GroupKind.ORG, ""), (GroupKind.LEADERS if row.is_leader else GroupKind.OTHERS, "")]
        if row.team is not None:
            keys.append((GroupKind.TEAM, row.team))
        for key in keys:
            members.setdefault(key, set()).add(row.respondent)
    return [people for key, people in members.items() if cells.group(key, dimension) is not None]


people = st.lists(
    st.tuples(st.sampled_from(["a", "b", "c", None]), st.booleans()), min_size=0, max_size=13
)


@settings(max_examples=150, deadline=None)
@given(people)
def test_no_combination_of_a_weeks_cells_determines_a_small_group(
    roster: list[tuple[str | None, bool]],
) -> None:
    rows = [
        Observation(WEEK, f"p{i}", team, leader, "d", 1 + i % 5)
        for i, (team, leader) in enumerate(roster)
    ]
    cells = publish_period(WEEK, rows, MINIMUM).cells
    for shown in [cells.org, *cells.teams.values(), cells.leaders, cells.others]:
        assert all(cell.people >= MINIMUM for cell in shown.values())
    assert determined_groups(shown_member_sets(cells, rows, "d"), MINIMUM, limit=1) == []
