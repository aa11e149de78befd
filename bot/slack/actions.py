"""Button clicks: answers and the comment modal in the pulse DM, and the answers to the
questions `/cx forget-me` and `/cx pulse` ask first."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext, BoltResponse
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient

from bot.db.models import RoundKind
from bot.errors import CxError, NotAllowed
from bot.render.adhoc_round import adhoc_round_sent
from bot.render.comment_modal import comment_modal
from bot.render.ids import ActionId
from bot.services.answers import pulse_state, record_answer
from bot.services.context import Deps
from bot.services.language import prompts_for_member
from bot.services.ports import SlackGateway
from bot.services.privacy import forget_member
from bot.services.replies import replies_on
from bot.services.roles import Audience, audience_copy_key, may_use
from bot.services.rounds import send_round
from bot.slack.dm_refresh import DmRefresher, PulseDmRefresh
from bot.slack.errors import error_text, politely
from bot.slack.home import publish_home
from bot.slack.parsing import (
    parse_action_ts,
    parse_answer_value,
    parse_period,
    parse_round_id,
    user_id_of,
)

log = logging.getLogger(__name__)
# Scale points 1-5 and 0, "doesn't apply to me"; any other value is refused in parsing.
ANSWER_ACTION = re.compile(rf"^{re.escape(ActionId.ANSWER_PREFIX)}[0-5]$")


def _message_location(body: dict[str, Any]) -> tuple[str | None, str | None]:
    container = body.get("container") or {}
    return container.get("channel_id"), container.get("message_ts")


def _store_click(body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
    """Store the clicked answer, then have the DM refreshed (after the answer is stored, so the
    refresh reads it)."""
    deps: Deps = context["deps"]
    click = parse_answer_value(action.get("value"))
    clicked = record_answer(
        deps,
        slack_user_id=user_id_of(body),
        round_id=click.round_id,
        question_id=click.question_id,
        score=click.score,
        clicked_at=parse_action_ts(action.get("action_ts")),
    )
    channel, ts = _message_location(body)
    channel, ts = channel or clicked.channel, ts or clicked.ts
    if channel and ts:
        refresher: DmRefresher = context["dm_refresher"]
        refresher.mark(
            PulseDmRefresh(
                team_id=context.team_id,
                token=context.bot_token,
                user_id=user_id_of(body),
                round_id=click.round_id,
                channel=channel,
                ts=ts,
            )
        )


def answer_on_request_thread(
    body: dict[str, Any], action: dict[str, Any], context: BoltContext, next: Callable[[], None]
) -> BoltResponse | None:
    """The fast path of an answer click: stored and acked on the request's own thread.

    Bolt runs a listener on a thread of its pool and polls for its ack every 10 ms, so each click
    waited at least that long, holding one of the server's threads, for a store that takes well
    under a millisecond: clicks are the one hot path (benchmark 2). This listener middleware
    stores the answer and returns the ack itself, so Bolt runs no listener. Anything that goes
    wrong falls back to the listener (`handle_answer_button`), which stores the click again
    (the upsert is idempotent) and answers a refusal or a failure as every listener does."""
    try:
        _store_click(body, action, context)
    except Exception:  # the listener below answers it, politely or as a failure
        next()
        return None
    return BoltResponse(status=200, body="")


def handle_answer_button(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext
) -> None:
    try:
        _store_click(body, action, context)
    finally:
        # Ack only once the answer is stored (or refused): a crash before this point leaves
        # the click unacknowledged, so Slack retries it and the idempotent upsert keeps it.
        ack()


def handle_comment_button(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    ack()
    deps: Deps = context["deps"]
    state = pulse_state(
        deps, slack_user_id=user_id_of(body), round_id=parse_round_id(action.get("value"))
    )
    modal = comment_modal(
        state.view,
        state.prompts(deps),
        comment_minimum=deps.settings.comment_minimum,
        # The opt-in for replies only where a link can be kept (CX_ENCRYPTION_KEY is set).
        reply_days=deps.settings.reply_days if replies_on(deps) else None,
    )
    client.views_open(trigger_id=body.get("trigger_id"), view=modal)


def handle_forget_me_confirm(
    ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
) -> None:
    ack()
    deps: Deps = context["deps"]
    user_id = user_id_of(body)
    prompts = prompts_for_member(deps, slack_user_id=user_id)  # before the member row goes
    report = forget_member(deps, context["gateway"], slack_user_id=user_id)
    # Comments are found only through reply links; without CX_ENCRYPTION_KEY there are none.
    key = "commands.forget_me_done" if report.linkable else "commands.forget_me_done_unlinked"
    text = prompts.copy.t(key, answers=report.answers, comments=report.comments)
    respond(text=text, replace_original=True, response_type="ephemeral")
    # Their App Home showed their own answers: it is published again, now without them.
    publish_home(context, client, user_id)


def handle_forget_me_cancel(
    ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext
) -> None:
    ack()
    deps: Deps = context["deps"]
    prompts = prompts_for_member(deps, slack_user_id=user_id_of(body))
    text = prompts.copy.t("commands.forget_me_cancelled")
    respond(text=text, replace_original=True, response_type="ephemeral")


def handle_pulse_now_confirm(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, context: BoltContext
) -> None:
    """Send the round `/cx pulse` asked about: this week's, if it is still this week and the
    week has no round yet (checked again here: another admin, or a second click, may have
    sent it meanwhile)."""
    ack()
    deps: Deps = context["deps"]
    gateway: SlackGateway = context["gateway"]
    user_id = user_id_of(body)
    prompts = prompts_for_member(deps, slack_user_id=user_id)
    if not may_use(
        audience=Audience.ADMINS, settings=deps.settings, gateway=gateway, user_id=user_id
    ):
        raise NotAllowed(command="pulse", who=prompts.copy.t(audience_copy_key(Audience.ADMINS)))
    period = parse_period(action.get("value"))
    # The buttons go at once, so the question cannot be answered twice; what replaces them
    # says what happened, a refusal included.
    started = prompts.copy.t("commands.pulse_started")
    respond(text=started, replace_original=True, response_type="ephemeral")
    try:
        report = send_round(deps, gateway, kind=RoundKind.ADHOC, period=period)
    except CxError as refused:
        log.info("pulse round not sent: %s", type(refused).__name__)
        text = error_text(deps, refused, prompts)
    else:
        text = adhoc_round_sent(report, prompts.copy)
    respond(text=text, replace_original=True, response_type="ephemeral")


def handle_pulse_now_cancel(
    ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext
) -> None:
    ack()
    deps: Deps = context["deps"]
    prompts = prompts_for_member(deps, slack_user_id=user_id_of(body))
    text = prompts.copy.t("scheduling.cancelled")
    respond(text=text, replace_original=True, response_type="ephemeral")


def register(app: App) -> None:
    app.action(ANSWER_ACTION, middleware=[answer_on_request_thread])(politely(handle_answer_button))
    app.action(ActionId.OPEN_COMMENT.value)(politely(handle_comment_button))
    app.action(ActionId.FORGET_ME_CONFIRM.value)(politely(handle_forget_me_confirm))
    app.action(ActionId.FORGET_ME_CANCEL.value)(politely(handle_forget_me_cancel))
    app.action(ActionId.PULSE_NOW_CONFIRM.value)(politely(handle_pulse_now_confirm))
    app.action(ActionId.PULSE_NOW_CANCEL.value)(politely(handle_pulse_now_cancel))
