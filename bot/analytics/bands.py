"""The noise band of the trend chart: where a group's % favourable would likely land in a week
if nothing had changed. Pure: distributions in, ranges out.

A week's band is centred on the group's baseline, its favourable share pooled over its
previous readings (up to BASELINE_PERIODS of them, as the digest's "against its last 8 weeks"
test uses), and is as wide as that week's sampling error, the week-to-week swing every group
has, and the baseline's own uncertainty allow:

    half-width = z * sqrt(q(1-q)/n + s + q(1-q)/N + s/k)

with n the week's answers, N the baseline's, k its readings, s the weekly swing of shares
(`share_swing`), and q the baseline share nudged towards one half (Agresti-Coull), so a
baseline where everyone agreed still leaves room for someone not to.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.analytics.findings import BASELINE_PERIODS
from bot.analytics.noise import Distribution, between_period_variance, normal_quantile

MIN_BASELINE = 2  # readings before a band is drawn, as the baseline test needs
# Shares are never treated as steadier than a point from week to week (a variance of 1e-4):
# a swing estimated from a few weeks runs low.
MIN_SHARE_SWING = 1e-4
# Favourable or not, each answer recoded as 5 or 1: the recoded mean is 1 + 4 * share.
_RECODED_SCALE = 16.0


@dataclass(frozen=True, slots=True)
class Band:
    """Shares (0 to 1): the baseline, and the likely range around it."""

    centre: float
    low: float
    high: float


def favourable_indicator(dist: Distribution) -> Distribution:
    """Each answer recoded as 5 (favourable) or 1 (not): a distribution whose mean is
    1 + 4 * the favourable share, so the tools for means work on shares (variances x 16)."""
    return Distribution((dist.n - dist.favourable, 0, 0, 0, dist.favourable))


def share_swing(series: Iterable[Sequence[Distribution]]) -> float:
    """Week-to-week variance of favourable shares beyond sampling error, pooled over several
    series (a group's dimensions, or several groups'): `between_period_variance` on the
    recoded answers. At least MIN_SHARE_SWING."""
    recoded = [[favourable_indicator(d) for d in periods] for periods in series]
    return max(MIN_SHARE_SWING, between_period_variance(recoded) / _RECODED_SCALE)


def noise_bands(
    series: Sequence[Distribution | None],
    *,
    swing: float,
    anchor: int | None = None,
    confidence: float = 0.95,
) -> list[Band | None]:
    """The band of each week of `series` (oldest first; None where the group was not asked or
    was hidden), None for such weeks and for weeks with fewer than MIN_BASELINE readings
    before them.

    From week `anchor` on, the baseline stays the one before `anchor`: the range the weeks
    since a change would have kept to had nothing changed.
    """
    z = normal_quantile(1.0 - (1.0 - confidence) / 2.0)
    bands: list[Band | None] = []
    for index, week in enumerate(series):
        cut = index if anchor is None or index < anchor else anchor
        before = [d for d in series[:cut] if d is not None and d.n > 0][-BASELINE_PERIODS:]
        if week is None or week.n == 0 or len(before) < MIN_BASELINE:
            bands.append(None)
            continue
        pooled = Distribution.pooled(before)
        centre = pooled.favourable_share
        nudged = (pooled.favourable + 2) / (pooled.n + 4)
        spread = nudged * (1.0 - nudged)
        variance = spread / week.n + swing + spread / pooled.n + swing / len(before)
        half = z * math.sqrt(variance)
        bands.append(Band(centre, max(0.0, centre - half), min(1.0, centre + half)))
    return bands
