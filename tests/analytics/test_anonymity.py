"""The first rule of the gate: nothing is shown of a group below the minimum."""

from __future__ import annotations

from bot.analytics.anonymity import may_show


def test_a_group_is_shown_from_the_minimum_up() -> None:
    assert not may_show(4, 5)
    assert may_show(5, 5)
    assert may_show(50, 5)
