"""Forged requests, roles, malformed-but-signed payloads, echoed user text and the rules the
copy states, over real HTTP."""

from __future__ import annotations

import json
import time

import pytest

from bot.clock import ManualClock
from bot.db.models import RoundKind
from bot.pseudonym import pseudonym
from bot.runtime import build_deps
from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.harness import ServedBot
from bot.sandbox.people import click_score, latest_dm, open_comment_modal, question_ids, wait_for
from bot.services.context import Deps
from bot.services.rounds import send_round
from tests.e2e.conftest import (
    ADMIN,
    PSEUDONYM_KEY,
    Org,
    answers,
    ephemeral_texts,
    make_settings,
    member,
)


def test_forged_signature_is_rejected_and_writes_nothing(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps
) -> None:
    user = org.teams["alpha"][2]
    sent = emulator.send_slash_command(user, "optout", signing_secret="not-the-secret")
    assert sent.status == 401
    time.sleep(0.3)
    assert member(deps, user) is None
    assert emulator.responses() == []


def test_stale_signature_is_rejected(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps
) -> None:
    send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
    user = org.teams["alpha"][2]
    question = question_ids(latest_dm(emulator, user))[0]
    sent = click_score(emulator, user, question, 5, timestamp=int(time.time()) - 6 * 60)
    assert sent.status == 401
    time.sleep(0.3)
    assert answers(deps) == []


@pytest.mark.parametrize(
    ("command", "refusal"),
    [("pulse", "only for cx-pulse admins"), ("digest", "only for leaders and cx-pulse admins")],
)
def test_roles_are_enforced_politely(
    bot: ServedBot, emulator: SlackEmulator, org: Org, command: str, refusal: str
) -> None:
    emulator.send_slash_command(org.teams["beta"][3], command)
    texts = wait_for(lambda: ephemeral_texts(emulator))
    assert refusal in texts[0]
    assert emulator.calls("chat.postMessage") == []


def test_leader_may_preview_but_not_send(bot: ServedBot, emulator: SlackEmulator, org: Org) -> None:
    emulator.send_slash_command(org.leaders[0], "pulse")
    assert "only for cx-pulse admins" in wait_for(lambda: ephemeral_texts(emulator))[0]
    emulator.send_slash_command(org.leaders[0], "digest")
    # No week published yet: a clear explanation rather than an empty digest.
    wait_for(lambda: any("No week has been published yet" in t for t in ephemeral_texts(emulator)))


def test_unknown_command_and_unknown_dimension(
    bot: ServedBot, emulator: SlackEmulator, org: Org
) -> None:
    emulator.send_slash_command(ADMIN, "launch-rockets")
    wait_for(
        lambda: any("I don't know `/cx launch-rockets`" in t for t in ephemeral_texts(emulator))
    )
    emulator.send_slash_command(ADMIN, "score vibes")
    wait_for(
        lambda: any("I don't know the dimension `vibes`" in t for t in ephemeral_texts(emulator))
    )


def test_help_and_empty_score(bot: ServedBot, emulator: SlackEmulator, org: Org) -> None:
    emulator.send_slash_command(org.teams["gamma"][0], "")
    help_text = wait_for(lambda: ephemeral_texts(emulator))[0]
    assert "/cx score" in help_text
    assert "/cx optout" in help_text
    emulator.send_slash_command(org.teams["gamma"][0], "score")
    wait_for(lambda: any("No week has been published yet" in t for t in ephemeral_texts(emulator)))


@pytest.mark.parametrize(
    "value",
    ["", "garbage", "999|nope|3", "1|empowerment.x|9", "1|" + "x" * 500 + "|3"],
)
def test_malformed_clicks_get_a_polite_answer_and_write_nothing(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps, value: str
) -> None:
    send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
    user = org.teams["alpha"][4]
    dm = latest_dm(emulator, user)
    sent = emulator.click_button(
        user,
        channel_id=emulator.dm_channel(user),
        message_ts=dm["ts"],
        action_id="answer:3",
        block_id="q:whatever",
        value=value,
    )
    assert sent.status == 200
    texts = wait_for(lambda: ephemeral_texts(emulator))
    assert "couldn't read that" in texts[0] or "isn't part of this pulse" in texts[0]
    assert answers(deps) == []


def test_click_from_someone_not_invited(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps
) -> None:
    send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
    owner = org.teams["alpha"][1]
    dm = latest_dm(emulator, owner)
    block = next(b for b in dm["blocks"] if b.get("block_id", "").startswith("q:"))
    button = block["elements"][0]
    emulator.click_button(
        "UBOTHELPER",
        channel_id=emulator.dm_channel(owner),
        message_ts=dm["ts"],
        action_id=button["action_id"],
        block_id=block["block_id"],
        value=button["value"],
    )
    assert "wasn't sent to you" in wait_for(lambda: ephemeral_texts(emulator))[0]
    assert answers(deps) == []


def test_signed_garbage_bodies_never_get_a_500(bot: ServedBot, emulator: SlackEmulator) -> None:
    bodies = [
        "payload=not-json",
        "payload=" + json.dumps({"type": "block_actions"}),
        "payload="
        + json.dumps({"type": "view_submission", "view": {"callback_id": "comment_modal"}}),
        "payload=" + json.dumps({"type": "block_actions", "actions": [{"action_id": "answer:3"}]}),
        "command=/cx&text=score",
        "\xff\xfe garbage",
        "",
    ]
    for body in bodies:
        sent = emulator.post_signed(body)
        assert sent.status < 500, (body, sent.status, sent.body)
        forged = emulator.post_signed(body, signing_secret="forged")
        assert forged.status == 401, (body, forged.status, forged.body)


def test_logs_never_carry_scores_or_secrets(
    bot: ServedBot,
    emulator: SlackEmulator,
    org: Org,
    deps: Deps,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # INFO is the production level; slack_sdk's DEBUG logs whole message bodies, which is why
    # the CLI pins slack_sdk to WARNING even with --verbose.
    caplog.set_level("INFO")
    send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
    user = org.teams["alpha"][1]
    dm = latest_dm(emulator, user)
    question = question_ids(dm)[0]
    click_score(emulator, user, question, 4)
    wait_for(lambda: len(answers(deps)) == 1)
    # An action id no listener handles makes Bolt log the request's ids.
    emulator.click_button(
        user,
        channel_id=emulator.dm_channel(user),
        message_ts=dm["ts"],
        action_id="answer:4x",
        block_id=f"q:{question}",
        value=f"1|{question}|4",
    )
    time.sleep(0.3)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "Unhandled request" in logged
    assert "answer:4" not in logged
    assert f"|{question}|4" not in logged
    assert "xoxb-test-token" not in logged
    assert "test-signing-secret" not in logged


def test_answers_name_a_keyed_pseudonym_not_the_person(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps
) -> None:
    send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
    user = org.teams["alpha"][1]
    question = question_ids(latest_dm(emulator, user))[0]
    assert click_score(emulator, user, question, 4).status == 200
    stored = wait_for(lambda: answers(deps))[0]
    assert stored.respondent == pseudonym(PSEUDONYM_KEY.encode(), user)
    assert stored.respondent != pseudonym(b"some-other-key-000000", user)
    # Nothing in the row points at the person or at their delivery.
    assert user not in json.dumps(stored.model_dump(mode="json"))
    assert not {"delivery_id", "member_id"} & set(stored.model_dump())


ROLE_USERS = {"member": ("beta", 3), "leader": ("alpha", 0)}
COMMAND_AUDIENCE = {
    "help": "everyone",
    "score": "everyone",
    "optout": "everyone",
    "optin": "everyone",
    "forget-me": "everyone",
    "digest": "leaders",
    "pulse": "admins",
    "act": "leaders",
    "trend": "everyone",
    "team": "team_leads",  # leaders and admins, and team leads for their own team
    "gaps": "leaders",
}
WHO = {
    "admins": "cx-pulse admins",
    "leaders": "leaders and cx-pulse admins",
    "team_leads": "leaders, team leads (for their own team) and cx-pulse admins",
}


@pytest.mark.parametrize("role", ["member", "leader", "admin"])
@pytest.mark.parametrize("command", sorted(COMMAND_AUDIENCE))
def test_every_command_for_every_role(
    bot: ServedBot, emulator: SlackEmulator, org: Org, command: str, role: str
) -> None:
    if role == "admin":
        user = ADMIN
    else:
        team, index = ROLE_USERS[role]
        user = org.teams[team][index]
    audience = COMMAND_AUDIENCE[command]
    allowed = (
        audience == "everyone"
        or role == "admin"
        or (audience in {"leaders", "team_leads"} and role == "leader")
    )
    assert emulator.send_slash_command(user, command).status == 200
    if command == "act" and allowed:
        # `/cx act` alone opens the commitment modal (a private view) instead of replying.
        opened = wait_for(lambda: list(emulator.views().values()))
        assert opened[0]["callback_id"] == "commitment_modal"
        return
    first = wait_for(lambda: ephemeral_texts(emulator))[0]
    refused = "is only for" in first
    assert refused is not allowed, first
    if refused:
        assert f"`/cx {command}` is only for {WHO[audience]}" in first
        time.sleep(0.2)
        assert emulator.calls("chat.postMessage") == []
    # Every reply is ephemeral: nothing is ever posted in a channel on someone's behalf.
    assert all(r.get("response_type") == "ephemeral" for r in emulator.responses())


@pytest.mark.parametrize(
    ("typed", "echoed", "live"),
    [
        ("<!channel>", "I don't know `/cx &lt;!channel&gt;`", "<!channel>"),
        ("<!here|here>", "I don't know `/cx &lt;!here|here&gt;`", "<!here"),
        # Sub-commands are matched in lower case, so that is how they come back.
        ("<@U123>", "I don't know `/cx &lt;@u123&gt;`", "<@u123>"),
        ("score <https://x|y>", "the dimension `&lt;https://x|y&gt;`", "<https://x|y>"),
        ("score <https://evil|click>", "the dimension `&lt;https://evil|click&gt;`", "<https"),
        ("trend <#C0LEADERS>", "the dimension `&lt;#c0leaders&gt;`", "<#c0leaders>"),
        ("score fish&chips", "the dimension `fish&amp;chips`", "fish&chips"),
    ],
)
def test_user_text_in_error_replies_comes_back_escaped(
    bot: ServedBot, emulator: SlackEmulator, org: Org, typed: str, echoed: str, live: str
) -> None:
    assert emulator.send_slash_command(org.teams["beta"][3], typed).status == 200
    reply = wait_for(lambda: ephemeral_texts(emulator))[0]
    assert echoed in reply
    # Nowhere in what was sent back (text or blocks) is the typed markup live.
    assert live not in json.dumps(emulator.responses())
    if "dimension" in echoed:
        # The list of known dimensions is the bot's own copy: its code spans stay as they are.
        assert "Try one of: `" in reply
        assert "`empowerment`" in reply


def test_long_user_text_is_cut_short_in_error_replies(
    bot: ServedBot, emulator: SlackEmulator, org: Org
) -> None:
    emulator.send_slash_command(org.teams["beta"][3], "score " + "<" * 100)
    reply = wait_for(lambda: ephemeral_texts(emulator))[0]
    assert "the dimension `" + "&lt;" * 31 + "…`" in reply
    assert "&lt;" * 32 not in reply
    emulator.send_slash_command(org.teams["beta"][3], "y" * 100)
    reply = wait_for(lambda: ephemeral_texts(emulator)[1:])[0]
    assert "I don't know `/cx " + "y" * 31 + "…`" in reply


@pytest.mark.parametrize(("extra", "minimum"), [({}, 10), ({"CX_MIN_COMMENT_GROUP_SIZE": "7"}, 7)])
def test_the_comment_modal_states_the_comment_minimum_from_settings(
    database_url: str,
    emulator: SlackEmulator,
    org: Org,
    clock: ManualClock,
    extra: dict[str, str],
    minimum: int,
) -> None:
    # Comments are shown only for weeks where at least the comment minimum answered; the
    # modal used to state the (smaller) group minimum instead.
    deps = build_deps(make_settings(emulator, database_url, **extra), clock=clock)
    try:
        with ServedBot(deps) as served:
            emulator.set_app_url(served.events_url)
            send_round(deps, served.gateway, kind=RoundKind.ADHOC)
            view = open_comment_modal(emulator, org.teams["alpha"][1])
    finally:
        deps.engine.dispose()
    assert deps.settings.min_group_size == 5
    assert view["title"]["text"] == "Confidential comment"
    intro = view["blocks"][0]["elements"][0]["text"]
    assert f"only for weeks when at least {minimum} people answered" in intro
    assert "5" not in intro
