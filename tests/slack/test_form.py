"""The C-decoding form parser gives exactly what urllib and Bolt give, for any body."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, quote, unquote, urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st
from slack_bolt.request.internals import parse_body

from bot.slack.form import parse_form, parse_slack_body, unquote_form_text

FORM = "application/x-www-form-urlencoded"
# Bodies made of the characters that matter to percent-decoding, so escapes (good, bad, cut
# short, of invalid UTF-8) turn up often, plus anything else Unicode has.
ESCAPE_ALPHABET = "%%%+&=\\aF09gxzé€\n"
escapy = st.text(alphabet=ESCAPE_ALPHABET, max_size=60)
anything = st.text(max_size=60)
encoded_bytes = st.binary(max_size=40).map(lambda raw: quote(raw, safe=""))


@given(st.one_of(escapy, anything, encoded_bytes))
def test_unquote_is_urllibs(text: str) -> None:
    assert unquote_form_text(text) == unquote(text)


@given(st.lists(st.one_of(escapy, anything, encoded_bytes), max_size=6).map("&".join))
def test_parse_form_is_parse_qsl(body: str) -> None:
    assert parse_form(body) == parse_qsl(body, keep_blank_values=True)


@given(st.dictionaries(st.text(max_size=12), st.text(max_size=40), max_size=5))
def test_round_trips_any_form(fields: dict[str, str]) -> None:
    assert dict(parse_form(urlencode(fields))) == fields


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
        max_leaves=20,
    )
)
def test_payload_is_bolts(payload: object) -> None:
    body = urlencode({"payload": json.dumps(payload)})
    assert parse_slack_body(body, FORM) == parse_body(body, FORM)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("", FORM),
        ('{"type": "event_callback"}', "application/json"),
        ('{"a": 1}', FORM),  # Bolt takes any body that starts with "{" as JSON
        ("command=%2Fcx&text=score+%3C%21channel%3E", FORM),
        ("payloadless=1&payload_x=2", FORM),  # "payload" in the body but no payload field
        ("token=a&payload=%7B%22type%22%3A%22block_actions%22%7D", FORM),
        ("a=%E2%82%AC%ZZ%e2%82", FORM),  # a good escape, a bad one, and a cut-short one
    ],
)
def test_bodies_are_parsed_as_bolt_parses_them(body: str, content_type: str) -> None:
    assert parse_slack_body(body, content_type) == parse_body(body, content_type)
