"""Button clicks: answers and the comment modal in the pulse DM, and `/cx forget-me`'s answer."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient

from bot.render.comment_modal import comment_modal
from bot.render.ids import ActionId
from bot.services.answers import pulse_state, record_answer
from bot.services.context import Deps
from bot.services.language import prompts_for_member
from bot.services.privacy import forget_member
from bot.slack.dm_refresh import DmRefresher, PulseDmRefresh
from bot.slack.errors import politely
from bot.slack.home import publish_home
from bot.slack.parsing import parse_action_ts, parse_answer_value, parse_round_id, user_id_of

log = logging.getLogger(__name__)
ANSWER_ACTION = re.compile(rf"^{re.escape(ActionId.ANSWER_PREFIX)}[1-5]$")


def _message_location(body: dict[str, Any]) -> tuple[str | None, str | None]:
    container = body.get("container") or {}
    return container.get("channel_id"), container.get("message_ts")


def handle_answer_button(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext
) -> None:
    deps: Deps = context["deps"]
    try:
        click = parse_answer_value(action.get("value"))
        clicked = record_answer(
            deps,
            slack_user_id=user_id_of(body),
            round_id=click.round_id,
            question_id=click.question_id,
            score=click.score,
            clicked_at=parse_action_ts(action.get("action_ts")),
        )
    finally:
        # Ack only once the answer is stored (or refused): a crash before this point leaves
        # the click unacknowledged, so Slack retries it and the idempotent upsert keeps it.
        ack()
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


def handle_comment_button(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    ack()
    deps: Deps = context["deps"]
    state = pulse_state(
        deps, slack_user_id=user_id_of(body), round_id=parse_round_id(action.get("value"))
    )
    modal = comment_modal(
        state.view, state.prompts(deps), comment_minimum=deps.settings.comment_minimum
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
    text = prompts.copy.t("commands.forget_me_done", answers=report.answers)
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


def register(app: App) -> None:
    app.action(ANSWER_ACTION)(politely(handle_answer_button))
    app.action(ActionId.OPEN_COMMENT.value)(politely(handle_comment_button))
    app.action(ActionId.FORGET_ME_CONFIRM.value)(politely(handle_forget_me_confirm))
    app.action(ActionId.FORGET_ME_CANCEL.value)(politely(handle_forget_me_cancel))
