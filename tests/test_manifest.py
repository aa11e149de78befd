"""manifest.yml declares exactly what the app handles, and every scope it asks for has a reason."""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml

import bot.slack
from bot.clock import ManualClock
from bot.manifest import (
    EVENTS_PATH,
    SCOPE_REASONS_KEY,
    bot_scopes,
    manifest_text,
    scope_reasons,
    socket_manifest,
)
from bot.prompts import load_prompts
from bot.render.ids import INPUT_ACTION_IDS, ActionId, CallbackId
from bot.render.pulse import PulseView, pulse_message
from bot.runtime import build_deps
from bot.sandbox import actors
from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.harness import ServedBot
from bot.slack import web
from tests.e2e.conftest import ADMIN, SECRET, TOKEN, TUESDAY_TEN, install_org, make_settings

# Signed and well formed, yet no listener matched: Bolt's answer to an unhandled request.
UNHANDLED = 404
CLICKER = "UFREE1"


def registered(name: str) -> set[str]:
    """What the Slack surface modules say they register under `name` (COMMANDS, EVENTS...)."""
    found: set[str] = set()
    for module in pkgutil.iter_modules(bot.slack.__path__):
        found |= set(getattr(importlib.import_module(f"bot.slack.{module.name}"), name, ()))
    return found


def declared_commands() -> set[str]:
    return {c["command"] for c in socket_manifest()["features"].get("slash_commands", [])}


def declared_shortcuts() -> set[str]:
    return {s["callback_id"] for s in socket_manifest()["features"].get("shortcuts", [])}


def declared_events() -> set[str]:
    return set(socket_manifest()["settings"]["event_subscriptions"]["bot_events"])


def test_declared_commands_shortcuts_and_events_are_what_the_code_registers() -> None:
    assert declared_commands(), "the manifest declares no slash command"
    assert declared_commands() == registered("COMMANDS")
    assert declared_shortcuts() == registered("SHORTCUTS")
    # app_home_opened is the App Home tab's; its module must say EVENTS = ("app_home_opened",).
    assert declared_events() == registered("EVENTS")


def test_the_app_shape_slack_needs() -> None:
    manifest = socket_manifest()
    settings = manifest["settings"]
    assert settings["socket_mode_enabled"] is True
    assert settings["org_deploy_enabled"] is False
    assert settings["token_rotation_enabled"] is False
    # There are buttons and modals, so Slack must deliver interactions at all.
    assert list(ActionId)
    assert list(CallbackId)
    assert settings["interactivity"]["is_enabled"] is True
    home = manifest["features"]["app_home"]
    assert home["home_tab_enabled"] is True
    assert home["messages_tab_enabled"] is True
    assert manifest["features"]["bot_user"]["display_name"]
    # Socket Mode needs no URL anywhere.
    assert "request_url" not in json.dumps(manifest)
    assert all("url" not in c for c in manifest["features"]["slash_commands"])
    assert EVENTS_PATH == web.EVENTS_PATH


def test_every_scope_has_a_reason_and_a_comment() -> None:
    scopes = bot_scopes()
    assert len(scopes) == len(set(scopes))
    copy = load_prompts().copy
    prefix = f"{SCOPE_REASONS_KEY}."
    keys = copy.keys()
    with_reasons = {key.removeprefix(prefix) for key in keys if key.startswith(prefix)}
    assert with_reasons == set(scopes)
    reasons = scope_reasons(copy)
    assert all(len(reason) > 10 for reason in reasons.values()), reasons
    for scope in scopes:
        commented = re.search(rf"^\s+- {re.escape(scope)} +# \S.+$", manifest_text(), re.M)
        assert commented, f"manifest.yml: {scope} has no comment saying why it is needed"


def test_cli_prints_both_variants() -> None:
    def cxpulse(*args: str) -> Any:
        done = subprocess.run(  # noqa: S603
            [sys.executable, "-m", "bot", "manifest", *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return yaml.safe_load(done.stdout)

    assert cxpulse() == socket_manifest()
    http = cxpulse("--url", "https://cx.example.com/")
    events = "https://cx.example.com/slack/events"
    redirect = "https://cx.example.com/slack/oauth_redirect"
    sign_in = "https://cx.example.com/report/callback"  # Sign in with Slack (the web report)
    settings = http["settings"]
    assert settings["socket_mode_enabled"] is False
    assert settings["interactivity"] == {"is_enabled": True, "request_url": events}
    assert settings["event_subscriptions"]["request_url"] == events
    assert set(settings["event_subscriptions"]["bot_events"]) == declared_events()
    assert [c["url"] for c in http["features"]["slash_commands"]] == [events]
    assert http["oauth_config"]["redirect_urls"] == [redirect, sign_in]
    assert http["oauth_config"]["scopes"]["bot"] == list(bot_scopes())
    # Who signs in to the web report, and nothing more: no email, no user token for anything.
    assert http["oauth_config"]["scopes"]["user"] == ["openid", "profile"]
    assert "user" not in socket_manifest()["oauth_config"]["scopes"]
    refused = subprocess.run(
        [sys.executable, "-m", "bot", "manifest", "--url", "http://cx.example.com"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 2
    assert "https://" in refused.stdout


# --- behaviour: the served app answers everything the manifest and ids.py name ------------------


@pytest.fixture
def slack(database_url: str) -> Iterator[SlackEmulator]:
    """The emulator, with the real app served behind it on loopback."""
    with SlackEmulator(bot_token=TOKEN, signing_secret=SECRET) as emulator:
        install_org(emulator)
        deps = build_deps(make_settings(emulator, database_url), clock=ManualClock(TUESDAY_TEN))
        with ServedBot(deps) as served:
            emulator.set_app_url(served.events_url)
            yield emulator
        deps.engine.dispose()


def assert_handled(sent: actors.SentRequest, what: str) -> None:
    assert sent.status not in {400, 401}, f"{what}: the test's request was refused ({sent.body})"
    assert sent.status != UNHANDLED, f"{what}: no listener handles it"


def test_every_declared_command_and_event_is_handled(slack: SlackEmulator) -> None:
    for command in declared_commands():
        assert_handled(slack.send_slash_command(ADMIN, "help", command=command), command)
    for event in declared_events():
        # message.im is delivered as a `message` event from a DM.
        kind, _, channel_type = event.partition(".")
        payload = {
            "type": kind,
            **({"channel_type": channel_type, "text": "hello"} if channel_type else {}),
            "user": ADMIN,
            "channel": slack.dm_channel(ADMIN),
            "tab": "home",
            "event_ts": f"{datetime.now(UTC).timestamp():.6f}",
        }
        assert_handled(slack.send_event(payload), event)
    for shortcut in declared_shortcuts():
        ts = slack.post_as_user(ADMIN, "C0LEADERS", "a message to use a shortcut on")
        sent = slack.send_message_shortcut(
            ADMIN, channel_id="C0LEADERS", message_ts=ts, callback_id=shortcut
        )
        assert_handled(sent, shortcut)


def test_slash_command_text_arrives_escaped_as_the_manifest_says() -> None:
    """should_escape: Slack sends mentions as <@U…> (kudos needs the ID) and & < > escaped;
    the emulator does the same, so every test sends what Slack would."""
    (command,) = socket_manifest()["features"]["slash_commands"]
    assert command["should_escape"] is True
    assert SlackEmulator.escapes(command["command"])
    shortcuts = socket_manifest()["features"]["shortcuts"]
    assert all(s["type"] == "message" and len(s["name"]) <= 24 for s in shortcuts)


def interactive_action_ids() -> list[str]:
    """Every ActionId Slack can send as block_actions; prefixed ones as a pulse DM renders them."""
    prompts = load_prompts()
    questions = tuple((q.id, q.text) for d in prompts.bank.dimensions[:2] for q in d.questions[:1])
    view = PulseView(1, "2026-W48", TUESDAY_TEN + timedelta(days=5), "UTC", questions)
    rendered = [
        element["action_id"]
        for block in pulse_message(view, prompts).blocks
        for element in block.to_dict().get("elements", [])
        if "action_id" in element
    ]
    ids: list[str] = []
    for action in ActionId:
        if action in INPUT_ACTION_IDS:
            continue
        if action.name.endswith("_PREFIX"):
            expanded = sorted({a for a in rendered if a.startswith(action.value)})
            assert expanded, f"{action.name}: rendered nowhere this test looks"
            ids += expanded
        else:
            ids.append(action.value)
    return ids


def test_every_action_and_callback_id_is_handled(slack: SlackEmulator) -> None:
    ids = interactive_action_ids()
    assert ActionId.OPEN_COMMENT in ids
    channel = slack.dm_channel(CLICKER)
    for action_id in ids:
        sent = slack.click_button(
            CLICKER,
            channel_id=channel,
            message_ts="1700000000.000100",
            action_id=action_id,
            block_id="manifest-test",
            value="not-a-real-value",
        )
        assert_handled(sent, f"block_actions {action_id}")
    team = {"id": slack.team_id, "domain": slack.team_domain}
    user = {"id": CLICKER, "username": "ufree1", "name": "ufree1", "team_id": slack.team_id}
    for callback in CallbackId:
        view = {"id": "VMANIFEST", "type": "modal", "callback_id": callback.value}
        view |= {"private_metadata": "", "blocks": [], "hash": "1.a"}
        payload = actors.view_submission_payload(
            team=team, user=user, view=view, values={}, trigger_id="1.2.manifest"
        )
        sent = slack.post_signed(actors.payload_body(payload))
        assert_handled(sent, f"view_submission {callback.value}")
