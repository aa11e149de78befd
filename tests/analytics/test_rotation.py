from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.analytics.rotation import check_rotation, plan_round, round_length, rounds_to_cover
from bot.prompts import load_prompts

BANK = load_prompts().bank
ROTATING = [[q.id for q in d.questions] for d in BANK.rotating_dimensions]
DIMENSION_OF = {q.id: d.id for d in BANK.dimensions for q in d.questions}


def plan(sequence: int, per_round: int = 4) -> list[str]:
    return plan_round(ROTATING, BANK.outcome_questions, sequence, per_round)


@pytest.mark.parametrize("per_round", [4, 5])
@given(start=st.integers(min_value=0, max_value=500))
def test_any_four_consecutive_rounds_cover_every_dimension(per_round: int, start: int) -> None:
    asked = {DIMENSION_OF[q] for seq in range(start, start + 4) for q in plan(seq, per_round)}
    assert asked == {d.id for d in BANK.dimensions}


@pytest.mark.parametrize("per_round", [4, 5])
@given(sequence=st.integers(min_value=0, max_value=500))
def test_consecutive_rounds_share_only_the_outcome_questions(per_round: int, sequence: int) -> None:
    shared = set(plan(sequence, per_round)) & set(plan(sequence + 1, per_round))
    assert shared == set(BANK.outcome_questions)


@given(sequence=st.integers(min_value=0, max_value=500))
def test_round_has_its_rotating_slots_then_every_outcome_item_and_one_question_per_dimension(
    sequence: int,
) -> None:
    questions = plan(sequence)
    outcome = list(BANK.outcome_questions)
    assert len(outcome) >= 2
    # "4 questions per round": 3 rotating slots, the outcome (all its items) counting as one.
    assert len(questions) == round_length(4, len(outcome)) == 3 + len(outcome)
    assert questions[-len(outcome) :] == outcome
    assert len({DIMENSION_OF[q] for q in questions[: -len(outcome)]}) == 3
    assert BANK.outcome_dimension not in {DIMENSION_OF[q] for q in questions[: -len(outcome)]}


def test_a_round_needs_its_outcome_questions_as_a_sequence() -> None:
    with pytest.raises(ValueError, match="outcome questions"):
        plan_round(ROTATING, "customer_outcome.needs_met", 0, 4)
    with pytest.raises(ValueError, match="outcome questions"):
        plan_round(ROTATING, (), 0, 4)


def test_statements_within_a_dimension_take_turns() -> None:
    asked = [q for seq in range(40) for q in plan(seq)]
    every_statement = {q.id for d in BANK.dimensions for q in d.questions}
    assert set(asked) == every_statement
    first_dimension = BANK.rotating_dimensions[0]
    turns = [q for q in asked if DIMENSION_OF[q] == first_dimension.id]
    expected = [q.id for q in first_dimension.questions]
    assert turns[: len(expected)] == expected


def test_three_questions_per_round_cannot_cover_twelve_dimensions_in_four_rounds() -> None:
    assert rounds_to_cover(12, 3) == 6
    with pytest.raises(ValueError, match="cover 12 dimensions in 6 rounds"):
        check_rotation(12, 3)
    check_rotation(12, 4)


def test_sequence_must_not_be_negative() -> None:
    with pytest.raises(ValueError, match="starts at 0"):
        plan(-1)
