"""Every action, block and callback id the app uses, in one place."""

from __future__ import annotations

from enum import StrEnum


class ActionId(StrEnum):
    ANSWER_PREFIX = "answer:"
    OPEN_COMMENT = "open_comment"
    COMMENT_QUESTION = "comment_question"
    COMMENT_TEXT = "comment_text"
    FORGET_ME_CONFIRM = "forget_me_confirm"
    FORGET_ME_CANCEL = "forget_me_cancel"


class BlockId(StrEnum):
    QUESTION_PREFIX = "q:"
    COMMENT_ACTIONS = "comment_actions"
    COMMENT_QUESTION = "comment_question_block"
    COMMENT_TEXT = "comment_text_block"
    FORGET_ME = "forget_me"


class CallbackId(StrEnum):
    COMMENT_MODAL = "comment_modal"
