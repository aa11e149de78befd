"""Comments as leaders read them, each opted-in one with its Reply button (the digest's "In
their words" and the Read-all modal). Only the presence of the button says anything: that the
author asked for replies and the link still holds, never who they are."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from slack_sdk.models.blocks import Block, ButtonElement, MarkdownTextObject, SectionBlock

from bot.db.published import WeekComment
from bot.prompts import Copy
from bot.render.escape import quote_block
from bot.render.ids import ActionId, BlockId

SECTION_LIMIT = 3000


def reply_button(copy: Copy, comment_id: str) -> ButtonElement:
    return ButtonElement(
        action_id=ActionId.REPLY_TO_COMMENT,
        text=copy.t("replies.reply_button"),
        value=comment_id,
    )


def comment_sections(
    copy: Copy,
    lines: Sequence[str],
    comments: Sequence[WeekComment],
    *,
    quote: Callable[[WeekComment], str] | None = None,
) -> list[Block]:
    """`lines` (a heading), then the comments quoted: the ones without a button packed into
    as few sections as Slack allows, each replyable one in a section of its own with Reply."""
    shown = quote or (lambda comment: quote_block(comment.text))
    blocks: list[Block] = []
    pending: list[str] = list(lines)

    def flush() -> None:
        current = ""
        for line in pending:
            candidate = f"{current}\n{line}" if current else line
            if len(candidate) > SECTION_LIMIT and current:
                blocks.append(SectionBlock(text=MarkdownTextObject(text=current)))
                candidate = line
            current = candidate
        if current:
            blocks.append(SectionBlock(text=MarkdownTextObject(text=current)))
        pending.clear()

    for comment in comments:
        if comment.replyable and comment.id:
            flush()
            blocks.append(
                SectionBlock(
                    block_id=f"{BlockId.COMMENT_PREFIX}{comment.id}",
                    text=MarkdownTextObject(text=shown(comment)[:SECTION_LIMIT]),
                    accessory=reply_button(copy, comment.id),
                )
            )
        else:
            pending.append(shown(comment))
    flush()
    return blocks
