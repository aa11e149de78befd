"""Telling real change from noise in 1-5 agree-scale answers. Pure functions, stdlib only.

Everything works from score distributions (counts of 1..5), because raw answers may have been
purged and only gated aggregates kept. Repeated weeks of the same people are not independent
samples, so pooled periods count with an *effective* size (the mean people per period), which
keeps tests from mistaking many weeks of the same people for a larger sample.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Literal

SCORES = (1, 2, 3, 4, 5)


@dataclass(frozen=True, slots=True)
class Distribution:
    """How many answers gave each score 1..5.

    Its size, mean and variance are worked out once, when it is made: a report reads them
    tens of thousands of times over a few thousand distributions.
    """

    counts: tuple[int, int, int, int, int]
    n: int = field(init=False, repr=False, compare=False)
    mean: float = field(init=False, repr=False, compare=False)
    # Sample variance (n - 1 in the denominator); 0 below two answers.
    variance: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.counts) != 5 or min(self.counts) < 0:
            raise ValueError(f"need five non-negative counts, got {self.counts}")
        c1, c2, c3, c4, c5 = self.counts
        n = c1 + c2 + c3 + c4 + c5
        mean = (c1 + 2 * c2 + 3 * c3 + 4 * c4 + 5 * c5) / n if n else 0.0
        variance = 0.0
        if n >= 2:
            # Term by term from score 1 up: the same sum, to the last bit, as any loop over
            # the scores in order.
            variance = (
                c1 * (1 - mean) ** 2
                + c2 * (2 - mean) ** 2
                + c3 * (3 - mean) ** 2
                + c4 * (4 - mean) ** 2
                + c5 * (5 - mean) ** 2
            ) / (n - 1)
        object.__setattr__(self, "n", n)
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "variance", variance)

    @classmethod
    def from_scores(cls, scores: Iterable[int]) -> Distribution:
        counts = [0, 0, 0, 0, 0]
        for score in scores:
            if score not in SCORES:
                raise ValueError(f"scores must be 1-5, got {score}")
            counts[score - 1] += 1
        return cls((counts[0], counts[1], counts[2], counts[3], counts[4]))

    @classmethod
    def pooled(cls, parts: Iterable[Distribution]) -> Distribution:
        total = [0, 0, 0, 0, 0]
        for part in parts:
            for index, n in enumerate(part.counts):
                total[index] += n
        return cls((total[0], total[1], total[2], total[3], total[4]))

    def __add__(self, other: Distribution) -> Distribution:
        return Distribution.pooled((self, other))

    @property
    def favourable(self) -> int:
        return self.counts[3] + self.counts[4]

    @property
    def unfavourable(self) -> int:
        return self.counts[0] + self.counts[1]

    @property
    def favourable_share(self) -> float:
        return self.favourable / self.n if self.n else 0.0

    @property
    def unfavourable_share(self) -> float:
        return self.unfavourable / self.n if self.n else 0.0


# --- distribution functions -------------------------------------------------------------------


# A person share estimated at (or near) 1 would leave no sampling error at all, and every
# wobble would look infinitely significant; some of the spread is always the week's.
MAX_PERSON_SHARE = 0.95


def _kept(person_share: float) -> float:
    """The part of an answer's spread that is not the person's own (see `person_share`)."""
    return 1.0 - min(max(person_share, 0.0), MAX_PERSON_SHARE)


def _beta_fraction(a: float, b: float, x: float) -> float:
    """Continued fraction for the incomplete beta function (modified Lentz's method)."""
    tiny, eps = 1e-300, 3e-16
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 400):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < eps:
            break
    return h


def betainc(a: float, b: float, x: float) -> float:
    """Regularized incomplete beta function I_x(a, b)."""
    if not 0.0 <= x <= 1.0:
        raise ValueError("x must be in [0, 1]")
    if x in (0.0, 1.0):
        return x
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    front = math.exp(log_front)
    # The fraction converges fast only on one side of the mean; use symmetry on the other.
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_fraction(a, b, x) / a
    return 1.0 - front * _beta_fraction(b, a, 1.0 - x) / b


def t_two_sided_p(t: float, df: float) -> float:
    """P(|T| >= |t|) for Student's t with `df` degrees of freedom."""
    if df <= 0:
        return 1.0
    return betainc(df / 2.0, 0.5, df / (df + t * t))


def t_quantile(probability: float, df: float) -> float:
    """The t value with P(T <= t) = probability (bisection on the exact CDF; 1e-9 accurate)."""
    if not 0.0 < probability < 1.0:
        raise ValueError("probability must be in (0, 1)")
    if probability < 0.5:
        return -t_quantile(1.0 - probability, df)
    target = 2.0 * (1.0 - probability)  # two-sided tail
    low, high = 0.0, 1.0
    while t_two_sided_p(high, df) > target:
        high *= 2.0
    for _ in range(200):
        middle = (low + high) / 2.0
        if t_two_sided_p(middle, df) > target:
            low = middle
        else:
            high = middle
        if high - low < 1e-10:
            break
    return (low + high) / 2.0


def f_upper_p(f: float, df1: float, df2: float) -> float:
    """P(F >= f) for Fisher's F with (df1, df2) degrees of freedom."""
    if f <= 0:
        return 1.0
    return betainc(df2 / 2.0, df1 / 2.0, df2 / (df2 + df1 * f))


def gammaincc(a: float, x: float) -> float:
    """Regularized upper incomplete gamma function Q(a, x)."""
    if x <= 0:
        return 1.0
    log_front = a * math.log(x) - x - math.lgamma(a)
    if x < a + 1.0:
        # Series for the lower function, then the complement.
        term = total = 1.0 / a
        denominator = a
        for _ in range(1000):
            denominator += 1.0
            term *= x / denominator
            total += term
            if abs(term) < abs(total) * 1e-16:
                break
        return max(0.0, 1.0 - total * math.exp(log_front))
    # Continued fraction (modified Lentz) for the upper function.
    tiny = 1e-300
    b = x + 1.0 - a
    c, d = 1.0 / tiny, 1.0 / b
    h = d
    for i in range(1, 1000):
        numerator = -i * (i - a)
        b += 2.0
        d = numerator * d + b
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = b + numerator / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        if abs(d * c - 1.0) < 1e-16:
            break
    return math.exp(log_front) * h


def chi2_upper_p(statistic: float, df: float) -> float:
    """P(X >= statistic) for a chi-squared variable with `df` degrees of freedom."""
    return gammaincc(df / 2.0, statistic / 2.0) if df > 0 else 1.0


def normal_two_sided_p(z: float) -> float:
    return math.erfc(abs(z) / math.sqrt(2.0))


@cache
def normal_quantile(probability: float) -> float:
    """Inverse standard normal CDF by bisection on erfc (ample for confidence levels)."""
    if not 0.0 < probability < 1.0:
        raise ValueError("probability must be in (0, 1)")
    low, high = -40.0, 40.0
    for _ in range(200):
        middle = (low + high) / 2.0
        if 0.5 * math.erfc(-middle / math.sqrt(2.0)) < probability:
            low = middle
        else:
            high = middle
    return (low + high) / 2.0


# --- intervals and tests ------------------------------------------------------------------------


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion: honest at small n and near 0% or 100%."""
    if n == 0:
        return 0.0, 1.0
    z = normal_quantile(1.0 - (1.0 - confidence) / 2.0)
    share = successes / n
    centre = (share + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(share * (1 - share) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


Direction = Literal["up", "down", "none"]


@dataclass(frozen=True, slots=True)
class Change:
    """A difference of means (after minus before) with its test; `real` is decided later,
    once every test of a report is known (see `discoveries`)."""

    delta_mean: float
    delta_favourable: float
    low: float
    high: float
    p_value: float

    def direction(self, real: bool) -> Direction:
        if not real:
            return "none"
        return "up" if self.delta_mean > 0 else "down"


def sampling_variance(dist: Distribution, within: float | None = None) -> float:
    """Variance of a period's mean: the spread of answers over the number of answers.

    `within` is the group's spread pooled over many periods; a single small week's own spread
    is a poor estimate (nine people all answering 4 or 5 look more certain than they are).
    At least a quarter point either way, since identical answers still carry uncertainty.
    """
    return max(dist.variance if within is None else within, 0.25) / dist.n


def pooled_variance(periods: Iterable[Distribution]) -> float | None:
    """The spread of answers within a period, pooled over periods; None without data."""
    usable = [d for d in periods if d.n >= 2]
    df = sum(d.n - 1 for d in usable)
    return sum((d.n - 1) * d.variance for d in usable) / df if df else None


def compare(
    before: Distribution,
    after: Distribution,
    *,
    between: float = 0.0,
    within: float | None = None,
    person_share: float = 0.0,
    confidence: float = 0.95,
) -> Change | None:
    """Is `after` different from `before` (two periods of one group)? None below two answers.

    `between` is the group's week-to-week variance (see `between_period_variance`): each
    period's mean carries it on top of its sampling variance, so ordinary swings are not
    called change. The same people answer both times, so the part of the spread that belongs
    to the people themselves (`person_share`) cancels out of the difference.
    """
    if before.n < 2 or after.n < 2:
        return None
    keep = _kept(person_share)
    v_a = keep * sampling_variance(before, within)
    v_b = keep * sampling_variance(after, within)
    se = math.sqrt(v_a + v_b + 2 * between)
    delta = after.mean - before.mean
    if within is not None:
        # A spread pooled over the group's history has many degrees of freedom: normal.
        return compare_levels(
            Level(before.mean, v_a + between, before.favourable_share),
            Level(after.mean, v_b + between, after.favourable_share),
            confidence=confidence,
        )
    df = (v_a + v_b) ** 2 / (v_a**2 / (before.n - 1) + v_b**2 / (after.n - 1))
    margin = t_quantile(1.0 - (1.0 - confidence) / 2.0, df) * se
    return Change(
        delta_mean=delta,
        delta_favourable=after.favourable_share - before.favourable_share,
        low=delta - margin,
        high=delta + margin,
        p_value=t_two_sided_p(delta / se, df),
    )


@dataclass(frozen=True, slots=True)
class Level:
    """A group's typical level over several periods, with its uncertainty."""

    mean: float
    variance: float
    favourable_share: float


def level(
    periods: Sequence[Distribution],
    *,
    between: float,
    within: float | None = None,
    person_share: float = 0.0,
    people: int | None = None,
    against_other_people: bool = False,
) -> Level | None:
    """Random-effects mean of several periods: each weighted by 1 / (sampling + between).

    The part of the spread that belongs to the people themselves (`person_share`, see
    `person_share`) does not shrink with more weeks of the same people. Against the same
    group's own past it cancels out and is left out; against another group
    (`against_other_people`) it stays, at that share of the spread over the group's `people`.
    """
    usable = [d for d in periods if d.n >= 2]
    if not usable:
        return None
    spread = pooled_variance(usable) if within is None else within
    spread = max(spread or 0.0, 0.25)
    share = min(max(person_share, 0.0), 1.0)
    weights = [1.0 / ((1.0 - share) * spread / d.n + between) for d in usable]
    total = sum(weights)
    # The pooled periods' favourable share, without building their pooled distribution.
    answers = sum(d.n for d in usable)
    favourable = sum(d.favourable for d in usable)
    persistent = (
        share * spread / (people or max(d.n for d in usable)) if against_other_people else 0.0
    )
    return Level(
        mean=sum(w * d.mean for w, d in zip(weights, usable, strict=True)) / total,
        variance=1.0 / total + persistent,
        favourable_share=favourable / answers if answers else 0.0,
    )


def person_share(answers: Iterable[tuple[str, str, float]]) -> float | None:
    """The share of the spread in answers that belongs to the people themselves (the
    intra-class correlation across periods), from (respondent, dimension, score) triples with
    one triple per respondent, dimension and period. Averaged over dimensions; None when no
    one answered a dimension twice."""
    by_dimension: dict[str, dict[str, list[float]]] = {}
    for respondent, dimension, score in answers:
        by_dimension.setdefault(dimension, {}).setdefault(respondent, []).append(score)
    shares = []
    for people in by_dimension.values():
        repeated = [scores for scores in people.values() if len(scores) >= 2]
        n_total = sum(len(s) for s in repeated)
        if len(repeated) < 3 or n_total - len(repeated) < 1:
            continue
        grand = sum(sum(s) for s in repeated) / n_total
        between = sum(len(s) * (sum(s) / len(s) - grand) ** 2 for s in repeated)
        inside = sum((x - sum(s) / len(s)) ** 2 for s in repeated for x in s)
        ms_between = between / (len(repeated) - 1)
        ms_within = inside / (n_total - len(repeated))
        size = (n_total - sum(len(s) ** 2 for s in repeated) / n_total) / (len(repeated) - 1)
        denominator = ms_between + (size - 1) * ms_within
        if denominator > 0:
            shares.append(min(1.0, max(0.0, (ms_between - ms_within) / denominator)))
    return sum(shares) / len(shares) if shares else None


def compare_levels(before: Level, after: Level, *, confidence: float = 0.95) -> Change:
    delta = after.mean - before.mean
    se = math.sqrt(before.variance + after.variance)
    margin = normal_quantile(1.0 - (1.0 - confidence) / 2.0) * se
    return Change(
        delta_mean=delta,
        delta_favourable=after.favourable_share - before.favourable_share,
        low=delta - margin,
        high=delta + margin,
        p_value=normal_two_sided_p(delta / se),
    )


def single_level(
    dist: Distribution, *, between: float, within: float | None = None, person_share: float = 0.0
) -> Level:
    """One period as a level of the same group (its persistent part left out, see `level`)."""
    keep = _kept(person_share)
    variance = keep * sampling_variance(dist, within) + between
    return Level(dist.mean, variance, dist.favourable_share)


def between_period_variance(
    series: Iterable[Sequence[Distribution]], *, person_share: float = 0.0
) -> float:
    """Week-to-week variance of a group's period means beyond sampling error.

    DerSimonian-Laird, pooled over several series (one per dimension) because swings such as
    a launch week or an outage tend to hit every dimension of a group at once, and one series
    of a few weeks says little on its own. The same people answer every week, so their own
    part of the spread (`person_share`) does not make weeks differ and is left out.
    """
    keep = _kept(person_share)
    q_total = df_total = scale = 0.0
    for periods in series:
        usable = [d for d in periods if d.n >= 2]
        if len(usable) < 2:
            continue
        within = pooled_variance(usable)
        weights = [1.0 / (keep * sampling_variance(d, within)) for d in usable]
        total = sum(weights)
        centre = sum(w * d.mean for w, d in zip(weights, usable, strict=True)) / total
        q_total += sum(w * (d.mean - centre) ** 2 for w, d in zip(weights, usable, strict=True))
        df_total += len(usable) - 1
        scale += total - sum(w * w for w in weights) / total
    if scale <= 0:
        return 0.0
    return max(0.0, (q_total - df_total) / scale)


def compare_groups(reference: Distribution, group: Distribution) -> Change | None:
    """Student's t with pooled variance: is `group` answering differently from `reference`?

    For two groups answering in the same week (leaders against everyone else). Under the null
    they answer alike, so one pooled variance is right, and a small group such as a leadership
    team does not lose most of its degrees of freedom as it would under Welch.
    """
    if reference.n < 2 or group.n < 2:
        return None
    df = reference.n + group.n - 2
    pooled = (
        (reference.n - 1) * max(reference.variance, 0.25)
        + (group.n - 1) * max(group.variance, 0.25)
    ) / df
    se = math.sqrt(pooled * (1 / reference.n + 1 / group.n))
    delta = group.mean - reference.mean
    margin = t_quantile(0.975, df) * se
    return Change(
        delta_mean=delta,
        delta_favourable=group.favourable_share - reference.favourable_share,
        low=delta - margin,
        high=delta + margin,
        p_value=t_two_sided_p(delta / se, df),
    )


@dataclass(frozen=True, slots=True)
class Spread:
    """How far groups' means lie apart, and Welch's ANOVA p-value for "all equal"."""

    spread: float
    highest: str
    lowest: str
    p_value: float


def group_spread(
    groups: Mapping[str, Distribution],
    *,
    between: float = 0.0,
    within: Mapping[str, float | None] | None = None,
) -> Spread | None:
    """Do these groups' means differ beyond chance? Cochran's Q heterogeneity test, each mean
    weighted by 1 / (sampling variance + `between`, the groups' own week-to-week variance).
    None with fewer than two usable groups."""
    usable = {name: d for name, d in groups.items() if d.n >= 2}
    if len(usable) < 2:
        return None
    spreads = within or {}
    weights = {
        name: 1.0 / (sampling_variance(d, spreads.get(name)) + between)
        for name, d in usable.items()
    }
    total = sum(weights.values())
    centre = sum(weights[name] * d.mean for name, d in usable.items()) / total
    q_stat = sum(weights[name] * (d.mean - centre) ** 2 for name, d in usable.items())
    highest = max(usable, key=lambda name: (usable[name].mean, name))
    lowest = min(usable, key=lambda name: (usable[name].mean, name))
    return Spread(
        spread=usable[highest].mean - usable[lowest].mean,
        highest=highest,
        lowest=lowest,
        p_value=chi2_upper_p(q_stat, len(usable) - 1),
    )


def level_spread(levels: Mapping[str, Level]) -> Spread | None:
    """Cochran's Q over several groups' levels: do they differ beyond their uncertainty?"""
    if len(levels) < 2:
        return None
    weights = {name: 1.0 / found.variance for name, found in levels.items()}
    total = sum(weights.values())
    centre = sum(weights[name] * found.mean for name, found in levels.items()) / total
    q_stat = sum(weights[name] * (found.mean - centre) ** 2 for name, found in levels.items())
    highest = max(levels, key=lambda name: (levels[name].mean, name))
    lowest = min(levels, key=lambda name: (levels[name].mean, name))
    return Spread(
        spread=levels[highest].mean - levels[lowest].mean,
        highest=highest,
        lowest=lowest,
        p_value=chi2_upper_p(q_stat, len(levels) - 1),
    )


# --- rank correlation -----------------------------------------------------------------------


def _ranks(values: Sequence[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for position in range(start, end + 1):
            ranks[order[position]] = (start + end) / 2.0 + 1.0  # ties share the average rank
        start = end + 1
    return ranks


def spearman(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Spearman's rank correlation (Pearson on average ranks); 0 when either side is constant."""
    if len(xs) != len(ys) or len(xs) < 2:
        raise ValueError("need two equally long sequences of at least two values")
    rx, ry = _ranks(xs), _ranks(ys)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    sxy = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    sxx = sum((a - mx) ** 2 for a in rx)
    syy = sum((b - my) ** 2 for b in ry)
    return sxy / math.sqrt(sxx * syy) if sxx and syy else 0.0


def _doubled_centred_ranks(counts: Mapping[float, int], n: int) -> dict[float, int]:
    """Each distinct value's average rank, doubled and less n + 1 (twice the mean rank): an
    integer, so sums of products of these are exact."""
    ranks: dict[float, int] = {}
    below = 0
    for value in sorted(counts):
        ties = counts[value]
        # Average rank below + (ties + 1) / 2, doubled, less n + 1.
        ranks[value] = 2 * below + ties - n
        below += ties
    return ranks


def spearman_counted(pairs: Mapping[tuple[float, float], int]) -> float:
    """`spearman` over (x, y) pairs given as how many times each occurs.

    Answers take few distinct values, so thousands of respondents collapse to a few dozen
    pairs. The sums run over integers (see `_doubled_centred_ranks`), so they are exact; in
    `spearman` every term and partial sum is a multiple of 1/4 below 2**50 up to about 165,000
    pairs, exact too, so the two agree to the last bit there.
    """
    n = sum(pairs.values())
    if n < 2:
        raise ValueError("need at least two pairs")
    xs: dict[float, int] = {}
    ys: dict[float, int] = {}
    for (x, y), times in pairs.items():
        xs[x] = xs.get(x, 0) + times
        ys[y] = ys.get(y, 0) + times
    rank_x, rank_y = _doubled_centred_ranks(xs, n), _doubled_centred_ranks(ys, n)
    sxy = sum(times * rank_x[x] * rank_y[y] for (x, y), times in pairs.items()) / 4
    sxx = sum(times * rank_x[x] ** 2 for x, times in xs.items()) / 4
    syy = sum(times * rank_y[y] ** 2 for y, times in ys.items()) / 4
    return sxy / math.sqrt(sxx * syy) if sxx and syy else 0.0


def spearman_interval(rho: float, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Fisher-z interval with the Bonett-Wright standard error for Spearman's rho."""
    if n < 4:
        return -1.0, 1.0
    clipped = max(-0.999999, min(0.999999, rho))
    z = math.atanh(clipped)
    se = math.sqrt((1 + clipped * clipped / 2) / (n - 3))
    margin = normal_quantile(1.0 - (1.0 - confidence) / 2.0) * se
    return math.tanh(z - margin), math.tanh(z + margin)


# --- many tests at once -----------------------------------------------------------------------


def benjamini_hochberg(p_values: Sequence[float], q: float) -> list[bool]:
    """Which tests to call real, keeping the expected share of false calls at most `q`.

    When nothing changed at all, this also caps the chance of any call at `q`, which is what
    keeps a report on a steady organisation quiet.
    """
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    cutoff = -1
    for rank, index in enumerate(order, start=1):
        if p_values[index] <= q * rank / m:
            cutoff = rank
    chosen = [False] * m
    for rank, index in enumerate(order, start=1):
        chosen[index] = rank <= cutoff
    return chosen
