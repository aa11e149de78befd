"""The messages of a confidential conversation about a comment (bot.services.replies).

Everything anyone typed is escaped (bot.render.escape) and quoted, in as many sections as the
escaped text needs (Slack's 3,000 characters a section): a relayed message can never mention,
link or format anything. The author's side names the leader; the leader's side never names
the author, who is "the author" throughout.
"""

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

from bot.db.relay import AuditEntry
from bot.prompts import Copy, Prompts
from bot.render.escape import clip, escape_text
from bot.render.ids import ActionId, BlockId
from bot.render.timefmt import local_time
from bot.services.ports import OutgoingMessage

SECTION_LIMIT = 3000
NOTIFICATION_CHARS = 150  # of someone's words in a message's notification text
AUDIT_QUOTE_CHARS = 2500


def _split_line(line: str, limit: int) -> list[str]:
    """An escaped quote line cut into pieces of at most `limit`, never inside an entity."""
    pieces = []
    while len(line) > limit:
        cut = limit
        amp = line.rfind("&", cut - 5, cut)
        if amp != -1 and ";" not in line[amp:cut]:
            cut = amp
        pieces.append(line[:cut])
        line = ">" + line[cut:]
    pieces.append(line)
    return pieces


def quoted_chunks(text: str, *, limit: int = SECTION_LIMIT) -> list[str]:
    """`text` escaped and quoted line by line, in chunks of at most `limit` characters."""
    lines = [">" + escape_text(line) for line in text.splitlines()] or [">"]
    pieces = [piece for line in lines for piece in _split_line(line, limit)]
    chunks: list[str] = []
    current = ""
    for piece in pieces:
        if current and len(current) + 1 + len(piece) > limit:
            chunks.append(current)
            current = piece
        else:
            current = f"{current}\n{piece}" if current else piece
    chunks.append(current)
    return chunks


def _section(text: str, block_id: str | None = None) -> SectionBlock:
    return SectionBlock(block_id=block_id, text=MarkdownTextObject(text=text))


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=text)])


def _quoted(text: str) -> list[Block]:
    return [_section(chunk) for chunk in quoted_chunks(text)]


def _gist(text: str) -> str:
    """Someone's words as a notification shows them: short, escaped."""
    return escape_text(clip(" ".join(text.split()), NOTIFICATION_CHARS))


def _close_button(copy: Copy, action_id: ActionId, thread_id: str) -> ButtonElement:
    return ButtonElement(
        action_id=action_id,
        text=copy.t("replies.close_button"),
        value=thread_id,
        confirm=ConfirmObject(
            title=PlainTextObject(text=copy.t("replies.close_dialog_title")),
            text=PlainTextObject(text=copy.t("replies.close_dialog_text")),
            confirm=PlainTextObject(text=copy.t("replies.close_dialog_confirm")),
            deny=PlainTextObject(text=copy.t("replies.close_dialog_deny")),
        ),
    )


def _reply_actions(
    copy: Copy,
    action_id: ActionId,
    label_key: str,
    value: str,
    *,
    close: ActionId,
    thread_id: str,
) -> ActionsBlock:
    """A first message's buttons: the primary one (reply or answer), then Close."""
    return ActionsBlock(
        block_id=BlockId.REPLY_ACTIONS,
        elements=[
            ButtonElement(
                action_id=action_id, text=copy.t(label_key), value=value, style="primary"
            ),
            _close_button(copy, close, thread_id),
        ],
    )


def ended_line(copy: Copy, reason: str | None, *, to_author: bool) -> str:
    side = "author" if to_author else "leader"
    return copy.t(f"replies.ended_{side}_{reason or 'withdrawn'}")


def leader_root(
    prompts: Prompts,
    *,
    thread_id: str,
    comment_id: str,
    period: str,
    comment_text: str | None,
    first_reply: str | None,
    minutes: int,
    closed: str | None,
) -> OutgoingMessage:
    """The leader's side: the first message in their DM; the author's answers come under it."""
    copy = prompts.copy
    blocks: list[Block] = [_section(copy.t("replies.leader_root_heading", period=period))]
    if comment_text is not None:
        blocks += _quoted(comment_text)
    else:
        blocks.append(_context(copy.t("replies.comment_gone")))
    if first_reply:
        blocks.append(_section(copy.t("replies.leader_root_yours")))
        blocks += _quoted(first_reply)
    if closed is None:
        blocks.append(_context(copy.t("replies.leader_root_note", minutes=minutes)))
        blocks.append(
            _reply_actions(
                copy,
                ActionId.REPLY_TO_COMMENT,
                "replies.reply_button",
                comment_id,
                close=ActionId.REPLY_CLOSE_LEADER,
                thread_id=thread_id,
            )
        )
    else:
        blocks.append(_context(ended_line(copy, closed, to_author=False)))
    return OutgoingMessage(
        text=copy.t("replies.leader_root_fallback", period=period), blocks=blocks
    )


def author_root(
    prompts: Prompts,
    *,
    thread_id: str,
    period: str,
    leader: str,
    reply: str,
    minutes: int,
    reply_days: int,
    closed: str | None = None,
) -> OutgoingMessage:
    """The author's side: the first message in their DM, with the leader's first reply. It
    does not quote the comment: Slack keeps this DM (an export of DMs would pair the author
    with their words); the Reply modal, which Slack does not keep, shows it instead."""
    copy = prompts.copy
    blocks: list[Block] = [
        _section(copy.t("replies.author_root_heading", leader=escape_text(leader), period=period))
    ]
    blocks.append(_section(copy.t("replies.author_root_reply", leader=escape_text(leader))))
    blocks += _quoted(reply)
    if closed is None:
        blocks.append(
            _context(copy.t("replies.author_root_note", minutes=minutes, days=reply_days))
        )
        blocks.append(
            _reply_actions(
                copy,
                ActionId.REPLY_ANSWER,
                "replies.answer_button",
                thread_id,
                close=ActionId.REPLY_CLOSE_AUTHOR,
                thread_id=thread_id,
            )
        )
    else:
        blocks.append(_context(ended_line(copy, closed, to_author=True)))
    text = copy.t("replies.author_root_fallback", leader=escape_text(leader), gist=_gist(reply))
    return OutgoingMessage(text=text, blocks=blocks)


def to_author(prompts: Prompts, *, leader: str, text: str) -> OutgoingMessage:
    """A leader's next reply, in the author's thread."""
    copy = prompts.copy
    heading = copy.t("replies.from_leader", leader=escape_text(leader))
    blocks: list[Block] = [_section(heading), *_quoted(text)]
    return OutgoingMessage(text=f"{heading} {_gist(text)}", blocks=blocks)


def to_leader(prompts: Prompts, *, text: str) -> OutgoingMessage:
    """The author's answer, in the leader's thread: "the author", nothing more."""
    copy = prompts.copy
    heading = copy.t("replies.from_author")
    blocks: list[Block] = [_section(heading), *_quoted(text)]
    return OutgoingMessage(text=f"{heading} {_gist(text)}", blocks=blocks)


def closed_notice(prompts: Prompts, *, reason: str | None, to_author: bool) -> OutgoingMessage:
    text = ended_line(prompts.copy, reason, to_author=to_author)
    return OutgoingMessage(text=text, blocks=[_section(text)])


def notice(text: str) -> OutgoingMessage:
    """A one-line ephemeral answer (already written copy)."""
    return OutgoingMessage(text=text, blocks=[_section(text)])


def audit_message(
    prompts: Prompts,
    *,
    entries: list[AuditEntry],
    page: int,
    pages: int,
    total: int,
    zone_name: str,
) -> OutgoingMessage:
    """`/cx replies-audit`: leaders' replies, newest first, ten to a page."""
    copy = prompts.copy
    heading = copy.t("replies.audit_heading", total=total, page=page, pages=pages)
    blocks: list[Block] = [_section(heading)]
    if not entries:
        blocks.append(_context(copy.t("replies.audit_none")))
    for entry in entries:
        line = copy.t(
            "replies.audit_line",
            when=local_time(entry.sent_at, zone_name, copy),
            leader=escape_text(entry.leader),
            period=entry.period,
            conversation=entry.thread_id[:8],
        )
        quote = quoted_chunks(clip(entry.text, AUDIT_QUOTE_CHARS), limit=SECTION_LIMIT - 200)[0]
        blocks.append(_section(f"{line}\n{quote}"))
    footer = copy.t("replies.audit_footer")
    if page < pages:
        footer += " " + copy.t("replies.audit_more", next=page + 1)
    blocks.append(_context(footer))
    return OutgoingMessage(text=heading, blocks=blocks)


def opted_in_note(prompts: Prompts, *, reply_days: int) -> OutgoingMessage:
    """Told (privately) after a comment opened to replies."""
    return notice(prompts.copy.t("replies.opted_in", days=reply_days))
