"""The commitment modal: what we will do about a dimension, by when, and who leads it."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field
from slack_sdk.models.blocks import (
    ContextBlock,
    DatePickerElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.prompts import Prompts
from bot.render.escape import clip, escape_text
from bot.render.ids import ActionId, BlockId, CallbackId
from bot.services.commitments import MAX_ACTION_CHARS, Commitment


class CommitmentModalState(BaseModel):
    """What the modal carries in private_metadata, validated when it comes back."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    channel: str | None = Field(default=None, max_length=32)  # where to say it was taken on


def commitment_modal(
    prompts: Prompts,
    *,
    dimension: str | None,
    owner: str,
    due_on: date,
    channel: str | None,
) -> View:
    copy = prompts.copy
    options = [Option(value=d.id, text=clip(d.name, 75)) for d in prompts.bank.dimensions]
    initial = next((o for o in options if o.value == dimension), None)
    return View(
        type="modal",
        callback_id=CallbackId.COMMITMENT_MODAL,
        private_metadata=CommitmentModalState(channel=channel).model_dump_json(),
        title=copy.t("commitments.modal_title"),
        submit=copy.t("commitments.modal_submit"),
        close=copy.t("commitments.modal_close"),
        blocks=[
            ContextBlock(elements=[MarkdownTextObject(text=copy.t("commitments.modal_intro"))]),
            InputBlock(
                block_id=BlockId.COMMITMENT_DIMENSION,
                label=copy.t("commitments.dimension_label"),
                element=StaticSelectElement(
                    action_id=ActionId.COMMITMENT_DIMENSION,
                    options=options,
                    initial_option=initial,
                ),
            ),
            InputBlock(
                block_id=BlockId.COMMITMENT_TEXT,
                label=copy.t("commitments.text_label"),
                element=PlainTextInputElement(
                    action_id=ActionId.COMMITMENT_TEXT,
                    multiline=True,
                    max_length=MAX_ACTION_CHARS,
                    placeholder=copy.t("commitments.text_placeholder"),
                ),
            ),
            InputBlock(
                block_id=BlockId.COMMITMENT_DUE,
                label=copy.t("commitments.due_label"),
                element=DatePickerElement(
                    action_id=ActionId.COMMITMENT_DUE, initial_date=due_on.isoformat()
                ),
                hint=copy.t("commitments.due_hint"),
            ),
            InputBlock(
                block_id=BlockId.COMMITMENT_OWNER,
                label=copy.t("commitments.owner_label"),
                element=UserSelectElement(action_id=ActionId.COMMITMENT_OWNER, initial_user=owner),
            ),
        ],
    )


def commitment_done(prompts: Prompts, commitment: Commitment) -> View:
    """What the modal turns into once the commitment is stored."""
    copy = prompts.copy
    text = copy.t(
        "commitments.done",
        name=prompts.dimension_name(commitment.dimension),
        action=escape_text(commitment.text),
        owner=f"<@{commitment.owner}>" if commitment.owner else "-",
        due=commitment.due_on.isoformat() if commitment.due_on else "-",
    )
    return View(
        type="modal",
        callback_id=CallbackId.COMMITMENT_MODAL,
        title=copy.t("commitments.modal_title"),
        close=copy.t("commitments.modal_close"),
        blocks=[SectionBlock(text=MarkdownTextObject(text=text))],
    )


def commitment_announcement(prompts: Prompts, commitment: Commitment, *, by: str) -> str:
    """The line posted where the focus was taken on, so the other leaders see who owns it."""
    return prompts.copy.t(
        "commitments.announced",
        by=f"<@{by}>",
        name=prompts.dimension_name(commitment.dimension),
        action=escape_text(clip(commitment.text, 300)),
        owner=f"<@{commitment.owner}>" if commitment.owner else "-",
        due=commitment.due_on.isoformat() if commitment.due_on else "-",
    )
