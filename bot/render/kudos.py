"""Kudos as people see them: the channel post, the DM, the giver's confirmation, the modal
behind the message shortcut, the digest's lines and the admins' settings line.

Every story is someone's own words: escaped (so `<!channel>` stays text) and quoted line by
line, split over as many sections as Slack's 3,000-character limit needs."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    SectionBlock,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.analytics.kudos import KudosSummary, Naming, Shown
from bot.prompts import Copy, Prompts
from bot.render.escape import clip, escape_text
from bot.render.ids import ActionId, BlockId, CallbackId
from bot.services.ports import OutgoingMessage
from bot.settings import Settings

SECTION_LIMIT = 2900  # Slack allows 3,000 characters a section; keep a margin
NOTIFICATION_STORY = 150  # how much of a story a notification (the `text` fallback) shows
DIGEST_STORY = 280  # how much of the week's story the digest quotes
MODAL_STORY = 3000  # the modal's text box: Slack's maximum, and the longest story taken


def who(copy: Copy, person: Shown) -> str:
    """A giver or recipient as mrkdwn: a mention, "a colleague on *team*" or "a colleague"."""
    if person.naming is Naming.NAMED and person.user_id:
        return f"<@{person.user_id}>"
    if person.naming is Naming.TEAM and person.team:
        return copy.t("kudos.colleague_on_team", team=escape_text(person.team))
    return copy.t("kudos.colleague")


def quoted(text: str) -> str:
    """Escaped and quoted line by line, so no line escapes the quote."""
    return "\n".join(f">{line}" for line in escape_text(text).splitlines() or [""])


def story_pieces(story: str, limit: int = SECTION_LIMIT) -> list[str]:
    """The story cut into parts whose quoted text fits a section, at a line or word break
    when there is one in the second half of the part (an escape is never cut in half: the
    cut is made before escaping)."""
    pieces: list[str] = []
    rest = story
    while rest:
        if len(quoted(rest)) <= limit:
            pieces.append(rest)
            break
        low, high = 1, len(rest)  # the longest prefix that fits, by bisection
        while low < high:
            middle = (low + high + 1) // 2
            if len(quoted(rest[:middle])) <= limit:
                low = middle
            else:
                high = middle - 1
        cut = low
        for separator in ("\n", " "):
            found = rest.rfind(separator, 0, cut)
            if found > cut // 2:
                cut = found + 1
                break
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:]
    return [piece for piece in pieces if piece.strip()] or [""]


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text))


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=text)])


def _story_blocks(story: str) -> list[Block]:
    return [_section(quoted(piece)) for piece in story_pieces(story)]


def kudos_post(prompts: Prompts, *, giver: Shown, recipient: Shown, story: str) -> OutgoingMessage:
    """The post in the kudos channel (in the organisation's language)."""
    copy = prompts.copy
    heading = copy.t("kudos.post", recipient=who(copy, recipient), giver=who(copy, giver))
    blocks: list[Block] = [_section(heading), *_story_blocks(story)]
    blocks.append(_context(copy.t("kudos.post_footer")))
    text = f"{heading} {escape_text(clip(' '.join(story.split()), NOTIFICATION_STORY))}"
    return OutgoingMessage(text=text, blocks=blocks)


def kudos_dm(
    prompts: Prompts, *, giver: str, story: str, channel: str, named: bool
) -> OutgoingMessage:
    """The DM to the person thanked, in their language; they always learn who thanked them."""
    copy = prompts.copy
    heading = copy.t("kudos.dm", giver=f"<@{giver}>")
    where = copy.t(
        "kudos.dm_posted_named" if named else "kudos.dm_posted_anonymous",
        channel=f"<#{channel}>",
    )
    blocks: list[Block] = [_section(heading), *_story_blocks(story), _context(where)]
    text = f"{heading} {escape_text(clip(' '.join(story.split()), NOTIFICATION_STORY))}"
    return OutgoingMessage(text=text, blocks=blocks)


def _done_text(
    copy: Copy,
    *,
    recipient: str,
    recipient_shown: Shown,
    giver_shown: Shown,
    channel: str,
    dm_sent: bool | None,
) -> str:
    lines = [copy.t("kudos.done", recipient=f"<@{recipient}>", channel=f"<#{channel}>")]
    if recipient_shown.naming is not Naming.NAMED:
        lines.append(copy.t("kudos.done_recipient_unnamed", label=who(copy, recipient_shown)))
    if giver_shown.naming is not Naming.NAMED:
        lines.append(copy.t("kudos.done_giver_unnamed", label=who(copy, giver_shown)))
    if dm_sent is True:
        lines.append(copy.t("kudos.done_dm"))
    elif dm_sent is False:
        lines.append(copy.t("kudos.done_no_dm"))
    else:
        lines.append(copy.t("kudos.done_dm_next"))
    return "\n".join(lines)


def kudos_done(
    prompts: Prompts,
    *,
    recipient: str,
    recipient_shown: Shown,
    giver_shown: Shown,
    channel: str,
    dm_sent: bool | None,
) -> OutgoingMessage:
    """The giver's confirmation (`/cx kudos`: an ephemeral reply)."""
    text = _done_text(
        prompts.copy,
        recipient=recipient,
        recipient_shown=recipient_shown,
        giver_shown=giver_shown,
        channel=channel,
        dm_sent=dm_sent,
    )
    return OutgoingMessage(text=text, blocks=[_section(text)])


def kudos_naming_reply(prompts: Prompts, *, named: bool, edited: int) -> OutgoingMessage:
    copy = prompts.copy
    text = copy.t("kudos.optin_done") if named else copy.t("kudos.optout_done", count=edited)
    return OutgoingMessage(text=text, blocks=[_section(text)])


def kudos_help(prompts: Prompts) -> str:
    return prompts.copy.t("kudos.help")


# --- the message shortcut's modal ------------------------------------------------------------


def kudos_modal(prompts: Prompts, *, recipient: str | None, story: str, channel: str) -> View:
    """Thank the author of a message: the author (editable) and the message's text (plain,
    editable, cut to what the text box holds) filled in."""
    copy = prompts.copy
    return View(
        type="modal",
        callback_id=CallbackId.KUDOS_MODAL,
        title=copy.t("kudos.modal_title"),
        submit=copy.t("kudos.modal_submit"),
        close=copy.t("kudos.modal_close"),
        blocks=[
            _context(copy.t("kudos.modal_intro", channel=f"<#{channel}>")),
            InputBlock(
                block_id=BlockId.KUDOS_RECIPIENT,
                label=copy.t("kudos.recipient_label"),
                element=UserSelectElement(
                    action_id=ActionId.KUDOS_RECIPIENT, initial_user=recipient or None
                ),
            ),
            InputBlock(
                block_id=BlockId.KUDOS_STORY,
                label=copy.t("kudos.story_label"),
                element=PlainTextInputElement(
                    action_id=ActionId.KUDOS_STORY,
                    multiline=True,
                    max_length=MODAL_STORY,
                    initial_value=clip(story, MODAL_STORY) or None,
                    placeholder=copy.t("kudos.story_placeholder"),
                ),
            ),
        ],
    )


def kudos_modal_done(
    prompts: Prompts, *, recipient: str, recipient_shown: Shown, giver_shown: Shown, channel: str
) -> View:
    """What the modal turns into once the story is posted (the DM goes out right after)."""
    copy = prompts.copy
    text = _done_text(
        copy,
        recipient=recipient,
        recipient_shown=recipient_shown,
        giver_shown=giver_shown,
        channel=channel,
        dm_sent=None,
    )
    return View(
        type="modal",
        callback_id=CallbackId.KUDOS_MODAL,
        title=copy.t("kudos.modal_title"),
        close=copy.t("kudos.modal_close"),
        blocks=[_section(text)],
    )


# --- the digest and App Home -----------------------------------------------------------------


def kudos_digest_lines(copy: Copy, summary: KudosSummary) -> list[str]:
    """The week's count ("Kudos this week: 7 (support 3, sales 2, other teams 2)") and one
    story, quoted."""
    counts = summary.tally
    if counts.total == 0:
        channel = f"<#{summary.channel}>" if summary.channel else "-"
        return [copy.t("kudos.digest_none", channel=channel)]
    parts = [
        copy.t("kudos.digest_team", team=escape_text(t.team), count=t.count) for t in counts.teams
    ]
    if counts.other and parts:
        parts.append(copy.t("kudos.digest_other", count=counts.other))
    teams = copy.t("kudos.digest_teams", teams=", ".join(parts)) if parts else ""
    lines = [copy.t("kudos.digest_line", total=counts.total, teams=teams)]
    if summary.quote is not None:
        lines.append(copy.t("kudos.digest_quote", recipient=who(copy, summary.quote.recipient)))
        story = clip(" ".join(summary.quote.story.split()), DIGEST_STORY)
        lines.append(quoted(story))
    return lines


def kudos_channel_summary(settings: Settings, prompts: Prompts) -> str:
    """The admins' App Home line: where kudos go, or how to switch them on."""
    copy = prompts.copy
    if settings.kudos_channel:
        return copy.t("kudos.home_summary", channel=f"<#{settings.kudos_channel}>")
    return copy.t("kudos.home_summary_none")
