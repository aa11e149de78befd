"""Reminders (one, a day before closing, only to people who answered nothing) and `/cx act`."""

from __future__ import annotations

import json
from datetime import timedelta

from bot.clock import ManualClock
from bot.db.models import RoundKind
from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.harness import ServedBot
from bot.sandbox.people import answered_in, click_score, latest_dm, question_ids, wait_for
from bot.services.context import Deps
from bot.services.reminders import send_reminders
from bot.services.rounds import send_round
from tests.e2e.conftest import Org, answers, ephemeral_texts


def _dm_count(emulator: SlackEmulator, user: str) -> int:
    return len(emulator.messages(emulator.dm_channel(user)))


def test_one_reminder_a_day_before_closing_only_to_people_who_answered_nothing(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps, clock: ManualClock
) -> None:
    send_round(deps, bot.gateway, kind=RoundKind.ADHOC)  # Tuesday 10:00, closes Sunday 10:00
    full, partial = org.teams["alpha"][1], org.teams["alpha"][2]
    for question in question_ids(latest_dm(emulator, full)):
        click_score(emulator, full, question, 4)
    click_score(emulator, partial, question_ids(latest_dm(emulator, partial))[0], 2)
    expected = len(question_ids(latest_dm(emulator, full))) + 1
    wait_for(lambda: len(answers(deps)) == expected)

    clock.advance(timedelta(days=3, hours=23))  # Saturday 09:00: 25 hours left, too early
    assert send_reminders(deps, bot.gateway) == 0
    clock.advance(timedelta(hours=2))  # Saturday 11:00
    silent = [u for u in org.participants if u not in (full, partial)]
    assert send_reminders(deps, bot.gateway) == len(silent)
    for user in silent:
        assert _dm_count(emulator, user) == 2
        assert "only reminder" in emulator.messages(emulator.dm_channel(user))[-1]["text"]
    assert _dm_count(emulator, full) == 1
    assert _dm_count(emulator, partial) == 1

    # Never a second one: not in the next hour, not on the last morning.
    clock.advance(timedelta(hours=1))
    assert send_reminders(deps, bot.gateway) == 0
    clock.advance(timedelta(hours=20))
    assert send_reminders(deps, bot.gateway) == 0
    assert all(_dm_count(emulator, user) == 2 for user in silent)


def test_leaders_record_an_action_and_the_next_pulse_opens_with_it(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps, clock: ManualClock
) -> None:
    leader = org.leaders[0]
    emulator.send_slash_command(
        leader, "act empowerment Refunds up to $200 need no approval now <!channel>"
    )
    wait_for(lambda: any("Recorded for *Empowerment*" in t for t in ephemeral_texts(emulator)))
    emulator.send_slash_command(leader, "act empowerment")
    wait_for(lambda: any("Tell me the dimension" in t for t in ephemeral_texts(emulator)))
    emulator.send_slash_command(leader, "act vibes Free snacks")
    wait_for(
        lambda: any("I don't know the dimension `vibes`" in t for t in ephemeral_texts(emulator))
    )

    clock.advance(timedelta(hours=1))
    send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
    user = org.teams["beta"][2]
    dm = latest_dm(emulator, user)
    opening = json.dumps(dm["blocks"][:2])
    assert "You told us, here is what we are doing" in opening
    assert "*Empowerment*: Refunds up to $200 need no approval now &lt;!channel&gt;" in opening
    assert "<!channel>" not in json.dumps(dm["blocks"])

    # Answering updates the DM in place; the opening stays.
    click_score(emulator, user, question_ids(dm)[0], 5)
    wait_for(lambda: answered_in(latest_dm(emulator, user)) == question_ids(dm)[:1])
    assert "You told us" in json.dumps(latest_dm(emulator, user)["blocks"][:2])

    # The round after that has nothing new to say.
    clock.advance(timedelta(days=7))
    send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
    assert "You told us" not in json.dumps(latest_dm(emulator, user)["blocks"])
