"""Shortcuts as Slack sends them to an app: the `message_action` payload of a message's More
actions menu. Pure builders; `SlackEmulator.send_message_shortcut` signs and sends them."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from bot.sandbox.actors import APP_ID, VERIFICATION_TOKEN


def message_action_payload(
    *,
    team: Mapping[str, str],
    user: Mapping[str, str],
    channel: Mapping[str, str],
    message: Mapping[str, Any],
    callback_id: str,
    response_url: str,
    trigger_id: str,
) -> dict[str, Any]:
    """A message shortcut used on `message`: the message as it is now, a trigger to open a
    modal with, and a response URL for ephemeral answers in that channel."""
    return {
        "type": "message_action",
        "token": VERIFICATION_TOKEN,
        "action_ts": f"{time.time():.6f}",
        "team": dict(team),
        "user": dict(user),
        "channel": dict(channel),
        "api_app_id": APP_ID,
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": trigger_id,
        "response_url": response_url,
        "message_ts": str(message.get("ts", "")),
        "message": dict(message),
    }


def human_message(
    *, user_id: str, text: str, ts: str, team_id: str, blocks: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A message a person wrote, as conversations.history shows it (`text` is already in
    Slack's escaped form: see bot.sandbox.composer)."""
    return {
        "type": "message",
        "ts": ts,
        "user": user_id,
        "team": team_id,
        "text": text,
        "blocks": blocks or [],
        "files": [],
        "metadata": None,
    }
