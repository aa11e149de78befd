"""The "add a confidential comment" modal."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from slack_sdk.models.blocks import (
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.prompts import Prompts
from bot.render.ids import ActionId, BlockId, CallbackId
from bot.render.pulse import PulseView
from bot.services.answers import MAX_COMMENT_CHARS


class CommentModalState(BaseModel):
    """What the modal carries in private_metadata, validated when it comes back."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    round_id: int


def _option_text(number: int, text: str) -> str:
    label = f"{number}. {text}"
    return label if len(label) <= 75 else label[:74] + "…"


def comment_modal(view: PulseView, prompts: Prompts, *, comment_minimum: int) -> View:
    """The modal for one round's pulse; its intro states the comment rule as configured:
    comments are shown only for weeks where at least `comment_minimum` people answered."""
    copy = prompts.copy
    options = [
        Option(value=qid, text=_option_text(number, prompts.statement(qid, text)))
        for number, (qid, text) in enumerate(view.questions, start=1)
    ]
    # Default to the customer-first outcome statement, which every round ends on.
    initial = options[-1]
    return View(
        type="modal",
        callback_id=CallbackId.COMMENT_MODAL,
        private_metadata=CommentModalState(round_id=view.round_id).model_dump_json(),
        title=copy.t("comment_modal.title"),
        submit=copy.t("comment_modal.submit"),
        close=copy.t("comment_modal.close"),
        blocks=[
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text=copy.t("comment_modal.intro", comment_minimum=comment_minimum)
                    )
                ]
            ),
            InputBlock(
                block_id=BlockId.COMMENT_QUESTION,
                label=copy.t("comment_modal.question_label"),
                element=StaticSelectElement(
                    action_id=ActionId.COMMENT_QUESTION, options=options, initial_option=initial
                ),
            ),
            InputBlock(
                block_id=BlockId.COMMENT_TEXT,
                label=copy.t("comment_modal.text_label"),
                element=PlainTextInputElement(
                    action_id=ActionId.COMMENT_TEXT,
                    multiline=True,
                    max_length=MAX_COMMENT_CHARS,
                    placeholder=copy.t("comment_modal.text_placeholder"),
                ),
            ),
        ],
    )
