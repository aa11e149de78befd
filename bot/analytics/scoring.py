"""Summaries of 1-5 agree-scale answers."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

FAVOURABLE = frozenset({4, 5})
UNFAVOURABLE = frozenset({1, 2})


@dataclass(frozen=True, slots=True)
class ScoreSummary:
    respondents: int
    favourable_share: float
    unfavourable_share: float
    mean: float
    distribution: tuple[int, int, int, int, int]


def summarize(scores: Iterable[int]) -> ScoreSummary:
    """Share favourable (4-5), unfavourable (1-2), mean and the 1-5 histogram."""
    counts = Counter(scores)
    bad = [score for score in counts if score not in range(1, 6)]
    if bad:
        raise ValueError(f"scores must be 1-5, got {sorted(bad)}")
    total = sum(counts.values())
    if total == 0:
        raise ValueError("cannot summarize zero answers")
    return ScoreSummary(
        respondents=total,
        favourable_share=sum(counts[s] for s in FAVOURABLE) / total,
        unfavourable_share=sum(counts[s] for s in UNFAVOURABLE) / total,
        mean=sum(score * n for score, n in counts.items()) / total,
        distribution=(counts[1], counts[2], counts[3], counts[4], counts[5]),
    )


def favourable_share(scores: Iterable[int]) -> float:
    return summarize(scores).favourable_share


def response_rate(invited: int, responded: int) -> float | None:
    """Share of invited people who answered at least one question; None when nobody was invited."""
    if responded > invited or responded < 0:
        raise ValueError("responded must be between 0 and invited")
    return responded / invited if invited else None
