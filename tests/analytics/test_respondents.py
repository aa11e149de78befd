"""Drivers' pairs and the person share from numpy columns, against the straightforward
per-answer computation they replace."""

from __future__ import annotations

import random
from collections import Counter, defaultdict

import pytest

from bot.analytics import noise
from bot.analytics.respondents import driver_pair_counts, period_means, person_share

Answer = tuple[str, str, str, int]  # period, respondent, dimension, score
OUTCOME = "outcome"


def _answers(seed: int) -> list[Answer]:
    """Random answers with what real ones hold: people skipping weeks and questions, and a
    dimension asked twice in a period (two of its questions, or an ad hoc round beside the
    scheduled one), so that some means are not whole scores."""
    rng = random.Random(seed)
    dimensions = [OUTCOME, "a", "b", "c"]
    out = []
    for week in range(rng.randint(1, 8)):
        period = f"2026-W{10 + week:02d}"
        for person in range(rng.randint(0, 40)):
            mood = (person % 5) - 2
            for dimension in dimensions:
                for _ in range(rng.choice([0, 1, 1, 1, 2, 3])):
                    score = max(1, min(5, 3 + mood // 2 + rng.randint(-1, 1)))
                    out.append((period, f"p{person:03d}", dimension, score))
    rng.shuffle(out)
    return out


def _means_by_hand(answers: list[Answer]) -> dict[tuple[str, str, str], float]:
    totals: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for period, respondent, dimension, score in answers:
        total = totals[(period, respondent, dimension)]
        total[0] += score
        total[1] += 1
    return {key: score_sum / n for key, (score_sum, n) in totals.items()}


def _columns(answers: list[Answer]) -> tuple[list[str], list[str], list[str], list[int]]:
    periods = [period for period, _, _, _ in answers]
    respondents = [respondent for _, respondent, _, _ in answers]
    dimensions = [dimension for _, _, dimension, _ in answers]
    return periods, respondents, dimensions, [score for _, _, _, score in answers]


@pytest.mark.parametrize("seed", range(40))
def test_pairs_are_each_respondent_periods_dimension_and_outcome_means(seed: int) -> None:
    answers = _answers(seed)
    means = _means_by_hand(answers)
    expected: dict[str, Counter[tuple[float, float]]] = defaultdict(Counter)
    for (period, respondent, dimension), value in means.items():
        outcome = means.get((period, respondent, OUTCOME))
        if dimension != OUTCOME and outcome is not None:
            expected[dimension][(value, outcome)] += 1
    found = driver_pair_counts(period_means(*_columns(answers)), OUTCOME)
    assert found == expected


@pytest.mark.parametrize("seed", range(40))
def test_person_share_is_the_straightforward_one(seed: int) -> None:
    answers = _answers(seed)
    triples = [(r, d, value) for (_, r, d), value in _means_by_hand(answers).items()]
    expected = noise.person_share(triples)
    found = person_share(period_means(*_columns(answers)))
    if expected is None:
        assert found is None
    else:
        # Only the order of additions differs.
        assert found == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_no_answers_and_no_outcome() -> None:
    empty = period_means([], [], [], [])
    assert driver_pair_counts(empty, OUTCOME) == {}
    assert person_share(empty) is None
    without = period_means(["2026-W10"] * 2, ["p", "q"], ["a", "a"], [3, 4])
    assert driver_pair_counts(without, OUTCOME) == {}
