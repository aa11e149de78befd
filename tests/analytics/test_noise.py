"""The statistics behind "real change or noise": special functions against textbook values,
and the tests' error rates on simulated data."""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.analytics.noise import (
    Distribution,
    benjamini_hochberg,
    betainc,
    between_period_variance,
    chi2_upper_p,
    compare,
    compare_levels,
    f_upper_p,
    level,
    level_spread,
    person_share,
    pooled_variance,
    single_level,
    spearman,
    spearman_counted,
    spearman_interval,
    t_quantile,
    t_two_sided_p,
    wilson_interval,
)


def test_distribution_summaries() -> None:
    dist = Distribution.from_scores([1, 2, 4, 4, 5])
    assert dist.counts == (1, 1, 0, 2, 1)
    assert (dist.n, dist.favourable, dist.unfavourable) == (5, 3, 2)
    assert dist.mean == pytest.approx(3.2)
    assert dist.variance == pytest.approx(2.7)
    assert (dist + dist).counts == (2, 2, 0, 4, 2)
    with pytest.raises(ValueError, match="1-5"):
        Distribution.from_scores([0])
    with pytest.raises(ValueError, match="non-negative"):
        Distribution((1, -1, 0, 0, 0))


COUNT = st.integers(0, 10_000)


@given(st.tuples(COUNT, COUNT, COUNT, COUNT, COUNT))
def test_distribution_summaries_are_the_textbook_sums(
    counts: tuple[int, int, int, int, int],
) -> None:
    dist = Distribution(counts)
    n = sum(counts)
    mean = sum(s * c for s, c in zip(range(1, 6), counts, strict=True)) / n if n else 0.0
    spread = sum(c * (s - mean) ** 2 for s, c in zip(range(1, 6), counts, strict=True))
    # Worked out once at construction, and exactly as these loops would.
    assert (dist.n, dist.mean) == (n, mean)
    assert dist.variance == (spread / (n - 1) if n >= 2 else 0.0)


@pytest.mark.parametrize(
    ("a", "b", "x", "expected"),
    [
        (2, 3, 0.5, 11 / 16),
        (0.5, 0.5, 0.25, 1 / 3),
        (3, 1, 0.4, 0.4**3),
        (1, 1, 0.3, 0.3),
        (2, 3, 0.4, 0.5248),
    ],
)
def test_incomplete_beta_known_values(a: float, b: float, x: float, expected: float) -> None:
    assert betainc(a, b, x) == pytest.approx(expected, abs=1e-8)


@pytest.mark.parametrize(
    ("probability", "df", "expected"),
    [(0.975, 10, 2.228139), (0.975, 1, 12.706205), (0.95, 30, 1.697261), (0.025, 10, -2.228139)],
)
def test_t_quantile_known_values(probability: float, df: float, expected: float) -> None:
    assert t_quantile(probability, df) == pytest.approx(expected, abs=1e-5)
    assert t_two_sided_p(2.228139, 10) == pytest.approx(0.05, abs=1e-6)


@pytest.mark.parametrize(
    ("f", "df1", "df2", "expected"),
    [(4.1028, 2, 10, 0.05), (3.0984, 3, 20, 0.05), (5.6363, 5, 10, 0.01)],
)
def test_f_upper_tail_textbook_values(f: float, df1: float, df2: float, expected: float) -> None:
    assert f_upper_p(f, df1, df2) == pytest.approx(expected, abs=2e-5)


@pytest.mark.parametrize(
    ("statistic", "df", "expected"),
    [(3.841459, 1, 0.05), (11.0705, 5, 0.05), (2.0, 5, 0.849145), (23.2093, 10, 0.01)],
)
def test_chi_squared_upper_tail(statistic: float, df: float, expected: float) -> None:
    assert chi2_upper_p(statistic, df) == pytest.approx(expected, abs=1e-5)


def test_wilson_interval_known_value() -> None:
    low, high = wilson_interval(8, 10)
    assert (low, high) == pytest.approx((0.4902, 0.9433), abs=1e-4)
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_spearman_textbook_values() -> None:
    iq = [106, 100, 86, 101, 99, 103, 97, 113, 112, 110]
    tv = [7, 27, 2, 50, 28, 29, 20, 12, 6, 17]
    assert spearman(iq, tv) == pytest.approx(-29 / 165)
    assert spearman([1, 2, 2, 3], [1, 3, 2, 4]) == pytest.approx(3 / math.sqrt(10))
    assert spearman([3, 3, 3], [1, 2, 3]) == 0.0
    assert spearman_counted(Counter(zip(iq, tv, strict=True))) == spearman(iq, tv)
    with pytest.raises(ValueError, match="two"):
        spearman_counted({(1.0, 2.0): 1})
    low, high = spearman_interval(0.5, 50)
    half = 1.959964 * math.sqrt((1 + 0.5**2 / 2) / 47)
    assert (low, high) == pytest.approx(
        (math.tanh(math.atanh(0.5) - half), math.tanh(math.atanh(0.5) + half)), abs=1e-5
    )


@given(st.lists(st.floats(0, 1), min_size=1, max_size=40), st.floats(0.01, 0.2))
def test_benjamini_hochberg_is_a_step_up_rule(p_values: list[float], q: float) -> None:
    chosen = benjamini_hochberg(p_values, q)
    m = len(p_values)
    passing = [r for r, p in enumerate(sorted(p_values), 1) if p <= q * r / m]
    cutoff = max(passing, default=0)
    threshold = sorted(p_values)[cutoff - 1] if cutoff else -1.0
    assert chosen == [p <= threshold for p in p_values]


def test_identical_or_tiny_samples_never_differ() -> None:
    same = Distribution((0, 0, 0, 10, 0))
    change = compare(same, same)
    assert change is not None
    assert change.p_value == pytest.approx(1.0)
    assert compare(Distribution((0, 0, 0, 1, 0)), same) is None


def _week(rng: random.Random, people: list[float], swing: float) -> Distribution:
    return Distribution.from_scores(
        max(1, min(5, round(mood + swing + rng.gauss(0, 0.6)))) for mood in people
    )


def test_same_people_over_weeks_with_swings_rarely_look_changed() -> None:
    """Nine weeks of one team (weekly swings of 0.14 point, personal moods): the last week
    against the eight before is called changed no more often than the test's level."""
    rng = random.Random(11)
    alarms = trials = 0
    for _ in range(300):
        people = [3.6 + rng.gauss(0, 0.35) for _ in range(15)]
        weeks = [_week(rng, people, rng.gauss(0, 0.14)) for _ in range(9)]
        swing, spread = 0.14**2, pooled_variance(weeks)
        baseline = level(weeks[:8], between=swing, within=spread, person_share=0.2)
        assert baseline is not None
        latest = single_level(weeks[8], between=swing, within=spread, person_share=0.2)
        alarms += compare_levels(baseline, latest).p_value < 0.05
        trials += 1
    assert alarms / trials <= 0.065


def test_weekly_swing_is_estimated_from_many_series_of_one_group() -> None:
    """Thirteen dimensions of one team share its weekly swings; pooled, they reveal them."""
    rng = random.Random(15)
    estimates = []
    for _ in range(40):
        people = [3.6 + rng.gauss(0, 0.35) for _ in range(15)]
        swings = [rng.gauss(0, 0.14) for _ in range(8)]
        series = [[_week(rng, people, s) for s in swings] for _ in range(13)]
        estimates.append(between_period_variance(series, person_share=0.2))
    assert sum(estimates) / len(estimates) == pytest.approx(0.14**2, abs=0.01)


def test_a_one_point_drop_in_a_team_of_fifteen_is_seen() -> None:
    rng = random.Random(12)
    seen = 0
    for _ in range(100):
        people = [3.6 + rng.gauss(0, 0.35) for _ in range(15)]
        before = [_week(rng, people, 0.0) for _ in range(8)]
        after = _week(rng, people, -1.0)
        baseline = level(before, between=0.01, person_share=0.2)
        assert baseline is not None
        seen += compare_levels(baseline, single_level(after, between=0.01)).p_value < 0.001
    assert seen >= 80


@pytest.mark.parametrize("seed", range(200))
def test_spearman_of_counted_pairs_is_spearman_to_the_last_bit(seed: int) -> None:
    rng = random.Random(seed)
    # Means of one to three answers: the values respondents' pairs take, with many ties.
    values = sorted({a / n for n in (1, 2, 3) for a in range(n, 5 * n + 1)})[: rng.randint(1, 13)]
    n = rng.choice([2, 3, 10, 30, 500, 5000])
    xs = [rng.choice(values) for _ in range(n)]
    ys = [x if rng.random() < 0.3 else rng.choice(values) for x in xs]
    assert spearman_counted(Counter(zip(xs, ys, strict=True))) == spearman(xs, ys)


def test_person_share_finds_stable_personal_levels() -> None:
    rng = random.Random(13)
    moods = {f"p{i}": rng.gauss(0, 1.0) for i in range(60)}
    answers = [(p, "d", mood + rng.gauss(0, 1.0)) for p, mood in moods.items() for _ in range(6)]
    assert person_share(answers) == pytest.approx(0.5, abs=0.15)
    assert person_share([("p", "d", 3.0)]) is None


def test_level_spread_of_equal_groups_is_quiet_and_of_a_distant_one_is_not() -> None:
    rng = random.Random(14)
    quiet = 0
    for _ in range(300):
        weeks = [
            Distribution.from_scores(
                max(1, min(5, round(3.6 + rng.gauss(0, 0.7)))) for _ in range(12)
            )
            for _ in range(6 * 9)
        ]
        # As in a report: the spread comes from the teams' earlier weeks too.
        teams, spread = weeks[:6], pooled_variance(weeks)
        levels = {
            f"t{i}": single_level(team, between=0.0, within=spread) for i, team in enumerate(teams)
        }
        found = level_spread(levels)
        assert found is not None
        quiet += found.p_value < 0.05
    assert quiet / 300 <= 0.08
    distant = {
        "a": single_level(Distribution((0, 0, 2, 8, 2)), between=0.0),
        "b": single_level(Distribution((3, 7, 2, 0, 0)), between=0.0),
    }
    found = level_spread(distant)
    assert found is not None
    assert (found.highest, found.lowest, found.p_value < 1e-6) == ("a", "b", True)
