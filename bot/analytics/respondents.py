"""Respondents' own answers, for what the cells cannot tell: which dimensions move with the
outcome (drivers) and how much of the spread belongs to the people themselves (person share).
Pure: answers in, pair counts and the share out.

A digest reads tens of thousands of answers here, so they are grouped as numpy columns rather
than one Python object each; `noise.person_share` is the straightforward reference.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

# How many respondent-periods gave each (dimension score, outcome score), by dimension.
PairCounts = dict[str, Counter[tuple[float, float]]]


@dataclass(frozen=True, slots=True)
class PeriodMeans:
    """Each respondent's mean score in each period and dimension they answered, as columns:
    entry i is respondent `person[i]` in period `period[i]` on `dimensions[dimension[i]]`.
    Periods and respondents are numbered in order of first appearance, and so are dimensions."""

    dimensions: tuple[str, ...]
    periods: int
    people: int
    period: NDArray[np.int64]
    person: NDArray[np.int64]
    dimension: NDArray[np.int64]
    mean: NDArray[np.float64]


def _codes(values: Sequence[str]) -> tuple[NDArray[np.int64], list[str]]:
    """Each value's number, in order of first appearance, and the values so numbered."""
    number: dict[str, int] = {}
    codes = np.fromiter(
        (number.setdefault(value, len(number)) for value in values),
        dtype=np.int64,
        count=len(values),
    )
    return codes, list(number)


def period_means(
    periods: Sequence[str],
    respondents: Sequence[str],
    dimensions: Sequence[str],
    scores: Sequence[int],
) -> PeriodMeans:
    """From answers given as columns (entry i of each is one answer): a respondent who
    answered a dimension more than once in a period (two of its questions, or two rounds)
    counts once, with the mean of those answers."""
    if not scores:
        empty = np.zeros(0, dtype=np.int64)
        return PeriodMeans((), 0, 0, empty, empty, empty, np.zeros(0, dtype=np.float64))
    period, period_names = _codes(periods)
    person, people = _codes(respondents)
    dimension, dimension_names = _codes(dimensions)
    cell = (period * len(people) + person) * len(dimension_names) + dimension
    cells, which = np.unique(cell, return_inverse=True)
    # Sums of whole scores are exact in floats, and one division each, as in plain Python.
    sums = np.bincount(which, weights=np.asarray(scores, dtype=np.float64))
    answered = np.bincount(which)
    rest, cell_dimension = np.divmod(cells, len(dimension_names))
    cell_period, cell_person = np.divmod(rest, len(people))
    return PeriodMeans(
        dimensions=tuple(dimension_names),
        periods=len(period_names),
        people=len(people),
        period=cell_period,
        person=cell_person,
        dimension=cell_dimension,
        mean=sums / answered,
    )


def driver_pair_counts(means: PeriodMeans, outcome: str) -> PairCounts:
    """(dimension score, outcome score) of every respondent-period that answered both, counted
    by dimension: what `noise.spearman_counted` needs for each driver.

    The outcome score is the respondent-period's mean over the outcome dimension's items, like
    any dimension's (customer-first behaviour and customer outcomes, both asked every round):
    the drivers rest on the outcome as a whole, not on one statement."""
    if outcome not in means.dimensions:
        return {}
    is_outcome = means.dimension == means.dimensions.index(outcome)
    respondent_period = means.period * means.people + means.person
    has_outcome = np.zeros(means.periods * means.people, dtype=bool)
    outcome_score = np.zeros(means.periods * means.people, dtype=np.float64)
    has_outcome[respondent_period[is_outcome]] = True
    outcome_score[respondent_period[is_outcome]] = means.mean[is_outcome]
    paired = ~is_outcome & has_outcome[respondent_period]
    found = Counter(
        zip(
            means.dimension[paired].tolist(),
            means.mean[paired].tolist(),
            outcome_score[respondent_period[paired]].tolist(),
            strict=True,
        )
    )
    pairs: PairCounts = {}
    for (dimension, x, y), times in found.items():
        pairs.setdefault(means.dimensions[dimension], Counter())[(x, y)] = times
    return pairs


def paired_people(means: PeriodMeans, outcome: str) -> dict[str, int]:
    """Distinct people behind each dimension's pairs with the outcome: a driver rests on these
    people, however many weeks each of them gave."""
    if outcome not in means.dimensions:
        return {}
    is_outcome = means.dimension == means.dimensions.index(outcome)
    respondent_period = means.period * means.people + means.person
    has_outcome = np.zeros(means.periods * means.people, dtype=bool)
    has_outcome[respondent_period[is_outcome]] = True
    paired = ~is_outcome & has_outcome[respondent_period]
    out: dict[str, int] = {}
    for index, dimension in enumerate(means.dimensions):
        chosen = paired & (means.dimension == index)
        people = int(np.unique(means.person[chosen]).size)
        if people:
            out[dimension] = people
    return out


def person_share(means: PeriodMeans) -> float | None:
    """`noise.person_share` of these means (one per respondent, dimension and period): the
    intra-class correlation across periods, averaged over dimensions; None when no dimension
    has three people who answered it twice."""
    respondent_dimension = means.dimension * means.people + means.person
    groups, which = np.unique(respondent_dimension, return_inverse=True)
    periods = np.bincount(which)
    totals = np.bincount(which, weights=means.mean)
    centres = totals / periods
    inside = np.bincount(which, weights=(means.mean - centres[which]) ** 2)
    group_dimension = groups // means.people
    shares = []
    for dimension in range(len(means.dimensions)):
        repeated = (group_dimension == dimension) & (periods >= 2)
        people = int(repeated.sum())
        counts = periods[repeated]
        n_total = int(counts.sum())
        if people < 3 or n_total - people < 1:
            continue
        grand = float(totals[repeated].sum()) / n_total
        between = float((counts * (centres[repeated] - grand) ** 2).sum())
        ms_between = between / (people - 1)
        ms_within = float(inside[repeated].sum()) / (n_total - people)
        size = (n_total - int((counts * counts).sum()) / n_total) / (people - 1)
        denominator = ms_between + (size - 1) * ms_within
        if denominator > 0:
            shares.append(min(1.0, max(0.0, (ms_between - ms_within) / denominator)))
    return sum(shares) / len(shares) if shares else None
