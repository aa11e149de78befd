"""App Home: the tab each person opens, its buttons, and the admins' way into settings."""

from __future__ import annotations

import contextlib
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.errors import AdminsOnly
from bot.render.home import home_view
from bot.render.ids import ActionId
from bot.render.settings_modal import settings_modal
from bot.services.admin_settings import change_settings
from bot.services.context import Deps
from bot.services.home import home_state
from bot.services.language import prompts_for_member
from bot.services.members import set_participation
from bot.services.ports import SlackGateway
from bot.services.team_leads import known_teams
from bot.slack.errors import politely
from bot.slack.parsing import user_id_of

EVENTS = ("app_home_opened",)


def publish_home(context: BoltContext, client: WebClient, user_id: str) -> None:
    deps: Deps = context["deps"]
    gateway: SlackGateway = context["gateway"]
    state = home_state(deps, gateway, slack_user_id=user_id)
    prompts = prompts_for_member(deps, slack_user_id=user_id)
    client.views_publish(user_id=user_id, view=home_view(state, prompts))


def handle_app_home_opened(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    # The Messages tab opens this event too; only the Home tab has a view to publish.
    if event.get("tab", "home") != "home" or not isinstance(event.get("user"), str):
        return
    publish_home(context, client, event["user"])


def _participation(opted_out: bool) -> Any:
    def handle_home_participation_button(
        ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        ack()
        deps: Deps = context["deps"]
        user_id = user_id_of(body)
        set_participation(deps, slack_user_id=user_id, opted_out=opted_out)
        publish_home(context, client, user_id)

    return handle_home_participation_button


def handle_open_settings_button(
    ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    ack()
    deps: Deps = context["deps"]
    user_id = user_id_of(body)
    settings = deps.settings
    if user_id not in settings.admins:
        # A stale Home tab from when this person was an admin: show them the current one.
        publish_home(context, client, user_id)
        return
    prompts = prompts_for_member(deps, slack_user_id=user_id)
    modal = settings_modal(settings, prompts, known_teams(deps))
    client.views_open(trigger_id=body.get("trigger_id"), view=modal)


def _pause(paused: bool) -> Any:
    def handle_home_pause_button(
        ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        ack()
        deps: Deps = context["deps"]
        user_id = user_id_of(body)
        # Someone no longer an admin gets the refreshed Home tab, which drops the button.
        with contextlib.suppress(AdminsOnly):
            change_settings(deps, admin=user_id, changes={"paused": paused})
        publish_home(context, client, user_id)

    return handle_home_pause_button


def register(app: App) -> None:
    app.event("app_home_opened")(handle_app_home_opened)
    app.action(ActionId.HOME_OPT_OUT.value)(politely(_participation(opted_out=True)))
    app.action(ActionId.HOME_OPT_IN.value)(politely(_participation(opted_out=False)))
    app.action(ActionId.HOME_OPEN_SETTINGS.value)(politely(handle_open_settings_button))
    app.action(ActionId.HOME_PAUSE.value)(politely(_pause(paused=True)))
    app.action(ActionId.HOME_RESUME.value)(politely(_pause(paused=False)))
