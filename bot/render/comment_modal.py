"""The "add a confidential comment" modal."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from slack_sdk.models.blocks import (
    CheckboxesElement,
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

REPLIES_OPTION = "replies"  # the opt-in checkbox's value


class CommentModalState(BaseModel):
    """What the modal carries in private_metadata, validated when it comes back."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    round_id: int


def _option_text(number: int, text: str) -> str:
    label = f"{number}. {text}"
    return label if len(label) <= 75 else label[:74] + "…"


def _replies_block(prompts: Prompts, reply_days: int) -> InputBlock:
    """The opt-in for replies: unticked unless the person ticks it."""
    copy = prompts.copy
    return InputBlock(
        block_id=BlockId.COMMENT_REPLIES,
        label=copy.t("comment_modal.replies_label"),
        optional=True,
        hint=copy.t("comment_modal.replies_hint", days=reply_days),
        element=CheckboxesElement(
            action_id=ActionId.COMMENT_REPLIES,
            options=[Option(value=REPLIES_OPTION, text=copy.t("comment_modal.replies_option"))],
        ),
    )


def comment_modal(
    view: PulseView, prompts: Prompts, *, comment_minimum: int, reply_days: int | None = None
) -> View:
    """The modal for one round's pulse; its intro states the comment rule as configured:
    comments are shown only for weeks where at least `comment_minimum` people answered.
    With `reply_days` (replies are on: CX_ENCRYPTION_KEY is set) it offers the opt-in for
    replies; without, a comment is never linked to anyone, and the modal says so."""
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
                    ),
                    MarkdownTextObject(
                        text=copy.t(
                            "comment_modal.apart_replies" if reply_days else "comment_modal.apart"
                        )
                    ),
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
            *([_replies_block(prompts, reply_days)] if reply_days else []),
        ],
    )
