"""Ephemeral replies to `/cx`: help and score."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.prompts import Prompts
from bot.render.digest import change_text, pct
from bot.render.ids import ActionId, BlockId
from bot.services.digest import Digest
from bot.services.ports import OutgoingMessage


def text_reply(text: str) -> OutgoingMessage:
    return OutgoingMessage(text=text, blocks=[SectionBlock(text=MarkdownTextObject(text=text))])


def forget_me_question(prompts: Prompts) -> OutgoingMessage:
    """Ask before deleting: a danger button behind Slack's own confirmation dialog."""
    copy = prompts.copy
    confirm = ButtonElement(
        action_id=ActionId.FORGET_ME_CONFIRM,
        text=copy.t("commands.forget_me_confirm_button"),
        value="confirm",
        style="danger",
        confirm=ConfirmObject(
            title=PlainTextObject(text=copy.t("commands.forget_me_dialog_title")),
            text=PlainTextObject(text=copy.t("commands.forget_me_dialog_text")),
            confirm=PlainTextObject(text=copy.t("commands.forget_me_dialog_confirm")),
            deny=PlainTextObject(text=copy.t("commands.forget_me_dialog_deny")),
            style="danger",
        ),
    )
    cancel = ButtonElement(
        action_id=ActionId.FORGET_ME_CANCEL,
        text=copy.t("commands.forget_me_cancel_button"),
        value="cancel",
    )
    text = copy.t("commands.forget_me_ask")
    return OutgoingMessage(
        text=text,
        blocks=[
            SectionBlock(text=MarkdownTextObject(text=text)),
            ActionsBlock(block_id=BlockId.FORGET_ME, elements=[confirm, cancel]),
        ],
    )


def help_message(prompts: Prompts, min_group: int) -> OutgoingMessage:
    dimensions = ", ".join(f"`{d.id}`" for d in prompts.bank.dimensions)
    return text_reply(prompts.copy.t("commands.help", dimensions=dimensions, min_group=min_group))


def score_message(digest: Digest, prompts: Prompts, dimension_id: str | None) -> OutgoingMessage:
    copy = prompts.copy
    lines = [
        line
        for line in digest.dimensions
        if dimension_id is None or line.dimension_id == dimension_id
    ]
    if not lines:
        name = prompts.bank.dimension(dimension_id).name if dimension_id else ""
        key = "commands.score_none_dimension" if dimension_id else "commands.score_none"
        return text_reply(copy.t(key, name=name, min_group=digest.min_group_size))
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(text=copy.t("commands.score_heading", period=digest.period))
        )
    ]
    for line in lines:
        text = copy.t(
            "commands.score_line",
            name=line.name,
            favourable=pct(line.latest.favourable_share),
            unfavourable="",
            mean=f"{line.latest.mean:.1f}",
            n=line.latest.respondents,
            period=line.latest.period,
            change=change_text(copy, line.favourable_change),
        )
        if dimension_id is not None:
            statements = prompts.bank.dimension(dimension_id)
            text += "\n" + copy.t("commands.score_why", why=statements.why)
        blocks.append(SectionBlock(text=MarkdownTextObject(text=text)))
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=copy.t("commands.score_footer", min_group=digest.min_group_size)
                )
            ]
        )
    )
    return OutgoingMessage(
        text=copy.t("commands.score_fallback", period=digest.period), blocks=blocks
    )
