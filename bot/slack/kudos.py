"""Kudos' Slack surface: `/cx kudos` (through bot.slack.commands), the message shortcut and
its modal. Parse, call bot.services.kudos, render; nothing else."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.errors import CxError
from bot.prompts import Prompts
from bot.render.ids import BlockId, CallbackId, ShortcutId
from bot.render.kudos import kudos_done, kudos_modal, kudos_modal_done, kudos_naming_reply
from bot.services.context import Deps
from bot.services.kudos import (
    RECIPIENT_PROBLEMS,
    KudosAlreadyToday,
    KudosChannelUnreachable,
    KudosEmptyStory,
    KudosNotAPerson,
    KudosSource,
    KudosToBot,
    KudosUnreachable,
    KudosUsage,
    NoKudosChannel,
    NoKudosChannelAdmin,
    NoKudosChannelNoAdmins,
    dm_recipient,
    find_by_name,
    kudos_channel,
    names_of,
    post_kudos,
    set_kudos_naming,
)
from bot.services.language import prompts_for_member
from bot.services.ports import OutgoingMessage, SlackGateway
from bot.slack.errors import error_text, politely, requester_prompts
from bot.slack.parsing import (
    name_prefixes,
    parse_kudos,
    parse_kudos_submission,
    slack_plain_text,
    unlabelled_mentions,
    user_id_of,
)

# What this surface registers; manifest.yml's features.shortcuts must declare exactly these.
SHORTCUTS = (ShortcutId.KUDOS.value,)

# A modal shows a problem as plain text under its field, where a mention or a `/cx` example
# would not render: those errors get words of their own there (the picker shows who).
MODAL_COPY: dict[type[CxError], str] = {
    KudosToBot: "kudos.modal_errors.bot",
    KudosUnreachable: "kudos.modal_errors.unreachable",
    KudosAlreadyToday: "kudos.modal_errors.already_today",
    KudosChannelUnreachable: "kudos.modal_errors.channel_unreachable",
    KudosEmptyStory: "kudos.modal_errors.empty",
    NoKudosChannel: "kudos.modal_errors.no_channel",
    NoKudosChannelNoAdmins: "kudos.modal_errors.no_channel",
    NoKudosChannelAdmin: "kudos.modal_errors.no_channel",
}


def kudos_command(
    deps: Deps, gateway: SlackGateway, *, giver: str, rest: str, prompts: Prompts
) -> OutgoingMessage:
    """`/cx kudos @person <story>`, `/cx kudos optout` and `/cx kudos optin`; `rest` is what
    followed `kudos`, as Slack sent it (mentions as `<@U…>`, & < > escaped)."""
    command = parse_kudos(rest)
    if command.choice in {"optout", "optin"}:
        named = command.choice == "optin"
        edited = set_kudos_naming(deps, gateway, slack_user_id=giver, named=named)
        return kudos_naming_reply(prompts, named=named, edited=edited)
    if command.not_a_person:
        raise KudosNotAPerson()
    if command.choice is not None:
        raise KudosUsage()
    kudos_channel(deps, giver=giver)  # say so before looking anyone up when kudos are off
    if command.user_id is not None:
        recipient, raw_story = command.user_id, command.story
    else:
        recipient, raw_story = find_by_name(deps, gateway, name_prefixes(command.named or ""))
    story = slack_plain_text(raw_story, names_of(gateway, unlabelled_mentions(raw_story)))
    given = post_kudos(
        deps, gateway, giver=giver, recipient=recipient, story=story, source=KudosSource.COMMAND
    )
    dm_sent = dm_recipient(deps, gateway, given)
    return kudos_done(
        prompts,
        recipient=recipient,
        recipient_shown=given.recipient_shown,
        giver_shown=given.giver_shown,
        channel=given.posted.channel,
        dm_sent=dm_sent,
    )


def _author(message: dict[str, Any], giver: str) -> str | None:
    """Who wrote a message, if kudos could go to them: not a bot's or the giver's own."""
    author = message.get("user")
    if message.get("bot_id") or message.get("subtype") == "bot_message":
        return None
    return author if isinstance(author, str) and author and author != giver else None


def handle_kudos_shortcut(
    ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """A message's More actions > Give CX kudos: the modal, with its author and text."""
    ack()
    deps: Deps = context["deps"]
    gateway: SlackGateway = context["gateway"]
    giver = user_id_of(body)
    channel = kudos_channel(deps, giver=giver)  # refused politely (response_url) when unset
    message = body.get("message")
    message = message if isinstance(message, dict) else {}
    raw = message.get("text")
    raw = raw if isinstance(raw, str) else ""
    story = slack_plain_text(raw, names_of(gateway, unlabelled_mentions(raw))).strip()
    modal = kudos_modal(
        prompts_for_member(deps, slack_user_id=giver),
        recipient=_author(message, giver),
        story=story,
        channel=channel,
    )
    client.views_open(trigger_id=str(body.get("trigger_id") or ""), view=modal)


def handle_kudos_submission(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext
) -> None:
    """Post the story before answering, so the modal can say where it went or what stopped
    it (beside the field concerned); the DM follows."""
    deps: Deps = context["deps"]
    gateway: SlackGateway = context["gateway"]
    prompts = requester_prompts(deps, body)
    try:
        giver = user_id_of(body)
        submission = parse_kudos_submission(view)
        given = post_kudos(
            deps,
            gateway,
            giver=giver,
            recipient=submission.recipient,
            story=submission.story,
            source=KudosSource.SHORTCUT,
        )
    except CxError as error:
        block = (
            BlockId.KUDOS_RECIPIENT
            if isinstance(error, RECIPIENT_PROBLEMS)
            else BlockId.KUDOS_STORY
        )
        key = MODAL_COPY.get(type(error))
        text = prompts.copy.t(key) if key else error_text(deps, error, prompts)
        ack(response_action="errors", errors={block: text})
        return
    ack(
        response_action="update",
        view=kudos_modal_done(
            prompts,
            recipient=given.recipient.user_id,
            recipient_shown=given.recipient_shown,
            giver_shown=given.giver_shown,
            channel=given.posted.channel,
        ),
    )
    dm_recipient(deps, gateway, given)


def register(app: App) -> None:
    app.shortcut(ShortcutId.KUDOS.value)(politely(handle_kudos_shortcut))
    app.view(CallbackId.KUDOS_MODAL.value)(handle_kudos_submission)
