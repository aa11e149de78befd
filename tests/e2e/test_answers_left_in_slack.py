"""Attack 9 of issue 12, answers left in Slack: whoever can export the workspace's messages
(Slack's compliance exports of direct messages) must not read anyone's answer there.

The pulse DM says only that a statement was answered, the same whichever button was clicked;
the person sees their choice in an ephemeral confirmation, which Slack never stores. Everything
runs over real HTTP: signed clicks into the served bot, Web API calls into the emulator.
"""

from __future__ import annotations

import json
from typing import Any

from bot.db.models import RoundKind
from bot.render.escape import escape_text
from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.harness import ServedBot
from bot.sandbox.people import (
    answered_in,
    click_score,
    confirmations,
    confirmed,
    latest_dm,
    open_comment_modal,
    question_ids,
    submit_comment,
    wait_for,
)
from bot.services.context import Deps
from bot.services.rounds import send_round
from tests.e2e.conftest import Org, answers


def _prose(message: dict[str, Any]) -> str:
    """What a stored message (or an earlier version of it) says outside its buttons: the
    buttons carry the scale's labels, the same five in everyone's DM."""
    blocks = [b for b in message.get("blocks") or [] if b.get("type") != "actions"]
    return json.dumps([message.get("text"), blocks], ensure_ascii=False)


def _labels(deps: Deps) -> list[str]:
    return [point.label for point in deps.prompts.bank.scale]


def test_answers_left_in_slack_a_dm_reads_the_same_whatever_was_chosen(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps
) -> None:
    send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
    changer, other = org.teams["alpha"][1], org.teams["beta"][1]
    question = question_ids(latest_dm(emulator, changer))[0]
    label = deps.prompts.bank.label

    # One person clicks 2, then changes it to 4; another clicks 5 on the same statement.
    assert click_score(emulator, changer, question, 2).status == 200
    wait_for(lambda: f"*{label(2)}*" in confirmed(emulator, changer).get(question, ""))
    assert click_score(emulator, changer, question, 4).status == 200
    assert click_score(emulator, other, question, 5).status == 200
    wait_for(lambda: sorted(a.score for a in answers(deps)) == [4, 5])
    wait_for(lambda: f"*{label(4)}*" in confirmed(emulator, changer).get(question, ""))
    wait_for(lambda: f"*{label(5)}*" in confirmed(emulator, other).get(question, ""))

    # Both DMs say the statement is answered, and nothing else: no label, no highlighted
    # button, and the very same blocks for a 4 as for a 5.
    mine, theirs = latest_dm(emulator, changer), latest_dm(emulator, other)
    assert answered_in(mine) == answered_in(theirs) == [question]
    assert "primary" not in json.dumps(mine["blocks"])
    assert not any(text in _prose(mine) for text in _labels(deps))
    assert (mine["text"], mine["blocks"]) == (theirs["text"], theirs["blocks"])

    # The person who changed their mind was shown the latest choice, privately, in their DM.
    statement = escape_text(deps.prompts.statement(question, ""))
    latest = confirmations(emulator, changer)[-1]
    assert f"Recorded: *{label(4)}* for “{statement}”" in latest["text"]
    assert f"*{label(2)}*" not in latest["text"]
    assert latest["channel"] == emulator.dm_channel(changer)
    calls = emulator.calls("chat.postEphemeral")
    assert {(c.params["user"], c.params["channel"]) for c in calls} == {
        (changer, emulator.dm_channel(changer)),
        (other, emulator.dm_channel(other)),
    }
    assert confirmations(emulator, org.teams["alpha"][2]) == []  # nobody else is told


def test_answers_left_in_slack_an_export_of_every_message_holds_no_answer(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps
) -> None:
    send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
    people = org.participants[:8]
    expected = 0
    for n, user in enumerate(people):
        for i, question in enumerate(question_ids(latest_dm(emulator, user))):
            assert click_score(emulator, user, question, (n + i) % 5 + 1).status == 200
            expected += 1
    wait_for(lambda: len(answers(deps)) == expected)
    writer = people[0]
    first = question_ids(latest_dm(emulator, writer))[0]
    submit_comment(emulator, writer, open_comment_modal(emulator, writer), first, "Too slow.")
    wait_for(lambda: "Comment saved" in confirmed(emulator, writer).get(first, ""))
    asked = question_ids(latest_dm(emulator, people[0]))

    def settled() -> bool:  # every refresh has landed: each DM ticks all its statements
        return all(
            answered_in(latest_dm(emulator, user)) == asked
            and len(confirmed(emulator, user)) == len(asked)
            for user in people
        )

    wait_for(settled)

    # Everything Slack stores, every channel and DM, with every earlier version of each edit.
    labels = _labels(deps)
    exported = emulator.export()
    assert any(m["edits"] for m in exported)  # the DMs were edited: their history is in it
    for version in [*exported, *(v for m in exported for v in m["edits"])]:
        shown = _prose(version)
        assert not any(text in shown for text in labels), shown
        assert "Comment saved" not in shown
        assert "Too slow" not in shown
    # The answered DMs are all alike, whatever each person chose and whoever commented.
    dms = {emulator.dm_channel(user) for user in people}
    assert len({json.dumps(m["blocks"]) for m in exported if m["channel"] in dms}) == 1
    # The choices were shown, but only where Slack keeps nothing.
    for user in people:
        lines = confirmed(emulator, user).values()
        assert all(any(f"*{text}*" in line for text in labels) for line in lines)


def test_the_confirmation_waits_out_a_rate_limit_and_survives_a_failed_dm_edit(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps
) -> None:
    send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
    user = org.teams["alpha"][3]
    first, second = question_ids(latest_dm(emulator, user))[:2]

    # Slack answers the confirmation with a 429: the gateway waits out Retry-After and sends
    # it again; the click itself was acked at once.
    emulator.fail_next("chat.postEphemeral", retry_after=1)
    assert click_score(emulator, user, first, 3).status == 200
    wait_for(lambda: "*Neutral*" in confirmed(emulator, user).get(first, ""))
    statuses = [c.status for c in emulator.calls("chat.postEphemeral")]
    assert statuses == [429, 200]

    # The DM edit fails for good: the person is still told what they chose.
    emulator.fail_next("chat.update", error="cant_update_message", status=200)
    assert click_score(emulator, user, second, 1).status == 200
    wait_for(lambda: "*Strongly disagree*" in confirmed(emulator, user).get(second, ""))
    assert answered_in(latest_dm(emulator, user)) == [first]  # the edit did not land


def test_a_changed_mind_is_confirmed_without_editing_the_dm_again(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps
) -> None:
    """The DM only says which statements are answered, so clicking another score on one already
    answered leaves it as it is: the refresh confirms the new choice and skips `chat.update`."""
    send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
    person = org.teams["alpha"][1]
    channel = emulator.dm_channel(person)
    first, second = question_ids(latest_dm(emulator, person))[:2]
    label = deps.prompts.bank.label

    def edits() -> int:
        return sum(1 for c in emulator.calls("chat.update") if c.params["channel"] == channel)

    assert click_score(emulator, person, first, 2).status == 200
    wait_for(lambda: f"*{label(2)}*" in confirmed(emulator, person).get(first, ""))
    assert edits() == 1
    assert answered_in(latest_dm(emulator, person)) == [first]

    for score in (4, 1, 5):  # a changed mind, three times: confirmed each time, never re-edited
        assert click_score(emulator, person, first, score).status == 200
        wait_for(lambda score=score: f"*{label(score)}*" in confirmed(emulator, person)[first])
    assert edits() == 1

    # A newly answered statement changes what the DM says: it is edited again.
    assert click_score(emulator, person, second, 3).status == 200
    wait_for(lambda: f"*{label(3)}*" in confirmed(emulator, person).get(second, ""))
    assert edits() == 2
    assert answered_in(latest_dm(emulator, person)) == [first, second]
