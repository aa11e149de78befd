"""Parsing what Slack sends, once, in one place. Anything malformed becomes BadPayload."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from bot.errors import BadPayload
from bot.render.comment_modal import CommentModalState
from bot.render.ids import ActionId, BlockId


@dataclass(frozen=True, slots=True)
class CxCommand:
    name: str
    args: tuple[str, ...]


def parse_cx(text: str | None) -> CxCommand:
    """`/cx score empowerment` -> CxCommand("score", ("empowerment",)); empty text means help."""
    words = (text or "").split()
    if not words:
        return CxCommand("help", ())
    return CxCommand(words[0].lower(), tuple(words[1:]))


@dataclass(frozen=True, slots=True)
class AnswerClick:
    round_id: int
    question_id: str
    score: int


def parse_answer_value(value: object) -> AnswerClick:
    """Button values look like "12|empowerment.fix_it|4"."""
    if not isinstance(value, str) or len(value) > 200:
        raise BadPayload()
    parts = value.split("|")
    if len(parts) != 3 or not parts[0].isdigit() or parts[2] not in {"1", "2", "3", "4", "5"}:
        raise BadPayload()
    if not parts[1] or len(parts[1]) > 80:
        raise BadPayload()
    return AnswerClick(int(parts[0]), parts[1], int(parts[2]))


def parse_action_ts(value: object) -> datetime | None:
    """Slack's action_ts ("1700000000.123456"); None when absent or not a sane timestamp."""
    if not isinstance(value, str) or len(value) > 32:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    if not 0 < seconds < 32_503_680_000:  # before the year 3000
        return None
    return datetime.fromtimestamp(seconds, tz=UTC)


def parse_round_id(value: object) -> int:
    if not isinstance(value, str) or not value.isdigit() or len(value) > 18:
        raise BadPayload()
    return int(value)


def user_id_of(body: Mapping[str, Any]) -> str:
    user = body.get("user")
    user_id = user.get("id") if isinstance(user, Mapping) else body.get("user_id")
    if not isinstance(user_id, str) or not user_id:
        raise BadPayload()
    return user_id


@dataclass(frozen=True, slots=True)
class CommentSubmission:
    round_id: int
    question_id: str
    text: str | None


def parse_comment_submission(view: Mapping[str, Any] | None) -> CommentSubmission:
    if view is None:
        raise BadPayload()
    try:
        state = CommentModalState.model_validate_json(view["private_metadata"])
        values = view["state"]["values"]
        question = values[BlockId.COMMENT_QUESTION][ActionId.COMMENT_QUESTION]["selected_option"]
        text = values[BlockId.COMMENT_TEXT][ActionId.COMMENT_TEXT].get("value")
        question_id = question["value"]
    except (KeyError, TypeError, AttributeError, ValidationError) as exc:
        raise BadPayload() from exc
    if not isinstance(question_id, str) or (text is not None and not isinstance(text, str)):
        raise BadPayload()
    return CommentSubmission(state.round_id, question_id, text)
