"""Malformed payloads never get a 500 or write anything: property-based for signed ones, and
over raw HTTP for bodies that are unsigned, too deep, too large or not UTF-8."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.db.models import RoundKind
from bot.sandbox import actors
from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.harness import ServedBot
from bot.sandbox.people import latest_dm, question_ids, wait_for
from bot.services.context import Deps
from bot.services.rounds import send_round
from bot.slack.web import MAX_BODY_BYTES, MAX_JSON_DEPTH
from tests.e2e.conftest import ADMIN, SECRET, Org, answers, comment_texts, ephemeral_texts

JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True),
    st.text(max_size=50),
    st.text(min_size=3001, max_size=3200),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)

PROPERTIES = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


MANGLE_PATHS = [
    "user",
    "user.id",
    "container",
    "container.message_ts",
    "actions",
    "actions.0",
    "actions.0.value",
    "actions.0.action_id",
    "actions.0.block_id",
    "type",
    "trigger_id",
    "response_url",
]


def _mangle(payload: dict[str, Any], path: list[str], *, remove: bool, junk: Any) -> None:
    """Drop, or replace with junk, the field at `path`, if the payload still has that path."""
    target: Any = payload
    for part in path[:-1]:
        if isinstance(target, list) and part.isdigit() and int(part) < len(target):
            target = target[int(part)]
        elif isinstance(target, dict) and part in target:
            target = target[part]
        else:
            return
    leaf = path[-1]
    if isinstance(target, list) and leaf.isdigit() and int(leaf) < len(target):
        target[int(leaf)] = junk
    elif isinstance(target, dict):
        if remove:
            target.pop(leaf, None)
        else:
            target[leaf] = junk


def _post(emulator: SlackEmulator, payload: Any) -> int:
    body = urllib.parse.urlencode({"payload": json.dumps(payload, default=str)})
    return emulator.post_signed(body).status


@PROPERTIES
@given(data=st.data())
def test_mangled_button_clicks(
    data: st.DataObject, bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps
) -> None:
    if not emulator.calls("chat.postMessage"):
        send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
    user = org.teams["alpha"][1]
    dm = latest_dm(emulator, user)
    question = question_ids(dm)[0]
    good: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user},
        "team": {"id": emulator.team_id},
        "container": {"type": "message", "channel_id": dm["channel"], "message_ts": dm["ts"]},
        "trigger_id": "1.2",
        "response_url": f"{emulator.base_url}/respond/x",
        "actions": [
            {"action_id": "answer:4", "block_id": f"q:{question}", "value": f"1|{question}|4"}
        ],
    }
    # Break the payload in one or more places: drop a field or put junk in it.
    for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
        path = data.draw(st.sampled_from(MANGLE_PATHS))
        _mangle(good, path.split("."), remove=data.draw(st.booleans()), junk=data.draw(JUNK))
    before = [(a.question_id, a.score) for a in answers(deps)]
    assert _post(emulator, good) < 500
    after = [(a.question_id, a.score) for a in answers(deps)]
    # A mangled click may still be a valid one (junk landed somewhere harmless), but it can
    # only ever record that person's own score 4, never anything else.
    assert all(score == 4 for _, score in after)
    assert len(after) <= len(before) + 1


@PROPERTIES
@given(
    text=JUNK,
    command=st.sampled_from(["/cx", "/other"]),
    user=JUNK,
    drop_url=st.sampled_from(["", None]),
)
def test_mangled_slash_commands(
    text: Any,
    command: str,
    user: Any,
    drop_url: str | None,
    bot: ServedBot,
    emulator: SlackEmulator,
    deps: Deps,
) -> None:
    fields = {
        "command": command,
        "text": text,
        "user_id": user,
        "team_id": emulator.team_id,
        "response_url": drop_url or f"{emulator.base_url}/respond/unknown",
    }
    if drop_url == "":
        del fields["response_url"]
    body = urllib.parse.urlencode({k: "" if v is None else str(v) for k, v in fields.items()})
    assert emulator.post_signed(body).status < 500
    assert answers(deps) == []


@PROPERTIES
@given(view=JUNK, values=JUNK)
def test_mangled_modal_submissions(
    view: Any, values: Any, bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps
) -> None:
    payload = {
        "type": "view_submission",
        "user": {"id": org.teams["beta"][0]},
        "view": {
            "type": "modal",
            "callback_id": "comment_modal",
            "private_metadata": view,
            "state": {"values": values},
        },
    }
    assert _post(emulator, payload) < 500
    assert comment_texts(deps) == []


# --- Bodies that must never be parsed, or never parsed whole ------------------------------

DEEP = 100_000  # far past Python's recursion limit: json.loads raises RecursionError


def _post_raw(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    """POST exactly these bytes with exactly these headers (no signature unless given)."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


def _signed(body: bytes, *, content_type: str = "application/json") -> dict[str, str]:
    """Slack's v0 signature over raw bytes, which need not be UTF-8 (the emulator's helper
    signs text only)."""
    stamp = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256)
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": f"v0={digest.hexdigest()}",
    }


def _still_serving(emulator: SlackEmulator) -> None:
    """A real slash command after the bad request is answered as usual."""
    before = len(emulator.responses())
    assert emulator.send_slash_command(ADMIN, "help").status == 200
    assert "/cx score" in wait_for(lambda: ephemeral_texts(emulator)[before:])[0]


def _nested(depth: int) -> Any:
    value: Any = []
    for _ in range(depth - 1):
        value = [value]
    return value


DEEP_BODIES = [
    pytest.param(b"[" * DEEP, "application/json", id="json-array"),
    pytest.param(b'{"a":' * DEEP, "application/json", id="json-object"),
    pytest.param(
        urllib.parse.urlencode({"payload": "[" * DEEP}).encode(), actors.FORM, id="form-payload"
    ),
]


@pytest.mark.parametrize(("body", "content_type"), DEEP_BODIES)
def test_an_unsigned_deep_body_is_refused_unparsed(
    body: bytes, content_type: str, bot: ServedBot, emulator: SlackEmulator, deps: Deps
) -> None:
    # It used to be parsed first: a RecursionError, answered 500.
    status, text = _post_raw(bot.events_url, body, {"Content-Type": content_type})
    assert (status, json.loads(text)) == (401, {"error": "invalid signature"})
    forged = _signed(body, content_type=content_type)
    forged["X-Slack-Signature"] = "v0=" + "0" * 64
    assert _post_raw(bot.events_url, body, forged)[0] == 401
    _still_serving(emulator)
    assert answers(deps) == []


@pytest.mark.parametrize(("body", "content_type"), DEEP_BODIES)
def test_a_signed_deep_body_is_a_bad_request(
    body: bytes, content_type: str, bot: ServedBot, emulator: SlackEmulator, deps: Deps
) -> None:
    status, text = _post_raw(bot.events_url, body, _signed(body, content_type=content_type))
    assert (status, json.loads(text)) == (400, {"error": "malformed payload"})
    _still_serving(emulator)
    assert answers(deps) == []


def test_nesting_is_limited_at_64_levels(bot: ServedBot, emulator: SlackEmulator) -> None:
    def handshake(depth: int) -> Any:
        # The handshake Slack sends when the events URL is saved, with one field nested so
        # that the whole body is `depth` levels deep (the envelope is the first).
        payload = {"type": "url_verification", "token": "t", "challenge": "c-1", "x": "x"}
        payload["x"] = _nested(depth - 1)
        return emulator.post_signed(json.dumps(payload), content_type=actors.JSON)

    fits = handshake(MAX_JSON_DEPTH)
    assert (fits.status, fits.json_body) == (200, {"challenge": "c-1"})
    too_deep = handshake(MAX_JSON_DEPTH + 1)
    assert (too_deep.status, too_deep.json_body) == (400, {"error": "malformed payload"})


@pytest.mark.parametrize(
    "body",
    [b"\xff\xfe", b"payload=\xff", b"command=%2Fcx&text=\xc3", b'{"type": "\xff"}'],
)
def test_a_body_that_is_not_utf8_is_a_bad_request_signed_or_not(
    body: bytes, bot: ServedBot, emulator: SlackEmulator
) -> None:
    # Slack's own verifier decodes the body to check it, and raised here: a 500.
    signed = _post_raw(bot.events_url, body, _signed(body, content_type=actors.FORM))
    assert signed[0] == 400
    assert _post_raw(bot.events_url, body, {"Content-Type": actors.FORM})[0] == 401
    _still_serving(emulator)


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": "v0=abc"},
        {"X-Slack-Request-Timestamp": "9" * 5000, "X-Slack-Signature": "v0=abc"},
        {"X-Slack-Request-Timestamp": "1700000000", "X-Slack-Signature": "v0=\u00e9"},
        {"X-Slack-Request-Timestamp": "", "X-Slack-Signature": ""},
    ],
)
def test_signature_headers_of_any_form_are_a_401(
    headers: dict[str, str], bot: ServedBot, emulator: SlackEmulator
) -> None:
    body = b"command=%2Fcx&text=help"
    assert _post_raw(bot.events_url, body, {"Content-Type": actors.FORM, **headers})[0] == 401
    _still_serving(emulator)


def _status_line_for_claimed_length(bot: ServedBot, length: int) -> str:
    """Send only the headers of a POST claiming `length` bytes, and read the answer: a server
    that waited for the body would never answer before the timeout."""
    host, port = urllib.parse.urlsplit(bot.base_url).netloc.split(":")
    head = (
        f"POST /slack/events HTTP/1.1\r\nHost: {host}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    )
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head.encode())
        return sock.recv(4096).decode("latin-1").split("\r\n", 1)[0]


@pytest.mark.parametrize("length", [MAX_BODY_BYTES + 1, 50_000_000])
def test_a_body_over_the_limit_is_a_413_without_reading_it(
    length: int, bot: ServedBot, emulator: SlackEmulator
) -> None:
    assert _status_line_for_claimed_length(bot, length).startswith("HTTP/1.1 413")
    _still_serving(emulator)


def test_a_body_at_the_limit_is_read_and_checked(bot: ServedBot, emulator: SlackEmulator) -> None:
    body = b"{" + b" " * (MAX_BODY_BYTES - 1)  # JSON cut short
    assert _post_raw(bot.events_url, body, {"Content-Type": actors.FORM})[0] == 401
    assert _post_raw(bot.events_url, body, _signed(body, content_type=actors.FORM))[0] == 400


def test_the_rest_of_the_http_surface_still_answers(
    bot: ServedBot, emulator: SlackEmulator
) -> None:
    with urllib.request.urlopen(f"{bot.base_url}/healthz", timeout=10) as health:  # noqa: S310
        assert (health.status, json.loads(health.read())) == (200, {"ok": True})
    handshake = emulator.url_verification("c-2")
    assert (handshake.status, handshake.json_body) == (200, {"challenge": "c-2"})
    # Slack's certificate check on a slash command URL, signed like everything Slack sends.
    assert emulator.post_signed("ssl_check=1&token=x").status == 200
    # Anywhere else is not found, and a body sent there is never decoded.
    elsewhere = bot.base_url + "/elsewhere"
    assert _post_raw(elsewhere, b"\xff\xfe", {"Content-Type": actors.FORM})[0] == 404
    _still_serving(emulator)
