from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.db.models import NOT_APPLICABLE
from bot.errors import BadPayload
from bot.render.ids import ActionId, BlockId
from bot.slack.parsing import (
    CxCommand,
    parse_answer_value,
    parse_comment_submission,
    parse_cx,
    parse_period,
    parse_round_id,
    user_id_of,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", CxCommand("help", ())),
        (None, CxCommand("help", ())),
        ("  SCORE   Empowerment ", CxCommand("score", ("Empowerment",))),
        ("optout", CxCommand("optout", ())),
    ],
)
def test_parse_cx(text: str | None, expected: CxCommand) -> None:
    assert parse_cx(text) == expected


def test_answer_value_round_trip() -> None:
    click = parse_answer_value("12|empowerment.fix_it|4")
    assert (click.round_id, click.question_id, click.score) == (12, "empowerment.fix_it", 4)


def test_doesnt_apply_to_me_is_score_zero() -> None:
    click = parse_answer_value("12|empowerment.fix_it|0")
    assert click.score == NOT_APPLICABLE == 0


@pytest.mark.parametrize(
    "value",
    [
        None,
        7,
        "",
        "12|q",
        "x|q|4",
        "12|q|6",
        "12|q|-1",
        "12|q|00",
        "12|q|05",
        "12|q| 1",
        "12|q|\u0661",  # an Arabic-Indic one: a digit, but not ours
        "12||3",
        "12|q|4|extra",
        "1" * 300,
    ],
)
def test_malformed_answer_values_are_bad_payloads(value: object) -> None:
    with pytest.raises(BadPayload):
        parse_answer_value(value)


@given(st.text(max_size=60))
def test_any_text_either_parses_or_is_a_bad_payload(value: str) -> None:
    try:
        click = parse_answer_value(value)
    except BadPayload:
        return
    assert 0 <= click.score <= 5


def test_round_id_and_user_id() -> None:
    assert parse_round_id("42") == 42
    for bad in ("-1", "4.2", None, "9" * 40):
        with pytest.raises(BadPayload):
            parse_round_id(bad)
    assert user_id_of({"user": {"id": "U1"}}) == "U1"
    assert user_id_of({"user_id": "U2"}) == "U2"
    with pytest.raises(BadPayload):
        user_id_of({"user": "U1"})


def _view(metadata: str, question: object, text: object) -> dict[str, object]:
    return {
        "private_metadata": metadata,
        "state": {
            "values": {
                BlockId.COMMENT_QUESTION: {
                    ActionId.COMMENT_QUESTION: {"selected_option": question}
                },
                BlockId.COMMENT_TEXT: {ActionId.COMMENT_TEXT: {"value": text}},
            }
        },
    }


def test_comment_submission() -> None:
    parsed = parse_comment_submission(_view(json.dumps({"round_id": 3}), {"value": "q.a"}, "hi"))
    assert (parsed.round_id, parsed.question_id, parsed.text) == (3, "q.a", "hi")


@pytest.mark.parametrize(
    "view",
    [
        None,
        {},
        _view("not json", {"value": "q.a"}, "hi"),
        _view(json.dumps({"round_id": "x"}), {"value": "q.a"}, "hi"),
        _view(json.dumps({"round_id": 1, "extra": 1}), {"value": "q.a"}, "hi"),
        _view(json.dumps({"round_id": 1}), None, "hi"),
        _view(json.dumps({"round_id": 1}), {"value": 5}, "hi"),
        _view(json.dumps({"round_id": 1}), {"value": "q.a"}, ["list"]),
    ],
)
def test_malformed_comment_submissions(view: dict[str, object] | None) -> None:
    with pytest.raises(BadPayload):
        parse_comment_submission(view)


def test_period_as_the_pulse_question_carries_it() -> None:
    assert parse_period("2026-W48") == "2026-W48"
    for value in (None, 48, "", "2026-W4", "2026-w48", "2026-W48 ", "not-a-real-value", "W48"):
        with pytest.raises(BadPayload):
            parse_period(value)
