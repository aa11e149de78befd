"""Confidential replies' Slack surface: Reply on a comment (digest, Read-all modal, the
leader's DM), the reply modals, Close on either side, messages written in a conversation's
DM thread (`message.im`), and `/cx withdraw` and `/cx replies-audit`.

Thin: parse, call bot.services.replies, render. Nothing here ever tells one side who the
other is, beyond what the service hands back (the leader's ID, to the author only)."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from slack_bolt import Ack, App, BoltContext
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient

from bot.errors import BadPayload, CommandUsage, CxError
from bot.prompts import Prompts
from bot.render.ids import ActionId, BlockId, CallbackId
from bot.render.reply_messages import audit_message, notice
from bot.render.reply_modal import (
    AuthorReplyState,
    LeaderReplyState,
    author_reply_modal,
    leader_reply_modal,
    notice_modal,
)
from bot.services import replies
from bot.services.context import Deps
from bot.services.language import prompts_for_member
from bot.services.ports import DeliveryFailed, OutgoingMessage, SlackGateway
from bot.slack.errors import error_text, politely
from bot.slack.parsing import slack_plain_text, user_id_of

if TYPE_CHECKING:
    from bot.slack.commands import Request

log = logging.getLogger(__name__)

# The DM messages this surface reads (manifest.yml subscribes the bot to them).
EVENTS = ("message.im",)
HEX_ID = re.compile(r"^[0-9a-f]{32}$")


def _id_value(action: dict[str, Any]) -> str:
    value = action.get("value")
    if not isinstance(value, str) or not HEX_ID.match(value):
        raise BadPayload()
    return value


def _in_view(body: dict[str, Any]) -> str | None:
    """The view a click came from (the Read-all modal), if it came from one."""
    view = body.get("view")
    if isinstance(view, dict) and view.get("type") == "modal" and view.get("id"):
        return str(view["id"])
    return None


def _reply_text(view: dict[str, Any]) -> str | None:
    values = ((view.get("state") or {}).get("values") or {}).get(BlockId.REPLY_TEXT) or {}
    entry = values.get(ActionId.REPLY_TEXT) or {}
    text = entry.get("value") if isinstance(entry, dict) else None
    if text is not None and not isinstance(text, str):
        raise BadPayload()
    return text


def _open(client: WebClient, body: dict[str, Any], view: Any) -> None:
    """Open a modal, or push it over the modal the click came from."""
    trigger_id = str(body.get("trigger_id") or "")
    if _in_view(body):
        client.views_push(trigger_id=trigger_id, view=view)
    else:
        client.views_open(trigger_id=trigger_id, view=view)


def handle_reply_button(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """A leader's Reply on a comment: the reply modal, or why not (in a modal when the click
    came from one, which has nowhere else to say it)."""
    ack()
    deps: Deps = context["deps"]
    gateway: SlackGateway = context["gateway"]
    user_id = user_id_of(body)
    prompts = prompts_for_member(deps, slack_user_id=user_id)
    try:
        target = replies.reply_target(deps, gateway, comment_id=_id_value(action), leader=user_id)
    except CxError as refused:
        if not _in_view(body):
            raise
        _open(client, body, notice_modal(prompts, error_text(deps, refused, prompts)))
        return
    modal = leader_reply_modal(
        prompts,
        comment_id=target.comment.id,
        period=target.comment.period,
        comment_text=target.comment.text,
        continuing=target.thread is not None,
        minutes=replies.delay_minutes(deps),
    )
    _open(client, body, modal)


def _refuse_in_modal(ack: Ack, deps: Deps, error: CxError, prompts: Prompts) -> None:
    if isinstance(error, replies.ReplyEmpty | replies.ReplyTooLong | BadPayload):
        ack(response_action="errors", errors={BlockId.REPLY_TEXT: error_text(deps, error, prompts)})
        return
    ack(response_action="update", view=notice_modal(prompts, error_text(deps, error, prompts)))


def handle_leader_reply_submission(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext
) -> None:
    deps: Deps = context["deps"]
    gateway: SlackGateway = context["gateway"]
    user_id = user_id_of(body)
    prompts = prompts_for_member(deps, slack_user_id=user_id)
    try:
        try:
            state = LeaderReplyState.model_validate_json(view.get("private_metadata") or "")
        except ValidationError as exc:
            raise BadPayload() from exc
        sent = replies.send_leader_reply(
            deps, gateway, comment_id=state.comment, leader=user_id, text=_reply_text(view)
        )
    except CxError as refused:
        _refuse_in_modal(ack, deps, refused, prompts)
        return
    done = prompts.copy.t("replies.sent_to_author", minutes=sent.minutes)
    ack(response_action="update", view=notice_modal(prompts, done))
    replies.ensure_leader_side(deps, gateway, thread_id=sent.thread_id)


def handle_author_answer_button(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    ack()
    deps: Deps = context["deps"]
    user_id = user_id_of(body)
    side = replies.author_side(deps, thread_id=_id_value(action), user_id=user_id)
    modal = author_reply_modal(
        prompts_for_member(deps, slack_user_id=user_id),
        thread_id=side.thread.id,
        comment_text=side.comment_text,
        minutes=replies.delay_minutes(deps),
    )
    _open(client, body, modal)


def handle_author_reply_submission(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext
) -> None:
    deps: Deps = context["deps"]
    user_id = user_id_of(body)
    prompts = prompts_for_member(deps, slack_user_id=user_id)
    try:
        try:
            state = AuthorReplyState.model_validate_json(view.get("private_metadata") or "")
        except ValidationError as exc:
            raise BadPayload() from exc
        sent = replies.send_author_reply(
            deps, thread_id=state.thread, user_id=user_id, text=_reply_text(view)
        )
    except CxError as refused:
        _refuse_in_modal(ack, deps, refused, prompts)
        return
    done = prompts.copy.t("replies.sent_to_leader", minutes=sent.minutes)
    ack(response_action="update", view=notice_modal(prompts, done))


def _say(respond: Respond, text: str) -> None:
    respond(text=text, response_type="ephemeral", replace_original=False)


def handle_leader_close_button(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, context: BoltContext
) -> None:
    ack()
    deps: Deps = context["deps"]
    user_id = user_id_of(body)
    replies.close_by_leader(deps, context["gateway"], thread_id=_id_value(action), user_id=user_id)
    prompts = prompts_for_member(deps, slack_user_id=user_id)
    _say(
        respond, prompts.copy.t("replies.closed_by_you_leader", minutes=replies.delay_minutes(deps))
    )


def handle_author_close_button(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, context: BoltContext
) -> None:
    ack()
    deps: Deps = context["deps"]
    user_id = user_id_of(body)
    replies.close_by_author(deps, context["gateway"], thread_id=_id_value(action), user_id=user_id)
    prompts = prompts_for_member(deps, slack_user_id=user_id)
    _say(respond, prompts.copy.t("replies.closed_by_you_author"))


def handle_notice_submission(ack: Ack) -> None:
    """The notice modal has no Submit button; a stale client's submission only closes it."""
    ack()


# --- messages in the DM ---------------------------------------------------------------------


def is_person_in_dm(event: dict[str, Any]) -> bool:
    """A message a person wrote in their DM with the bot: not the bot's own, not an edit."""
    return (
        event.get("channel_type") == "im"
        and not event.get("bot_id")
        and not event.get("subtype")
        and isinstance(event.get("user"), str)
        and isinstance(event.get("channel"), str)
    )


def _plain(text: object) -> str | None:
    """Slack's message text as the person typed it (mentions, links, &amp; undone): it is
    escaped again when it is relayed."""
    return slack_plain_text(text) if isinstance(text, str) else None


ROUTED_COPY = {
    replies.Routed.TO_AUTHOR: "replies.sent_to_author",
    replies.Routed.TO_LEADER: "replies.sent_to_leader",
    replies.Routed.ENDED: "replies.ended_here",
    replies.Routed.NOT_A_CONVERSATION: "replies.not_a_conversation",
}


def handle_dm_message(event: dict[str, Any], context: BoltContext) -> None:
    """Someone wrote in their DM with the bot: in a conversation's thread it is passed on;
    they alone are told what happened (an ephemeral message, which Slack does not keep)."""
    if not is_person_in_dm(event):
        return
    deps: Deps = context["deps"]
    gateway: SlackGateway = context["gateway"]
    user_id, channel = str(event["user"]), str(event["channel"])
    thread_ts = event.get("thread_ts") if isinstance(event.get("thread_ts"), str) else None
    prompts = prompts_for_member(deps, slack_user_id=user_id)
    try:
        routed = replies.route_dm_message(
            deps,
            gateway,
            user_id=user_id,
            channel=channel,
            thread_ts=thread_ts,
            text=_plain(event.get("text")),
        )
        text = prompts.copy.t(ROUTED_COPY[routed], minutes=replies.delay_minutes(deps))
    except CxError as refused:
        text = error_text(deps, refused, prompts)
    try:
        gateway.post_ephemeral(channel, user_id, notice(text), thread_ts=thread_ts)
    except DeliveryFailed as failure:
        log.info("could not answer a DM message: %s", failure.error)


# --- /cx withdraw and /cx replies-audit (listed in bot.slack.commands) ----------------------


def _reply(request: Request, message: OutgoingMessage) -> None:
    request.respond(
        text=message.text,
        blocks=[block.to_dict() for block in message.blocks],
        response_type="ephemeral",
        replace_original=False,
    )


def withdraw_command(request: Request) -> None:
    """`/cx withdraw`: every link to the caller goes; their comments stay, linked to nobody."""
    copy = request.prompts.copy
    if not replies.replies_on(request.deps):
        _reply(request, notice(copy.t("replies.withdraw_off")))
        return
    count = replies.withdraw(request.deps, request.gateway, user_id=request.user_id)
    _reply(request, notice(copy.t("replies.withdrawn", count=count)))


def audit_command(request: Request) -> None:
    """`/cx replies-audit [page]` (admins): leaders' replies, newest first."""
    args = request.command.args
    if len(args) > 1 or (args and not (args[0].isdigit() and len(args[0]) < 6)):
        raise replies_usage(request)
    page = replies.audit_page(request.deps, page=int(args[0]) if args else 1)
    message = audit_message(
        request.prompts,
        entries=page.entries,
        page=page.page,
        pages=page.pages,
        total=page.total,
        zone_name=request.deps.settings.timezone,
    )
    _reply(request, message)


def replies_usage(request: Request) -> CxError:
    return CommandUsage(usage=request.prompts.copy.t("replies.audit_usage"))


def register(app: App) -> None:
    app.action(ActionId.REPLY_TO_COMMENT.value)(politely(handle_reply_button))
    app.action(ActionId.REPLY_CLOSE_LEADER.value)(politely(handle_leader_close_button))
    app.action(ActionId.REPLY_ANSWER.value)(politely(handle_author_answer_button))
    app.action(ActionId.REPLY_CLOSE_AUTHOR.value)(politely(handle_author_close_button))
    app.view(CallbackId.LEADER_REPLY_MODAL.value)(handle_leader_reply_submission)
    app.view(CallbackId.AUTHOR_REPLY_MODAL.value)(handle_author_reply_submission)
    app.view(CallbackId.REPLY_NOTICE_MODAL.value)(handle_notice_submission)
    # Every message event is taken (and acknowledged): the bot's own posts in DMs come back
    # as events too, and one no listener took would be answered 404 and retried by Slack.
    app.event("message")(handle_dm_message)
