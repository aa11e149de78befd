from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.analytics.anonymity import GroupKind, Person, may_show, shown_groups, visible_groups


def test_small_group_hidden() -> None:
    assert not may_show(4, 5)
    assert may_show(5, 5)


def test_group_below_minimum_is_hidden_and_not_derivable() -> None:
    counts = {"a": 10, "b": 8, "c": 3}
    shown = visible_groups(counts, 5, parent_total=21)
    # Showing a and b would let anyone compute c (3 people) as total minus a minus b,
    # so the next-smallest group is hidden too.
    assert shown == {"a"}


def test_people_without_a_team_count_in_the_remainder() -> None:
    assert visible_groups({"a": 10, "b": 8}, 5, parent_total=25) == {"a", "b"}
    assert visible_groups({"a": 10, "b": 8}, 5, parent_total=20) == {"a"}


def test_everyone_in_shown_groups_is_fine() -> None:
    assert visible_groups({"a": 6, "b": 5}, 5, parent_total=11) == {"a", "b"}


@given(
    counts=st.dictionaries(st.sampled_from("abcdefgh"), st.integers(min_value=1, max_value=20)),
    extra=st.integers(min_value=0, max_value=10),
    minimum=st.integers(min_value=2, max_value=10),
)
def test_no_hidden_remainder_is_ever_small_but_nonzero(
    counts: dict[str, int], extra: int, minimum: int
) -> None:
    total = sum(counts.values()) + extra
    shown = visible_groups(counts, minimum, parent_total=total)
    assert all(counts[name] >= minimum for name in shown)
    remainder = total - sum(counts[name] for name in shown)
    assert remainder == 0 or remainder >= minimum or not shown


def _people(team: str | None, count: int, *, leaders: int = 0, prefix: str = "") -> list[Person]:
    return [Person(f"{prefix or team}{i}", team, is_leader=i < leaders) for i in range(count)]


def test_shown_groups_is_empty_when_the_whole_org_is_too_small() -> None:
    assert shown_groups(_people("a", 4), 5) == {}


def test_shown_groups_hides_a_team_that_would_leak_the_rest_by_subtraction() -> None:
    people = _people("a", 6) + _people("b", 6) + _people(None, 2, prefix="x")
    groups = shown_groups(people, 5)
    # a and b both pass, but showing both leaves 2 people readable as org minus a minus b.
    assert set(groups) == {(GroupKind.ORG, ""), (GroupKind.TEAM, "b")}
    assert groups[(GroupKind.TEAM, "b")] == frozenset(f"b{i}" for i in range(6))


def test_shown_groups_shows_the_leader_split_only_when_both_halves_pass() -> None:
    few_leaders = _people("a", 12, leaders=4)
    assert (GroupKind.LEADERS, "") not in shown_groups(few_leaders, 5)
    assert (GroupKind.OTHERS, "") not in shown_groups(few_leaders, 5)
    enough = _people("a", 12, leaders=5)
    groups = shown_groups(enough, 5)
    assert len(groups[(GroupKind.LEADERS, "")]) == 5
    assert len(groups[(GroupKind.OTHERS, "")]) == 7


def test_shown_groups_counts_people_once_however_often_they_appear() -> None:
    twice = _people("a", 3) * 2
    assert shown_groups(twice, 5) == {}
