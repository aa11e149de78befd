from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.analytics.scoring import favourable_share, response_rate, summarize


def test_summary_of_known_answers() -> None:
    summary = summarize([5, 4, 4, 3, 2, 1, 1, 5])
    assert summary.respondents == 8
    assert summary.favourable_share == pytest.approx(4 / 8)
    assert summary.unfavourable_share == pytest.approx(3 / 8)
    assert summary.mean == pytest.approx(25 / 8)
    assert summary.distribution == (2, 1, 1, 2, 2)


@given(st.lists(st.integers(min_value=1, max_value=5), min_size=1, max_size=200))
def test_shares_and_mean_stay_in_range(scores: list[int]) -> None:
    summary = summarize(scores)
    assert 0 <= summary.favourable_share + summary.unfavourable_share <= 1
    assert 1 <= summary.mean <= 5
    assert sum(summary.distribution) == len(scores)
    assert favourable_share(scores) == summary.favourable_share


def test_rejects_out_of_range_and_empty() -> None:
    with pytest.raises(ValueError, match="1-5"):
        summarize([0, 3])
    with pytest.raises(ValueError, match="zero answers"):
        summarize([])


def test_response_rate() -> None:
    assert response_rate(60, 45) == pytest.approx(0.75)
    assert response_rate(0, 0) is None
    with pytest.raises(ValueError, match="between"):
        response_rate(3, 4)
