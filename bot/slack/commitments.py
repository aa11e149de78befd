"""The nudge loop's Slack surface: "I'll take this on" and the commitment modal, and the
digest's "Read all" comments modal with its pages and dimension filter."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from pydantic import ValidationError
from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.errors import BadPayload, CommentsLeadersOnly, CommitLeadersOnly, CxError
from bot.render.comments_modal import ALL_DIMENSIONS, CommentsModalState, comments_modal
from bot.render.commitment_modal import (
    CommitmentModalState,
    commitment_announcement,
    commitment_done,
    commitment_modal,
)
from bot.render.ids import ActionId, BlockId, CallbackId
from bot.render.replies import text_reply
from bot.services.comments import comments_page
from bot.services.commitments import DEFAULT_DUE, record_commitment
from bot.services.context import Deps
from bot.services.language import prompts_for_member
from bot.services.ports import SlackGateway
from bot.services.roles import Audience, may_use
from bot.slack.errors import error_text, politely, requester_prompts
from bot.slack.parsing import user_id_of

log = logging.getLogger(__name__)


def _leader(context: BoltContext, user_id: str) -> bool:
    deps: Deps = context["deps"]
    gateway: SlackGateway = context["gateway"]
    return may_use(
        audience=Audience.LEADERS, settings=deps.settings, gateway=gateway, user_id=user_id
    )


def open_commitment_modal(
    deps: Deps,
    client: WebClient,
    *,
    trigger_id: str,
    user_id: str,
    dimension: str | None,
    channel: str | None,
) -> None:
    """The modal behind "I'll take this on" and `/cx act` alone, owner and date filled in."""
    today = deps.clock.now().astimezone(deps.settings.zone).date()
    modal = commitment_modal(
        prompts_for_member(deps, slack_user_id=user_id),
        dimension=dimension,
        owner=user_id,
        due_on=today + DEFAULT_DUE,
        channel=channel,
    )
    client.views_open(trigger_id=trigger_id, view=modal)


def handle_commit_focus(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    ack()
    deps: Deps = context["deps"]
    user_id = user_id_of(body)
    if not _leader(context, user_id):
        raise CommitLeadersOnly()
    # The value is "<period>|<dimension>" as the digest wrote it; an unknown dimension only
    # leaves the picker empty.
    value = str(action.get("value") or "")
    dimension = value.partition("|")[2][:40] or None
    channel = ((body.get("channel") or {}).get("id") or None) if isinstance(body, dict) else None
    open_commitment_modal(
        deps,
        client,
        trigger_id=str(body.get("trigger_id") or ""),
        user_id=user_id,
        dimension=dimension,
        channel=channel if isinstance(channel, str) else None,
    )


def _selected(view: dict[str, Any], block: str, action: str) -> dict[str, Any]:
    values = ((view.get("state") or {}).get("values") or {}).get(block) or {}
    found = values.get(action)
    return found if isinstance(found, dict) else {}


def _parse_commitment(view: dict[str, Any]) -> tuple[str, str, date | None, str | None]:
    dimension = (
        _selected(view, BlockId.COMMITMENT_DIMENSION, ActionId.COMMITMENT_DIMENSION).get(
            "selected_option"
        )
        or {}
    ).get("value")
    text = _selected(view, BlockId.COMMITMENT_TEXT, ActionId.COMMITMENT_TEXT).get("value")
    due = _selected(view, BlockId.COMMITMENT_DUE, ActionId.COMMITMENT_DUE).get("selected_date")
    owner = _selected(view, BlockId.COMMITMENT_OWNER, ActionId.COMMITMENT_OWNER).get(
        "selected_user"
    )
    if not isinstance(dimension, str) or not isinstance(text, str):
        raise BadPayload()
    try:
        due_on = date.fromisoformat(due) if isinstance(due, str) and due else None
    except ValueError as exc:
        raise BadPayload() from exc
    return dimension, text, due_on, owner if isinstance(owner, str) and owner else None


def handle_commitment_submission(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext
) -> None:
    deps: Deps = context["deps"]
    gateway: SlackGateway = context["gateway"]
    prompts = requester_prompts(deps, body)
    user_id = user_id_of(body)
    try:
        if not _leader(context, user_id):
            raise CommitLeadersOnly()
        state = CommitmentModalState.model_validate_json(view.get("private_metadata") or "{}")
        dimension, text, due_on, owner = _parse_commitment(view)
        commitment = record_commitment(
            deps,
            created_by=user_id,
            dimension=dimension,
            text=text,
            owner=owner,
            due_on=due_on,
        )
    except (CxError, ValidationError) as error:
        problem = error if isinstance(error, CxError) else BadPayload()
        block = (
            BlockId.COMMITMENT_DUE
            if problem.copy_key == "errors.commitment_due"
            else BlockId.COMMITMENT_TEXT
        )
        ack(response_action="errors", errors={block: error_text(deps, problem, prompts)})
        return
    ack(response_action="update", view=commitment_done(prompts, commitment))
    channel = state.channel
    if channel and channel == deps.settings.leadership_channel:
        # The other leaders see who owns it, where the focus was proposed.
        line = commitment_announcement(deps.prompts, commitment, by=user_id)
        gateway.post_message(channel, text_reply(line))


def _show_comments(
    context: BoltContext,
    client: WebClient,
    user_id: str,
    state: CommentsModalState,
    *,
    trigger_id: str | None = None,
    view_id: str | None = None,
) -> None:
    deps: Deps = context["deps"]
    page = comments_page(
        deps, period=state.period, dimension=state.dimension, page=state.page, theme=state.theme
    )
    modal = comments_modal(prompts_for_member(deps, slack_user_id=user_id), page)
    if view_id:
        client.views_update(view_id=view_id, view=modal)
    else:
        client.views_open(trigger_id=trigger_id, view=modal)


def handle_read_all(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    ack()
    user_id = user_id_of(body)
    if not _leader(context, user_id):
        raise CommentsLeadersOnly()
    try:
        state = CommentsModalState(period=str(action.get("value") or ""))
    except ValidationError as exc:
        raise BadPayload() from exc
    _show_comments(context, client, user_id, state, trigger_id=str(body.get("trigger_id") or ""))


def _modal_view_id(body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    view = body.get("view")
    if not isinstance(view, dict) or not view.get("id"):
        raise BadPayload()
    return str(view["id"]), view


def _leader_in_modal(
    context: BoltContext, body: dict[str, Any], what: str
) -> tuple[str, str, dict[str, Any]] | None:
    """(user, view id, view) for a click inside the Read-all modal; None, logged, when the
    person is no longer a leader (a modal has nowhere to show a refusal)."""
    user_id = user_id_of(body)
    view = body.get("view")
    if not isinstance(view, dict) or not view.get("id"):
        raise BadPayload()
    if not _leader(context, user_id):
        log.info("%s by someone no longer a leader", what)
        return None
    return user_id, str(view["id"]), view


def _comments_state(raw: object, what: str) -> CommentsModalState | None:
    try:
        return CommentsModalState.model_validate_json(str(raw or ""))
    except ValidationError:
        log.info("%s carried a malformed comments state", what)
        return None


def handle_comments_page(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    ack()
    found = _leader_in_modal(context, body, "a comments page")
    state = _comments_state(action.get("value"), "a comments page button")
    if found is None or state is None:
        return
    user_id, view_id, _ = found
    _show_comments(context, client, user_id, state, view_id=view_id)


def handle_comments_filter(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    ack()
    found = _leader_in_modal(context, body, "a comments filter")
    if found is None:
        return
    user_id, view_id, view = found
    state = _comments_state(view.get("private_metadata"), "the comments modal")
    if state is None:
        return
    chosen = (action.get("selected_option") or {}).get("value")
    value = None if chosen in (None, ALL_DIMENSIONS) else str(chosen)[:40]
    # The same menu handler for both filters: by dimension, and by theme (what the words say).
    field = "theme" if action.get("action_id") == ActionId.COMMENTS_THEME_FILTER else "dimension"
    _show_comments(
        context,
        client,
        user_id,
        state.model_copy(update={field: value, "page": 0}),
        view_id=view_id,
    )


def handle_comments_modal_submission(ack: Ack) -> None:
    """The Read-all modal has no Submit button; a stale client's submission only closes it."""
    ack()


def register(app: App) -> None:
    app.action(ActionId.COMMIT_FOCUS.value)(politely(handle_commit_focus))
    app.view(CallbackId.COMMITMENT_MODAL.value)(handle_commitment_submission)
    app.action(ActionId.READ_ALL_COMMENTS.value)(politely(handle_read_all))
    app.action(ActionId.COMMENTS_PREVIOUS.value)(politely(handle_comments_page))
    app.action(ActionId.COMMENTS_NEXT.value)(politely(handle_comments_page))
    app.action(ActionId.COMMENTS_FILTER.value)(politely(handle_comments_filter))
    app.action(ActionId.COMMENTS_THEME_FILTER.value)(politely(handle_comments_filter))
    app.view(CallbackId.COMMENTS_MODAL.value)(handle_comments_modal_submission)
