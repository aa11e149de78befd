"""Every action, block and callback id the app uses, in one place."""

from __future__ import annotations

from enum import StrEnum


class ActionId(StrEnum):
    ANSWER_PREFIX = "answer:"
    OPEN_COMMENT = "open_comment"
    COMMENT_QUESTION = "comment_question"
    COMMENT_TEXT = "comment_text"


class BlockId(StrEnum):
    QUESTION_PREFIX = "q:"
    COMMENT_ACTIONS = "comment_actions"
    COMMENT_QUESTION = "comment_question_block"
    COMMENT_TEXT = "comment_text_block"


class CallbackId(StrEnum):
    COMMENT_MODAL = "comment_modal"
