"""Modal submissions: the confidential comment and the admins' settings."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.errors import CxError
from bot.render.ids import BlockId, CallbackId
from bot.render.pulse import confirmation_message
from bot.render.reply_messages import opted_in_note
from bot.render.settings_modal import problem_block
from bot.services.admin_settings import change_settings
from bot.services.alerts import deliver_alerts
from bot.services.answers import CommentProblem, record_comment
from bot.services.config import SettingsRejected
from bot.services.context import Deps
from bot.services.language import prompts_for_member
from bot.services.ports import SlackGateway
from bot.slack.errors import error_text, requester_prompts
from bot.slack.home import publish_home
from bot.slack.parsing import parse_comment_submission, parse_settings_submission, user_id_of


def handle_comment_submission(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext
) -> None:
    deps: Deps = context["deps"]
    gateway: SlackGateway = context["gateway"]
    # A modal can only show problems inline, answered in the ack, so errors are caught here.
    try:
        submission = parse_comment_submission(view)
        recorded = record_comment(
            deps,
            slack_user_id=user_id_of(body),
            round_id=submission.round_id,
            question_id=submission.question_id,
            text=submission.text,
            replies=submission.replies,
        )
    except CommentProblem as problem:
        prompts = requester_prompts(deps, body)
        block = (
            BlockId.COMMENT_QUESTION
            if problem.copy_key.endswith("answer_first")
            else BlockId.COMMENT_TEXT
        )
        ack(response_action="errors", errors={block: prompts.copy.t(problem.copy_key)})
        return
    except CxError as error:
        prompts = requester_prompts(deps, body)
        text = error_text(deps, error, prompts)
        ack(response_action="errors", errors={BlockId.COMMENT_TEXT: text})
        return
    ack()
    # The DM never shows that a comment was left (it only says which statements are answered,
    # and a comment needs an answer), so it stays as it is; only the person is told, privately.
    state = recorded.state
    confirmation = confirmation_message(state.view, state.prompts(deps))
    if state.channel and confirmation is not None:
        gateway.post_ephemeral(state.channel, user_id_of(body), confirmation)
    if state.channel and recorded.replies:
        note = opted_in_note(state.prompts(deps), reply_days=deps.settings.reply_days)
        gateway.post_ephemeral(state.channel, user_id_of(body), note)
    # A comment the screen passed to the admins goes out now, after the ack (the scheduler
    # retries whatever this could not send, within a minute).
    deliver_alerts(deps, gateway)


def handle_settings_submission(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    deps: Deps = context["deps"]
    # Problems are shown beside their own field, in the ack; nothing is stored unless all is well.
    try:
        user_id = user_id_of(body)
        copy = prompts_for_member(deps, slack_user_id=user_id).copy
        change_settings(deps, admin=user_id, changes=parse_settings_submission(view))
    except SettingsRejected as rejected:
        errors = {problem_block(name, view): copy.t(key) for name, key in rejected.problems.items()}
        ack(response_action="errors", errors=errors)
        return
    except CxError as error:
        ack(
            response_action="errors",
            errors={BlockId.SETTINGS_LEADERSHIP_CHANNEL: error_text(deps, error)},
        )
        return
    ack()
    publish_home(context, client, user_id)


def register(app: App) -> None:
    app.view(CallbackId.COMMENT_MODAL.value)(handle_comment_submission)
    app.view(CallbackId.SETTINGS_MODAL.value)(handle_settings_submission)
