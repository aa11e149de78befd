"""The Read-all modal: a week's comments, ten to a page, filterable by dimension."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    MarkdownTextObject,
    Option,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.analytics.themes import decode_tags
from bot.prompts import Prompts
from bot.render.escape import clip, quote_block
from bot.render.ids import ActionId, BlockId, CallbackId
from bot.render.reply_buttons import reply_button
from bot.services.comments import CommentsPage

ALL_DIMENSIONS = "*"
MAX_OPTIONS = 100  # Slack's limit for a static select


class CommentsModalState(BaseModel):
    """Which page the modal shows; carried in private_metadata and in the page buttons."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    period: str = Field(pattern=r"^\d{4}-W\d{2}$")
    dimension: str | None = Field(default=None, max_length=40)
    page: int = Field(default=0, ge=0, le=10_000)
    theme: str | None = Field(default=None, max_length=40)


def _theme_filter(prompts: Prompts, page: CommentsPage) -> StaticSelectElement:
    """The theme filter: every theme of the week with its number of comments."""
    copy = prompts.copy
    everything = Option(value=ALL_DIMENSIONS, text=copy.t("themes.all_themes"))
    options = [everything] + [
        Option(
            value=t.dimension,
            text=clip(
                copy.t("themes.option", name=prompts.dimension_name(t.dimension), count=t.comments),
                75,
            ),
        )
        for t in page.themes[: MAX_OPTIONS - 1]
    ]
    return StaticSelectElement(
        action_id=ActionId.COMMENTS_THEME_FILTER,
        options=options,
        initial_option=next((o for o in options if o.value == page.theme), everything),
        placeholder=copy.t("themes.filter_placeholder"),
    )


def comments_modal(prompts: Prompts, page: CommentsPage) -> View:
    copy = prompts.copy
    state = CommentsModalState(
        period=page.period, dimension=page.dimension, page=page.page, theme=page.theme
    )
    everything = Option(value=ALL_DIMENSIONS, text=copy.t("comments.all_dimensions"))
    options = [everything] + [
        Option(value=d, text=clip(prompts.dimension_name(d), 75)) for d in page.dimensions
    ]
    initial = next((o for o in options if o.value == page.dimension), everything)
    blocks: list[Block] = [
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=copy.t(
                        "comments.intro",
                        period=page.period,
                        total=page.total,
                        page=page.page + 1,
                        pages=page.pages,
                    )
                )
            ]
        ),
    ]
    filters: list[StaticSelectElement] = []
    if page.dimensions:
        filters.append(
            StaticSelectElement(
                action_id=ActionId.COMMENTS_FILTER,
                options=options,
                initial_option=initial,
                placeholder=copy.t("comments.filter_placeholder"),
            )
        )
    if page.themes:
        filters.append(_theme_filter(prompts, page))
    if filters:
        blocks.append(ActionsBlock(block_id=BlockId.COMMENTS_NAV + "_filter", elements=filters))
    blocks.append(DividerBlock())
    if not page.comments:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=copy.t("comments.none"))))
    for comment in page.comments:
        text = quote_block(comment.text, limit=2500)
        if comment.dimension:
            text += "\n" + copy.t("comments.about", name=prompts.dimension_name(comment.dimension))
        tags = decode_tags(comment.themes)
        if tags:
            names = ", ".join(prompts.dimension_name(t) for t in tags)
            text += "\n" + copy.t("themes.about", names=names)
        if comment.replyable and comment.id:
            # Its author asked for replies: a leader's Reply opens the reply modal over this one.
            blocks.append(
                SectionBlock(
                    block_id=f"{BlockId.COMMENT_PREFIX}{comment.id}",
                    text=MarkdownTextObject(text=text),
                    accessory=reply_button(copy, comment.id),
                )
            )
            continue
        blocks.append(SectionBlock(text=MarkdownTextObject(text=text)))
    buttons = []
    if page.page > 0:
        back = state.model_copy(update={"page": page.page - 1})
        buttons.append(
            ButtonElement(
                action_id=ActionId.COMMENTS_PREVIOUS,
                text=copy.t("comments.previous"),
                value=back.model_dump_json(),
            )
        )
    if page.page + 1 < page.pages:
        forward = state.model_copy(update={"page": page.page + 1})
        buttons.append(
            ButtonElement(
                action_id=ActionId.COMMENTS_NEXT,
                text=copy.t("comments.next"),
                value=forward.model_dump_json(),
            )
        )
    if buttons:
        blocks.append(ActionsBlock(block_id=BlockId.COMMENTS_NAV, elements=buttons))
    footer = copy.t("comments.footer")
    if page.themes:
        footer += " " + copy.t("themes.footer")
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=footer)]))
    return View(
        type="modal",
        callback_id=CallbackId.COMMENTS_MODAL,
        private_metadata=state.model_dump_json(),
        title=copy.t("comments.title"),
        close=copy.t("comments.close"),
        blocks=blocks,
    )
