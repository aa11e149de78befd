"""Property-based: correctly signed but malformed payloads never get a 500 or write anything."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.db.models import RoundKind
from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.harness import ServedBot
from bot.sandbox.people import latest_dm, question_ids
from bot.services.context import Deps
from bot.services.rounds import send_round
from tests.e2e.conftest import Org, answers

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
    before = [(a.id, a.score) for a in answers(deps)]
    assert _post(emulator, good) < 500
    after = [(a.id, a.score) for a in answers(deps)]
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
    assert all(a.comment is None for a in answers(deps))
