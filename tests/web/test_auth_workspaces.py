"""Signing in with OAuth installs (SLACK_CLIENT_ID, no SLACK_BOT_TOKEN): each person sees
their own installed workspace, and someone from a workspace that never installed the app is
turned away. Two emulated workspaces behind one Web API URL, as Slack serves them."""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from cryptography.fernet import Fernet
from slack_sdk.oauth.installation_store import Installation

from bot.clock import ManualClock
from bot.runtime import build_deps
from bot.sandbox.emulator import BOT_USER_ID, SlackEmulator
from bot.sandbox.front import SlackFront
from bot.sandbox.harness import ServedBot, free_port
from bot.settings import Settings
from bot.slack.installations import installation_store
from bot.tenancy import Workspaces
from tests.e2e.conftest import LEADERS_CHANNEL, PSEUDONYM_KEY, SECRET, TUESDAY_TEN
from tests.web.conftest import (
    CLIENT_ID,
    CLIENT_SECRET,
    SESSION_SECRET,
    Response,
    WebSession,
    authorize_form,
)


@dataclass
class Deployment:
    base_url: str
    acme: SlackEmulator
    stranger: SlackEmulator
    workspaces: Workspaces


def _workspace(team_id: str, prefix: str, clock: ManualClock) -> SlackEmulator:
    emulator = SlackEmulator(
        bot_token=f"xoxb-{prefix.lower()}-token",
        signing_secret=SECRET,
        team_id=team_id,
        team_name=f"{prefix} Inc",
    ).start()
    for i in range(3):
        emulator.add_user(f"U{prefix}{i}", f"{prefix.lower()}{i}")
    emulator.add_channel(LEADERS_CHANNEL, "leadership", [f"U{prefix}0", BOT_USER_ID])
    emulator.openid.set_clock(clock.now)
    return emulator


@pytest.fixture
def deployment(database_url: str) -> Iterator[Deployment]:
    clock = ManualClock(TUESDAY_TEN)
    acme = _workspace("T0ACME", "ACME", clock)
    stranger = _workspace("T0STRANGER", "STRANGER", clock)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    for emulator in (acme, stranger):  # one app, known to Slack in every workspace
        emulator.openid.register(CLIENT_ID, CLIENT_SECRET, [f"{base_url}/report/callback"])
    with SlackFront([acme, stranger]) as front:
        settings = Settings.model_validate(
            {
                "SLACK_CLIENT_ID": CLIENT_ID,
                "SLACK_CLIENT_SECRET": CLIENT_SECRET,
                "CX_ENCRYPTION_KEY": Fernet.generate_key().decode(),
                "SLACK_SIGNING_SECRET": SECRET,
                "SLACK_API_URL": front.api_url,
                "DATABASE_URL": database_url,
                "CX_LEADERSHIP_CHANNEL": LEADERS_CHANNEL,
                "CX_TIMEZONE": "Europe/London",
                "CX_PSEUDONYM_KEY": PSEUDONYM_KEY,
                "CX_PUBLIC_URL": base_url,
                "CX_SESSION_SECRET": SESSION_SECRET,
                "SLACK_OPENID_AUTHORIZE_URL": acme.openid.authorize_url,
            }
        )
        main = build_deps(settings, clock=clock)
        # acme installed the app (as /slack/install would have stored it); the stranger did not.
        installation_store(settings, main.engine).save(
            Installation(
                app_id="A0CXPULSE",
                team_id="T0ACME",
                bot_token=acme.bot_token,
                bot_id="B0ACME",
                bot_user_id=BOT_USER_ID,
                user_id="UACME0",
                bot_scopes=["users:read"],
            )
        )
        workspaces = Workspaces(settings, clock=clock)
        with ServedBot(main, workspaces=workspaces, port=port):
            yield Deployment(base_url, acme, stranger, workspaces)
        workspaces.close()
        main.engine.dispose()
    acme.stop()
    stranger.stop()


def _sign_in_at(session: WebSession, authorize_url: str, user_id: str) -> Response:
    """Through the app's own /report/login, but on `authorize_url`'s Slack page."""
    login = session.get("/report/login")
    query = urllib.parse.urlsplit(login.location).query
    page = session.get(f"{authorize_url}?{query}")
    assert page.status == 200, page.text[:500]
    fields = authorize_form(page)
    approved = session.post(authorize_url, form={**fields, "user": user_id})
    assert approved.status == 302, approved.text[:500]
    return session.follow(session.get(approved.location))


def test_a_person_of_an_installed_workspace_signs_in_to_it(deployment: Deployment) -> None:
    session = WebSession(deployment.base_url)
    page = _sign_in_at(session, deployment.acme.openid.authorize_url, "UACME0")
    assert page.status == 200, page.text[:1000]
    assert "acme0" in page.text
    # Roles were read from acme's own Slack, with acme's installed token.
    [members] = deployment.acme.calls("conversations.members")
    assert members.params["channel"] == LEADERS_CHANNEL
    assert not deployment.stranger.calls("conversations.members")
    assert deployment.workspaces.known() == {"T0ACME"}
    assert session.get("/report/heatmap").status == 200  # UACME0 is in its leadership channel


def test_a_workspace_that_never_installed_the_app_is_turned_away(
    deployment: Deployment,
) -> None:
    session = WebSession(deployment.base_url)
    page = _sign_in_at(session, deployment.stranger.openid.authorize_url, "USTRANGER0")
    assert page.status == 403
    assert "This workspace does not use cx-pulse" in page.text
    assert not any(name.endswith("cxpulse_session") for name in session.cookies)
    assert deployment.stranger.calls("openid.connect.token")  # Slack said who it was...
    assert not deployment.stranger.calls("conversations.members")  # ...and that was all
    assert deployment.workspaces.known() == set()
