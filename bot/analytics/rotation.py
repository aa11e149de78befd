"""Which questions a round asks.

The rotating dimensions are laid on a ring; round n takes the next `slots` positions, so any
`ceil(D / slots)` consecutive rounds cover every dimension and two consecutive rounds never
share a dimension (hence never repeat a question). Within a dimension the statements take turns.

`questions_per_round` counts the rotating slots plus one for the outcome: every round ends on
all the outcome items (customer-first behaviour and customer outcomes), so with two of them a
round of "4" asks 3 rotating statements and 2 outcome ones (`round_length`). Counting the
outcome as one keeps every configured size covering the dimensions as before.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

COVERAGE_ROUNDS = 4


def round_length(questions_per_round: int, outcome_items: int) -> int:
    """How many statements a round asks: its rotating slots and every outcome item."""
    return questions_per_round - 1 + outcome_items


def rounds_to_cover(dimension_count: int, questions_per_round: int) -> int:
    """How many consecutive rounds it takes to ask every rotating dimension at least once."""
    slots = questions_per_round - 1
    if slots < 1:
        raise ValueError("a round needs room for at least one rotating question")
    return math.ceil(dimension_count / slots)


def check_rotation(dimension_count: int, questions_per_round: int) -> None:
    """Refuse a configuration that could not cover every dimension within four rounds."""
    slots = questions_per_round - 1
    needed = rounds_to_cover(dimension_count, questions_per_round)
    if needed > COVERAGE_ROUNDS:
        raise ValueError(
            f"{questions_per_round} questions per round cover {dimension_count} dimensions "
            f"in {needed} rounds; ask at least {math.ceil(dimension_count / COVERAGE_ROUNDS) + 1}"
        )
    if 2 * slots > dimension_count:
        raise ValueError("too many questions per round: consecutive rounds would repeat one")


def _times_asked_before(position: int, dimension_index: int, dimension_count: int) -> int:
    """How many ring positions before `position` landed on `dimension_index`."""
    if position <= dimension_index:
        return 0
    return (position - 1 - dimension_index) // dimension_count + 1


def plan_round(
    rotating: Sequence[Sequence[str]],
    outcome_questions: Sequence[str],
    sequence: int,
    questions_per_round: int,
) -> list[str]:
    """Question ids for the round with this `sequence` (0 for the first round ever).

    `rotating` lists, per rotating dimension in bank order, its question ids. The outcome
    questions always come last, all of them, so every round ends on the customer-first outcome
    and each respondent-week has an outcome score (the mean of the items they answered).
    """
    if not outcome_questions or isinstance(outcome_questions, str):
        raise ValueError("a round needs its outcome questions, as a sequence of ids")
    if sequence < 0:
        raise ValueError("sequence starts at 0")
    dimension_count = len(rotating)
    check_rotation(dimension_count, questions_per_round)
    slots = questions_per_round - 1
    chosen: list[str] = []
    for offset in range(slots):
        position = sequence * slots + offset
        index = position % dimension_count
        questions = rotating[index]
        turn = _times_asked_before(position, index, dimension_count)
        chosen.append(questions[turn % len(questions)])
    chosen.extend(outcome_questions)
    return chosen
