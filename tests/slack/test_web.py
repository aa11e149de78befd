"""The HTTP surface builds the same BoltRequest as Bolt's WSGI adapter, from one parse; it
checks Slack's signature on the raw bytes the way Slack's own verifier does, and refuses
bodies it cannot parse safely without raising."""

from __future__ import annotations

import io
import json
from urllib.parse import urlencode

import pytest
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.request import BoltRequest
from slack_sdk.signature import SignatureVerifier

from bot.slack.web import MAX_JSON_DEPTH, bolt_request, parsed_body, signed_by_slack, within_depth

FORM = "application/x-www-form-urlencoded"
ACTION = {
    "type": "block_actions",
    "team": {"id": "T1", "domain": "acme"},
    "user": {"id": "U1", "team_id": "T1"},
    "channel": {"id": "D1"},
    "container": {"type": "message", "channel_id": "D1", "message_ts": "1.2"},
    "actions": [{"action_id": "answer_4", "block_id": "q:x", "value": "1|x|4", "type": "button"}],
    "trigger_id": "1.1.x",
    "response_url": "https://hooks.example/r",
}
EVENT = {
    "type": "event_callback",
    "team_id": "T1",
    "api_app_id": "A1",
    "event": {"type": "app_home_opened", "user": "U1", "tab": "home"},
}


def _environ(raw: str, content_type: str) -> dict[str, object]:
    data = raw.encode()
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/slack/events",
        "QUERY_STRING": "a=1",
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(len(data)),
        "HTTP_X_SLACK_SIGNATURE": "v0=abc",
        "HTTP_X_SLACK_REQUEST_TIMESTAMP": "1700000000",
        "HTTP_X_SLACK_RETRY_NUM": "1",
        "wsgi.input": io.BytesIO(data),
    }


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        (urlencode({"payload": json.dumps(ACTION)}), FORM),
        (
            urlencode(
                {"command": "/cx", "text": "<!channel>", "user_id": "U1", "response_url": "u"}
            ),
            FORM,
        ),
        (json.dumps(EVENT), "application/json"),
    ],
)
def test_one_parse_builds_the_request_bolt_would(raw: str, content_type: str) -> None:
    environ = _environ(raw, content_type)
    wsgi_request = WsgiHttpRequest(environ)  # type: ignore[arg-type]
    expected = BoltRequest(
        body=raw, query=wsgi_request.query_string, headers=wsgi_request.get_headers()
    )
    parsed = parsed_body(raw.encode(), content_type)
    assert parsed is not None
    built = bolt_request(raw, parsed, environ)  # type: ignore[arg-type]
    assert built.mode == expected.mode == "http"
    assert built.raw_body == expected.raw_body == raw
    assert built.body == expected.body
    assert built.query == expected.query
    assert built.headers == expected.headers
    assert built.content_type == expected.content_type
    assert dict(built.context) == dict(expected.context)
    assert (built.lazy_only, built.lazy_function_name) == (
        expected.lazy_only,
        expected.lazy_function_name,
    )
    copied = built.to_copyable()  # lazy listeners copy the request from its raw body
    assert copied.body == expected.body


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        (b"\xff\xfe", FORM),
        (b"payload=%7Bnot-json", FORM),
        (b'{"type": 5}', "application/json"),
        (b"[1, 2]", "application/json"),
        (urlencode({"payload": json.dumps({**ACTION, "actions": "x"})}).encode(), FORM),
    ],
)
def test_bodies_bolt_would_choke_on_are_refused(raw: bytes, content_type: str) -> None:
    assert parsed_body(raw, content_type) is None


SECRET = "test-signing-secret"
NOW = 1_700_000_000


def _signed_headers(body: bytes, *, stamp: int = NOW, secret: str = SECRET) -> dict[str, str]:
    signature = SignatureVerifier(secret).generate_signature(timestamp=str(stamp), body=body)
    return {"x-slack-request-timestamp": str(stamp), "x-slack-signature": signature or ""}


@pytest.mark.parametrize(
    "body",
    [b"", b"command=%2Fcx&text=help", json.dumps(EVENT).encode(), "é €".encode()],
)
def test_the_signature_is_slacks_v0_hmac_over_the_raw_bytes(body: bytes) -> None:
    headers = _signed_headers(body)
    assert signed_by_slack(SECRET, body, headers, now=NOW)
    # Bolt's own check agrees, on the same bytes and headers.
    verifier = SignatureVerifier(SECRET, clock=_FixedClock())
    assert verifier.is_valid_request(body, headers)
    assert not signed_by_slack(SECRET, body + b" ", headers, now=NOW)
    assert not signed_by_slack("another-secret", body, headers, now=NOW)
    assert not signed_by_slack("", body, headers, now=NOW)


def test_signatures_outside_five_minutes_are_replays() -> None:
    body = b"command=%2Fcx"
    assert signed_by_slack(SECRET, body, _signed_headers(body, stamp=NOW - 299), now=NOW)
    assert signed_by_slack(SECRET, body, _signed_headers(body, stamp=NOW + 299), now=NOW)
    assert not signed_by_slack(SECRET, body, _signed_headers(body, stamp=NOW - 301), now=NOW)
    assert not signed_by_slack(SECRET, body, _signed_headers(body, stamp=NOW + 301), now=NOW)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"x-slack-signature": "v0=abc"},
        {"x-slack-request-timestamp": str(NOW)},
        {"x-slack-request-timestamp": "soon", "x-slack-signature": "v0=abc"},
        {"x-slack-request-timestamp": "9" * 5000, "x-slack-signature": "v0=abc"},
        {"x-slack-request-timestamp": "١٢٣", "x-slack-signature": "v0=abc"},  # Arabic digits
        {"x-slack-request-timestamp": str(NOW), "x-slack-signature": "v0=\udcff é"},
        {"x-slack-request-timestamp": str(NOW), "x-slack-signature": ""},
    ],
)
def test_headers_of_any_form_are_an_invalid_signature_never_an_error(
    headers: dict[str, str],
) -> None:
    assert not signed_by_slack(SECRET, b"\xff\xfe[[[", headers, now=NOW)


class _FixedClock:
    def now(self) -> float:
        return NOW


def _nested(depth: int) -> object:
    value: object = []
    for _ in range(depth - 1):
        value = [value]
    return value


def test_depth_counts_objects_and_arrays_without_recursing() -> None:
    assert within_depth({}, 1)
    assert within_depth("text", 0)
    assert not within_depth({"a": {}}, 1)
    assert within_depth(_nested(64), 64)
    assert not within_depth(_nested(65), 64)
    assert not within_depth(_nested(100_000), 64)  # deeper than Python could recurse
    assert within_depth({"a": [1, {"b": [2]}], "c": "d"}, 4)
    assert not within_depth({"a": [1, {"b": [2]}], "c": "d"}, 3)


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        (b"[" * 100_000, "application/json"),
        (b'{"a":' * 100_000, "application/json"),
        (urlencode({"payload": "[" * 100_000}).encode(), FORM),
        (urlencode({"payload": json.dumps({**ACTION, "x": _nested(64)})}).encode(), FORM),
        (json.dumps({**EVENT, "x": _nested(64)}).encode(), "application/json"),
    ],
)
def test_bodies_nested_too_deep_are_refused_without_raising(raw: bytes, content_type: str) -> None:
    assert parsed_body(raw, content_type) is None


def test_bodies_nested_up_to_the_limit_are_taken() -> None:
    # The event itself is one level, so 63 more levels make 64.
    raw = json.dumps({**EVENT, "x": _nested(MAX_JSON_DEPTH - 1)}).encode()
    assert parsed_body(raw, "application/json") is not None
