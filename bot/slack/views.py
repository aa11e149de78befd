"""Modal submissions: the anonymous comment."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.errors import CxError
from bot.render.ids import BlockId, CallbackId
from bot.render.pulse import pulse_message
from bot.services.answers import CommentProblem, record_comment
from bot.services.context import Deps
from bot.services.ports import SlackGateway
from bot.slack.errors import error_text
from bot.slack.parsing import parse_comment_submission, user_id_of


def handle_comment_submission(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext
) -> None:
    deps: Deps = context["deps"]
    gateway: SlackGateway = context["gateway"]
    # A modal can only show problems inline, answered in the ack, so errors are caught here.
    try:
        submission = parse_comment_submission(view)
        state = record_comment(
            deps,
            slack_user_id=user_id_of(body),
            round_id=submission.round_id,
            question_id=submission.question_id,
            text=submission.text,
        )
    except CommentProblem as problem:
        block = (
            BlockId.COMMENT_QUESTION
            if problem.copy_key.endswith("answer_first")
            else BlockId.COMMENT_TEXT
        )
        ack(response_action="errors", errors={block: deps.prompts.copy.t(problem.copy_key)})
        return
    except CxError as error:
        ack(response_action="errors", errors={BlockId.COMMENT_TEXT: error_text(deps, error)})
        return
    ack()
    if state.channel and state.ts:
        gateway.update_message(state.channel, state.ts, pulse_message(state.view, deps.prompts))


def register(app: App) -> None:
    app.view(CallbackId.COMMENT_MODAL.value)(handle_comment_submission)
