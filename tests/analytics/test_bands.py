"""The trend chart's noise band, checked against numbers worked out by hand."""

from __future__ import annotations

import math

import pytest

from bot.analytics.bands import (
    MIN_SHARE_SWING,
    Band,
    favourable_indicator,
    noise_bands,
    share_swing,
)
from bot.analytics.noise import Distribution


def _share(favourable: int, n: int) -> Distribution:
    """`n` answers, `favourable` of them Agree (4), the rest Neutral (3)."""
    return Distribution((0, 0, n - favourable, favourable, 0))


def test_a_week_gets_the_range_its_baseline_would_swing_within() -> None:
    weeks = [_share(6, 10), _share(6, 10), _share(3, 10)]
    bands = noise_bands(weeks, swing=0.0025)
    assert bands[:2] == [None, None]  # fewer than two readings before them
    # By hand: the baseline pools 12 of 20 favourable, so its centre is 0.6; nudged towards
    # one half, q = (12 + 2) / (20 + 4) = 0.58333, q(1-q) = 0.24306. The variance is
    # 0.24306/10 + 0.0025 + 0.24306/20 + 0.0025/2 = 0.040209; sd 0.20052; times 1.95996 the
    # half-width is 0.39302.
    band = bands[2]
    assert band is not None
    assert band.centre == pytest.approx(0.6)
    assert band.low == pytest.approx(0.6 - 0.39302, abs=1e-4)
    assert band.high == pytest.approx(0.6 + 0.39302, abs=1e-4)


def test_weeks_not_asked_have_no_band_and_do_not_count_as_baseline() -> None:
    weeks = [_share(6, 10), None, _share(6, 10), None, _share(6, 10)]
    bands = noise_bands(weeks, swing=0.0025)
    assert [b is None for b in bands] == [True, True, True, True, False]
    # The same baseline as above (two readings of 6 of 10), whatever the gaps between them.
    assert bands[4] == noise_bands([_share(6, 10), _share(6, 10), _share(6, 10)], swing=0.0025)[2]


def test_the_baseline_is_the_last_eight_readings() -> None:
    # A first reading at 100%, eight at 0%, then the week: the first falls out of the
    # baseline, which is the last eight readings only.
    weeks = [_share(10, 10)] + [_share(0, 10)] * 8 + [_share(5, 10)]
    band = noise_bands(weeks, swing=0.0)[-1]
    assert band is not None
    assert band.centre == 0.0
    # q = 2 / 84; variance q(1-q)(1/10 + 1/80); the low end is clipped at 0.
    q = 2 / 84
    assert band.high == pytest.approx(1.959964 * math.sqrt(q * (1 - q) * (0.1 + 1 / 80)), rel=1e-5)
    assert band.low == 0.0


def test_after_a_change_the_band_keeps_the_baseline_from_before_it() -> None:
    weeks = [_share(8, 10)] * 4 + [_share(2, 10)] * 3
    rolling = noise_bands(weeks, swing=0.001)
    anchored = noise_bands(weeks, swing=0.001, anchor=4)
    assert rolling[:5] == anchored[:5]
    # Rolling, the baseline follows the fall; anchored, it stays at the 80% before it.
    assert rolling[6] is not None
    assert rolling[6].centre < 0.8
    assert all(b is not None and b.centre == pytest.approx(0.8) for b in anchored[4:])
    assert anchored[5] == anchored[4]  # same n, same baseline: the same range


def test_bands_stay_within_zero_and_one() -> None:
    bands = noise_bands([_share(10, 10), _share(10, 10), _share(1, 2)], swing=0.05)
    band = bands[2]
    assert isinstance(band, Band)
    assert 0.0 <= band.low < band.centre == 1.0 == band.high


def test_the_indicator_carries_the_favourable_share_in_its_mean() -> None:
    dist = Distribution((3, 2, 5, 6, 4))
    recoded = favourable_indicator(dist)
    assert recoded.n == 20
    assert recoded.mean == pytest.approx(1 + 4 * dist.favourable_share)


def test_the_weekly_swing_of_shares_by_hand() -> None:
    # Shares 20%, 80%, 20%, 80% of 100 answers. Recoded (1 or 5) each week's variance is
    # 16 * 0.16 * 100/99 = 2.58586, so each mean's sampling variance is 0.0258586 and its
    # weight w = 38.6719. The weighted centre is 3; Q = 4w * 1.2**2 = 222.75, df = 3, and
    # DerSimonian-Laird's scale is 4w - w = 3w, so tau^2 = (Q - 3) / 3w = 1.89414 on the
    # recoded scale: 0.118384 in shares (the shares' own variance, 0.12, less sampling).
    series = [[_share(20, 100), _share(80, 100), _share(20, 100), _share(80, 100)]]
    w = 1 / (16 * 0.16 * 100 / 99 / 100)
    assert share_swing(series) == pytest.approx((4 * w * 1.44 - 3) / (3 * w) / 16)
    assert share_swing(series) == pytest.approx(0.118384, abs=1e-6)


def test_a_steady_group_swings_at_least_a_point() -> None:
    steady = [[_share(50, 100)] * 6, [_share(30, 100)] * 6]
    assert share_swing(steady) == MIN_SHARE_SWING
    assert share_swing([]) == MIN_SHARE_SWING
