"""The one gate every output reads through."""

from __future__ import annotations

from bot.analytics.anonymity import GroupKind
from bot.analytics.cells import Cell, Observation, PeriodCounts, counts_from_rows, gate
from bot.analytics.noise import Distribution


def _answers(
    team: str | None, count: int, *, leaders: int = 0, score: int = 4
) -> list[Observation]:
    return [
        Observation("2026-W48", f"{team}-{i}", team, i < leaders, "empowerment", score)
        for i in range(count)
    ]


def test_small_teams_and_their_remainders_are_hidden() -> None:
    rows = _answers("a", 6) + _answers("b", 6) + _answers(None, 2, score=1)
    cells = gate(counts_from_rows(rows)["2026-W48"], 5)
    assert cells.org["empowerment"].people == 14
    # a and b pass, but both shown would give away the two team-less people by subtraction.
    assert set(cells.teams) == {"b"}
    assert cells.leaders == {}
    assert cells.others == {}


def test_the_leader_split_is_shown_whole_or_not_at_all() -> None:
    enough = gate(counts_from_rows(_answers("a", 12, leaders=5))["2026-W48"], 5)
    assert enough.leaders["empowerment"].people == 5
    assert enough.others["empowerment"].people == 7
    few = gate(counts_from_rows(_answers("a", 12, leaders=4))["2026-W48"], 5)
    assert few.leaders == {}
    assert few.others == {}


def test_people_are_counted_once_however_often_they_answer() -> None:
    twice = _answers("a", 4) * 2
    counts = counts_from_rows(twice)["2026-W48"]
    assert counts.people[("empowerment", GroupKind.ORG, "")] == 4
    assert gate(counts, 5).org == {}


def test_aggregates_kept_after_a_purge_are_read_like_live_answers() -> None:
    counts = PeriodCounts("2026-W10")
    counts.kept[("empowerment", GroupKind.ORG, "")] = Cell(10, Distribution((0, 1, 2, 4, 3)))
    counts.kept[("empowerment", GroupKind.TEAM, "a")] = Cell(5, Distribution((0, 0, 1, 3, 1)))
    cells = gate(counts, 5)
    assert cells.org["empowerment"].dist.n == 10
    assert cells.teams["a"]["empowerment"].people == 5


def test_counts_by_score_add_up_like_single_answers() -> None:
    by_score, one_by_one = PeriodCounts("2026-W48"), PeriodCounts("2026-W48")
    by_score.add_counts("empowerment", "a", False, (1, 0, 2, 0, 3))
    by_score.add_counts("empowerment", "a", False, (0, 1, 0, 0, 1))
    for score, n in [(1, 1), (3, 2), (5, 3), (2, 1), (5, 1)]:
        one_by_one.add_scores("empowerment", "a", False, score, n)
    assert by_score.scores == one_by_one.scores == {("empowerment", "a", False): [1, 1, 2, 0, 4]}
