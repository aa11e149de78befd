"""The HTTP surface builds the same BoltRequest as Bolt's WSGI adapter, from one parse."""

from __future__ import annotations

import io
import json
from urllib.parse import urlencode

import pytest
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.request import BoltRequest

from bot.slack.web import bolt_request, parsed_body

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
