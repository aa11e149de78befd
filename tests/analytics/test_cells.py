"""Publishing one week: every grouping gated together, then frozen; re-gating only hides."""

from __future__ import annotations

import pytest

from bot.analytics.cells import Atom, Observation, PublishedPeriod, publish_period, regate

WEEK = "2026-W48"


def _answers(
    team: str | None, count: int, *, leaders: int = 0, score: int = 4, dimension: str = "e"
) -> list[Observation]:
    return [
        Observation(WEEK, f"{team}-{i}", team, i < leaders, dimension, score) for i in range(count)
    ]


def test_small_teams_and_their_remainders_are_hidden() -> None:
    rows = _answers("a", 6) + _answers("b", 6) + _answers(None, 2, score=1)
    cells = publish_period(WEEK, rows, 5).cells
    assert cells.org["e"].people == 14
    # a and b pass, but both shown would give away the two team-less people by subtraction.
    assert len(cells.teams) == 1
    assert cells.leaders == {}
    assert cells.others == {}


def test_the_leader_split_is_shown_when_both_halves_pass_and_nothing_overlaps() -> None:
    enough = publish_period(WEEK, _answers("a", 12, leaders=5), 5).cells
    assert enough.leaders["e"].people == 5
    assert enough.others["e"].people == 7
    few = publish_period(WEEK, _answers("a", 12, leaders=4), 5).cells
    assert few.leaders == {}
    assert few.others == {}


def test_a_leader_alone_in_a_team_is_not_isolated_by_the_leader_split() -> None:
    """b is all leaders and a has one: leaders minus b would be a's leader, alone."""
    rows = _answers("a", 6, leaders=1) + _answers("b", 6, leaders=6) + _answers("c", 6)
    cells = publish_period(WEEK, rows, 5).cells
    assert cells.org["e"].people == 18
    assert not (cells.leaders and "b" in cells.teams)
    # Without the overlap, the same teams and split are all shown.
    mixed = _answers("a", 6, leaders=1) + _answers("b", 6, leaders=4) + _answers("c", 6)
    shown = publish_period(WEEK, mixed, 5).cells
    assert set(shown.teams) == {"a", "b", "c"}
    assert shown.leaders["e"].people == 5


def test_people_are_counted_once_however_often_they_answer() -> None:
    twice = _answers("a", 4) * 2
    assert publish_period(WEEK, twice, 5).cells.org == {}
    five = _answers("a", 5) * 2
    cell = publish_period(WEEK, five, 5).cells.org["e"]
    assert cell.people == 5
    assert cell.dist.n == 10


def test_atoms_record_people_per_class_and_never_scores() -> None:
    rows = _answers("a", 6, leaders=2) + _answers(None, 3)
    published = publish_period(WEEK, rows, 5)
    assert published.atoms["e"] == [
        Atom(None, False, 3),
        Atom("a", False, 4),
        Atom("a", True, 2),
    ]


def test_a_raised_minimum_only_hides_more_and_a_lowered_one_changes_nothing() -> None:
    rows = _answers("a", 6) + _answers("b", 8) + _answers("c", 12)
    published = publish_period(WEEK, rows, 5)
    assert set(published.cells.teams) == {"a", "b", "c"}
    stricter = regate(published, 7)
    assert set(stricter.teams) < {"a", "b", "c"}
    assert "a" not in stricter.teams
    assert stricter.org == published.cells.org
    for team, by_dimension in stricter.teams.items():
        assert by_dimension == published.cells.teams[team]
    assert regate(published, 30).org == {}


def test_regate_of_an_empty_week_is_empty() -> None:
    assert regate(PublishedPeriod(publish_period(WEEK, [], 5).cells), 5).org == {}


def test_a_score_off_the_scale_is_refused_not_counted_as_a_scale_point() -> None:
    """A "doesn't apply to me" (0) is left out by the caller: counted here it would land on 5."""
    for score in (0, 6, -1):
        with pytest.raises(ValueError, match="not a point of the 1-5 scale"):
            publish_period(WEEK, _answers("a", 6) + _answers("a", 1, score=score), 5)
