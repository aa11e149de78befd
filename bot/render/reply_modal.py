"""The modals of a confidential conversation: a leader's reply, the author's answer, and
what either becomes once sent (or refused)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.prompts import Prompts
from bot.render.escape import clip
from bot.render.ids import ActionId, BlockId, CallbackId
from bot.render.reply_messages import quoted_chunks
from bot.services.replies import MAX_REPLY_CHARS

HEX_ID = r"^[0-9a-f]{32}$"
QUOTED_COMMENT_CHARS = 2500


class LeaderReplyState(BaseModel):
    """The comment a leader's reply modal answers; validated when it comes back."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    comment: str = Field(pattern=HEX_ID)


class AuthorReplyState(BaseModel):
    """The conversation an author's answer modal belongs to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    thread: str = Field(pattern=HEX_ID)


def _text_input(prompts: Prompts, label_key: str, placeholder_key: str) -> InputBlock:
    copy = prompts.copy
    return InputBlock(
        block_id=BlockId.REPLY_TEXT,
        label=copy.t(label_key),
        element=PlainTextInputElement(
            action_id=ActionId.REPLY_TEXT,
            multiline=True,
            max_length=MAX_REPLY_CHARS,
            placeholder=copy.t(placeholder_key),
        ),
    )


def _comment_blocks(comment_text: str | None) -> list[Block]:
    if comment_text is None:
        return []
    chunk = quoted_chunks(clip(comment_text, QUOTED_COMMENT_CHARS))[0]
    return [SectionBlock(text=MarkdownTextObject(text=chunk))]


def leader_reply_modal(
    prompts: Prompts,
    *,
    comment_id: str,
    period: str,
    comment_text: str,
    continuing: bool,
    minutes: int,
) -> View:
    copy = prompts.copy
    key = "replies.leader_modal_more" if continuing else "replies.leader_modal_intro"
    intro = copy.t(key, period=period)
    blocks: list[Block] = [
        ContextBlock(elements=[MarkdownTextObject(text=intro)]),
        *_comment_blocks(comment_text),
        _text_input(prompts, "replies.leader_modal_label", "replies.leader_modal_placeholder"),
        ContextBlock(
            elements=[MarkdownTextObject(text=copy.t("replies.leader_modal_note", minutes=minutes))]
        ),
    ]
    return View(
        type="modal",
        callback_id=CallbackId.LEADER_REPLY_MODAL,
        private_metadata=LeaderReplyState(comment=comment_id).model_dump_json(),
        title=copy.t("replies.leader_modal_title"),
        submit=copy.t("replies.send"),
        close=copy.t("replies.cancel"),
        blocks=blocks,
    )


def author_reply_modal(
    prompts: Prompts, *, thread_id: str, comment_text: str | None, minutes: int
) -> View:
    copy = prompts.copy
    blocks: list[Block] = [
        *_comment_blocks(comment_text),
        _text_input(prompts, "replies.author_modal_label", "replies.author_modal_placeholder"),
        ContextBlock(
            elements=[MarkdownTextObject(text=copy.t("replies.author_modal_note", minutes=minutes))]
        ),
    ]
    return View(
        type="modal",
        callback_id=CallbackId.AUTHOR_REPLY_MODAL,
        private_metadata=AuthorReplyState(thread=thread_id).model_dump_json(),
        title=copy.t("replies.author_modal_title"),
        submit=copy.t("replies.send"),
        close=copy.t("replies.cancel"),
        blocks=blocks,
    )


def notice_modal(prompts: Prompts, text: str) -> View:
    """A modal saying one thing (already written copy): sent, or why not."""
    copy = prompts.copy
    return View(
        type="modal",
        callback_id=CallbackId.REPLY_NOTICE_MODAL,
        title=copy.t("replies.notice_title"),
        close=copy.t("replies.done"),
        blocks=[SectionBlock(text=MarkdownTextObject(text=text))],
    )
