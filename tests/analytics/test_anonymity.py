from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.analytics.anonymity import may_show, visible_groups


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
