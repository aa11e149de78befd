"""The DM an admin gets for a comment passed to them (bot.services.alerts)."""

from __future__ import annotations

from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject, SectionBlock

from bot.prompts import Prompts
from bot.render.escape import quote_block
from bot.services.ports import OutgoingMessage

QUOTE_LIMIT = 2900  # a section holds 3,000 characters; the comment is at most 3,000


def alert_message(prompts: Prompts, *, category: str, text: str) -> OutgoingMessage:
    """The category, the comment (escaped, quoted), what to do next; never an author."""
    copy = prompts.copy
    name = copy.t(f"alerts.category_{category}")
    return OutgoingMessage(
        text=copy.t("alerts.dm_text", category=name),
        blocks=[
            SectionBlock(text=MarkdownTextObject(text=copy.t("alerts.dm_heading", category=name))),
            SectionBlock(text=MarkdownTextObject(text=quote_block(text, limit=QUOTE_LIMIT))),
            SectionBlock(
                text=MarkdownTextObject(
                    text=copy.t("alerts.dm_next_heading") + "\n" + copy.t(f"alerts.next_{category}")
                )
            ),
            ContextBlock(elements=[MarkdownTextObject(text=copy.t("alerts.dm_footer"))]),
        ],
    )
