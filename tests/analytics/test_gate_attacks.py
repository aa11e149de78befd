"""Trying to break the anonymity gate: subtraction between outputs, and across weeks."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.analytics.cells import Observation, PeriodCells, counts_from_rows, gate

MINIMUM = 5

team_sizes = st.lists(st.integers(0, 12), min_size=1, max_size=6)


def _org(
    sizes: list[int], loners: int, leaders: int, period: str = "2026-W48"
) -> list[Observation]:
    rows = []
    for index, size in enumerate(sizes):
        for member in range(size):
            rows.append(
                Observation(period, f"t{index}-{member}", f"team{index}", member < leaders, "d", 3)
            )
    rows += [Observation(period, f"x{i}", None, False, "d", 1) for i in range(loners)]
    return rows


def _check_no_small_group_is_derivable(cells: PeriodCells) -> None:
    org = cells.org.get("d")
    if org is None:
        assert cells.teams == {}
        assert cells.leaders == {}
        return
    shown = [team["d"].people for team in cells.teams.values() if "d" in team]
    assert all(n >= MINIMUM for n in shown)
    # Org minus every team shown: the people in no shown team, never a small group.
    remainder = org.people - sum(shown)
    assert remainder == 0 or remainder >= MINIMUM
    # Org minus any one shown team is also a group: it must pass.
    assert all(org.people - n == 0 or org.people - n >= MINIMUM for n in shown)
    if cells.leaders:
        assert cells.leaders["d"].people >= MINIMUM
        assert cells.others["d"].people >= MINIMUM
        assert cells.leaders["d"].people + cells.others["d"].people == org.people


@settings(max_examples=300)
@given(team_sizes, st.integers(0, 8), st.integers(0, 6))
def test_no_output_lets_a_small_group_be_subtracted_out(
    sizes: list[int], loners: int, leaders: int
) -> None:
    counts = counts_from_rows(_org(sizes, loners, leaders))
    if "2026-W48" in counts:
        _check_no_small_group_is_derivable(gate(counts["2026-W48"], MINIMUM))


@settings(max_examples=200)
@given(team_sizes, st.integers(0, 6), st.integers(0, 4))
def test_two_weeks_side_by_side_never_reveal_who_left(
    sizes: list[int], loners: int, dropped: int
) -> None:
    """Week 2 is week 1 minus a few people. A trend shows each week through the gate on its
    own, so in every week shown side by side each group and each complement passes: no week
    of a trend lets a small group be subtracted out of its parent."""
    week1 = _org(sizes, loners, 0, "2026-W47")
    gone = {row.respondent for row in week1[:dropped]}
    week2 = [
        Observation("2026-W48", r.respondent, r.team, r.is_leader, r.dimension, r.score)
        for r in week1
        if r.respondent not in gone
    ]
    counts = counts_from_rows(week1 + week2)
    first = gate(counts["2026-W47"], MINIMUM) if "2026-W47" in counts else PeriodCells("2026-W47")
    second = gate(counts["2026-W48"], MINIMUM) if "2026-W48" in counts else PeriodCells("2026-W48")
    for cells in (first, second):
        _check_no_small_group_is_derivable(cells)
    # Only groups that pass in *both* weeks can be compared at all.
    for team, by_dimension in second.teams.items():
        if team in first.teams:
            assert first.teams[team]["d"].people >= MINIMUM
            assert by_dimension["d"].people >= MINIMUM
