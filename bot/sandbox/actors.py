"""Slack's side of the conversation: signed requests and the payloads Slack sends to an app.

Pure builders plus one HTTP helper; `SlackEmulator` wraps them with its workspace state.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from slack_sdk.signature import SignatureVerifier

APP_ID = "A0CXPULSE"
# Slack still sends the deprecated verification token in every payload; apps must ignore it.
VERIFICATION_TOKEN = "verification-token-unused"  # noqa: S105
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
DEFAULT_TIMEOUT_S = 30.0


@dataclass(frozen=True, slots=True)
class SentRequest:
    """What the app answered to a request the emulator sent it as Slack."""

    status: int
    body: str
    response_url: str | None = None
    trigger_id: str | None = None
    elapsed: float = 0.0

    @property
    def json_body(self) -> dict[str, Any] | None:
        """The answer parsed as a JSON object (e.g. `response_action: errors`), if it is one."""
        try:
            parsed = json.loads(self.body)
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) else None


def signature_headers(body: bytes, *, signing_secret: str, timestamp: int) -> dict[str, str]:
    """Slack's v0 signature headers, computed over the exact bytes that will be sent."""
    stamp = str(timestamp)
    verifier = SignatureVerifier(signing_secret)
    # SignatureVerifier decodes bytes as UTF-8, which is what Slack always sends.
    signature = verifier.generate_signature(timestamp=stamp, body=body) or ""
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature}


def post_signed(
    url: str,
    body: str | bytes,
    *,
    signing_secret: str,
    content_type: str = FORM,
    timestamp: int | None = None,
    retry_num: int | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> SentRequest:
    """POST a body to the app the way Slack does: signed, with retry headers when asked."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    stamp = int(time.time()) if timestamp is None else timestamp
    headers = {"Content-Type": content_type}
    headers.update(signature_headers(raw, signing_secret=signing_secret, timestamp=stamp))
    if retry_num is not None:
        headers["X-Slack-Retry-Num"] = str(retry_num)
        headers["X-Slack-Retry-Reason"] = "http_timeout"
    request = urllib.request.Request(url, data=raw, headers=headers, method="POST")  # noqa: S310
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            status, text = response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read().decode("utf-8", "replace")
    return SentRequest(status, text, elapsed=time.monotonic() - started)


def form_body(fields: Mapping[str, str]) -> str:
    """A form-encoded body, as Slack sends slash commands."""
    return urllib.parse.urlencode(dict(fields))


def payload_body(payload: Mapping[str, Any]) -> str:
    """Interactions arrive as one form field, `payload`, holding JSON."""
    return urllib.parse.urlencode({"payload": json.dumps(payload)})


def slash_command_fields(
    *,
    team: Mapping[str, str],
    user: Mapping[str, str],
    channel: Mapping[str, str],
    command: str,
    text: str,
    response_url: str,
    trigger_id: str,
) -> dict[str, str]:
    """The form fields of a slash command invocation."""
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": team["id"],
        "team_domain": team["domain"],
        "channel_id": channel["id"],
        "channel_name": channel["name"],
        "user_id": user["id"],
        "user_name": user["username"],
        "command": command,
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }


def block_actions_payload(
    *,
    team: Mapping[str, str],
    user: Mapping[str, str],
    channel: Mapping[str, str],
    message: Mapping[str, Any],
    action: Mapping[str, Any],
    response_url: str,
    trigger_id: str,
) -> dict[str, Any]:
    """A `block_actions` payload for a click on a button in a (non-ephemeral) message."""
    return {
        "type": "block_actions",
        "team": dict(team),
        "user": dict(user),
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "container": {
            "type": "message",
            "message_ts": message["ts"],
            "channel_id": channel["id"],
            "is_ephemeral": False,
        },
        "trigger_id": trigger_id,
        "channel": dict(channel),
        "message": dict(message),
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [dict(action)],
        "is_enterprise_install": False,
        "enterprise": None,
    }


def view_block_actions_payload(
    *,
    team: Mapping[str, str],
    user: Mapping[str, str],
    view: Mapping[str, Any],
    action: Mapping[str, Any],
    trigger_id: str,
) -> dict[str, Any]:
    """A `block_actions` payload for a click in a view (App Home or a modal): no channel and
    no response URL, as Slack sends it."""
    return {
        "type": "block_actions",
        "team": dict(team),
        "user": dict(user),
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "container": {"type": "view", "view_id": view["id"]},
        "trigger_id": trigger_id,
        "view": dict(view),
        "actions": [dict(action)],
        "is_enterprise_install": False,
        "enterprise": None,
    }


def button_action(
    *, action_id: str, block_id: str, value: str, label: Mapping[str, Any]
) -> dict[str, Any]:
    """One entry of a block_actions payload's `actions` list."""
    return {
        "action_id": action_id,
        "block_id": block_id,
        "text": dict(label),
        "value": value,
        "type": "button",
        "action_ts": f"{time.time():.6f}",
    }


def select_action(*, action_id: str, block_id: str, value: str) -> dict[str, Any]:
    """One static_select choice in a block_actions payload's `actions` list."""
    return {
        "action_id": action_id,
        "block_id": block_id,
        "type": "static_select",
        "selected_option": {"text": {"type": "plain_text", "text": value}, "value": value},
        "action_ts": f"{time.time():.6f}",
    }


def view_submission_payload(
    *,
    team: Mapping[str, str],
    user: Mapping[str, str],
    view: Mapping[str, Any],
    values: Mapping[str, Any],
    trigger_id: str,
) -> dict[str, Any]:
    """A `view_submission` payload: the stored view with what the person typed in its state."""
    submitted = {**view, "state": {"values": dict(values)}}
    return {
        "type": "view_submission",
        "team": dict(team),
        "user": dict(user),
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id,
        "view": submitted,
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


def event_envelope(*, team_id: str, bot_user_id: str, event: Mapping[str, Any]) -> dict[str, Any]:
    """The Events API `event_callback` envelope around one event."""
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "api_app_id": APP_ID,
        "event": dict(event),
        "type": "event_callback",
        "event_id": f"Ev{uuid.uuid4().hex[:10].upper()}",
        "event_time": int(time.time()),
        "authorizations": [
            {"team_id": team_id, "user_id": bot_user_id, "is_bot": True, "enterprise_id": None}
        ],
        "is_ext_shared_channel": False,
    }


def url_verification_payload(challenge: str) -> dict[str, str]:
    """The handshake Slack sends when an events URL is configured."""
    return {"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}


def _interactive_elements(message: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(block_id, element) for every element of actions blocks and section accessories."""
    for block in message.get("blocks") or []:
        block_id = str(block.get("block_id", ""))
        for element in block.get("elements") or []:
            if isinstance(element, dict):
                yield block_id, element
        accessory = block.get("accessory")
        if isinstance(accessory, dict):
            yield block_id, accessory


def find_element(
    message: Mapping[str, Any], block_id: str, action_id: str
) -> dict[str, Any] | None:
    """The interactive element with these ids in a message, if there is one."""
    for found_block, element in _interactive_elements(message):
        if found_block == block_id and element.get("action_id") == action_id:
            return element
    return None


def find_button(
    message: Mapping[str, Any], *, value: str | None = None, action_id_prefix: str | None = None
) -> tuple[str, str, str]:
    """(block_id, action_id, value) of the first button in a message matching the filters."""
    for block_id, element in _interactive_elements(message):
        if element.get("type") != "button":
            continue
        action_id = str(element.get("action_id", ""))
        if value is not None and element.get("value") != value:
            continue
        if action_id_prefix is not None and not action_id.startswith(action_id_prefix):
            continue
        return block_id, action_id, str(element.get("value", ""))
    raise LookupError(f"no button with value={value!r}, action_id_prefix={action_id_prefix!r}")
