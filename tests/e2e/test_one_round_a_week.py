"""One round a week, whoever sends it (issue 13): an ad hoc `/cx pulse` is the week's round, so
the scheduled job sends nothing more that week; `/cx pulse` says what it will do and only its
Send button sends; App Home shows the pulse still open, and a next pulse that really comes.

Over real HTTP against the emulator; the scheduled side is the scheduler's own job function
(`bot.jobs.scheduled_pulse`) on a manual clock, as in test_local_time_delivery.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from bot.clock import ManualClock
from bot.db.models import PulseRound, RoundKind
from bot.jobs import scheduled_pulse
from bot.render.ids import ActionId, BlockId
from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.harness import ServedBot
from bot.sandbox.people import (
    answer_pulse_question,
    ask_to_pulse_now,
    click_score,
    latest_dm,
    question_ids,
    wait_for,
)
from bot.services.context import Deps
from tests.e2e.conftest import ADMIN, Org, answers, ephemeral_texts, sandbox_env

MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # W48; the default pulse is Tuesday 10:00
TUESDAY_TEN = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # London is on UTC in November
NEXT_TUESDAY_TEN = TUESDAY_TEN + timedelta(weeks=1)


@pytest.fixture(autouse=True)
def job_environment(
    monkeypatch: pytest.MonkeyPatch, emulator: SlackEmulator, database_url: str
) -> None:
    """The scheduled job reads its settings from the environment, as under the scheduler."""
    for name, value in sandbox_env(emulator, database_url).items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def monday(clock: ManualClock) -> ManualClock:
    clock.set(MONDAY)
    return clock


def _shown(message: dict[str, Any]) -> str:
    """What the person reads in a reply: its text and every section."""
    parts = [message.get("text") or ""]
    for block in message.get("blocks") or []:
        text = block.get("text")
        if isinstance(text, dict):
            parts.append(text.get("text", ""))
    return "\n".join(parts)


def _buttons(message: dict[str, Any]) -> list[str]:
    return [
        element["action_id"]
        for block in message.get("blocks") or []
        if block.get("type") == "actions"
        for element in block["elements"]
    ]


def _rounds(deps: Deps) -> list[PulseRound]:
    with Session(deps.engine) as session:
        return list(session.exec(select(PulseRound).order_by(PulseRound.sequence)).all())


def _dms(emulator: SlackEmulator, org: Org) -> Counter[int]:
    """How many people have how many pulse DMs."""
    return Counter(len(emulator.messages(emulator.dm_channel(u))) for u in org.participants)


def _the_job_runs_through(clock: ManualClock, until: datetime) -> None:
    """The pulse job's runs every five minutes, from just before `until` to half an hour on."""
    moment = until - timedelta(minutes=10)
    while moment <= until + timedelta(minutes=30):
        clock.set(moment)
        scheduled_pulse(clock=clock)
        moment += timedelta(minutes=5)


def test_an_ad_hoc_round_is_the_weeks_round_and_the_scheduled_job_sends_nothing_more(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps, monday: ManualClock
) -> None:
    question = ask_to_pulse_now(emulator, ADMIN)
    shown = _shown(question)
    # It says what will happen: which week, how many people, and that the scheduled one goes.
    assert "Send a pulse round now?" in shown
    assert "week 2026-W48's round: 18 people get the pulse" in shown
    assert "open 5 days, until Sat 28 Nov, 09:00 (Europe/London)" in shown
    assert "the scheduled round (Tue 24 Nov, 10:00 (Europe/London), on each person's" in shown
    assert "will be skipped" in shown
    assert "the next scheduled round is Tue 1 Dec, 10:00 (Europe/London)" in shown
    assert _buttons(question) == [ActionId.PULSE_NOW_CONFIRM, ActionId.PULSE_NOW_CANCEL]
    assert emulator.calls("chat.postMessage") == []  # asking sends nothing
    assert _rounds(deps) == []

    answer_pulse_question(emulator, ADMIN, question, send=True)
    done = wait_for(lambda: [t for t in ephemeral_texts(emulator) if "sent to 18 people" in t])
    assert "It is week 2026-W48's round: no scheduled round goes out this week." in done[0]
    assert _dms(emulator, org) == Counter({1: len(org.participants)})

    # The week's scheduled time comes and goes: nobody is asked a second time.
    _the_job_runs_through(monday, TUESDAY_TEN)
    assert _dms(emulator, org) == Counter({1: len(org.participants)})
    assert [(r.period, r.kind) for r in _rounds(deps)] == [("2026-W48", RoundKind.ADHOC)]

    # Next week the schedule takes over again.
    _the_job_runs_through(monday, NEXT_TUESDAY_TEN)
    assert _dms(emulator, org) == Counter({2: len(org.participants)})
    assert [(r.period, r.kind) for r in _rounds(deps)] == [
        ("2026-W48", RoundKind.ADHOC),
        ("2026-W49", RoundKind.SCHEDULED),
    ]


def test_dont_send_sends_nothing_and_the_scheduled_round_goes_out_as_planned(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps, monday: ManualClock
) -> None:
    question = ask_to_pulse_now(emulator, ADMIN)
    answer_pulse_question(emulator, ADMIN, question, send=False)
    wait_for(lambda: "Nothing was sent." in ephemeral_texts(emulator))
    reply = emulator.responses()[-1]
    assert reply["replace_original"] is True  # the buttons are gone
    assert emulator.calls("chat.postMessage") == []
    assert _rounds(deps) == []

    _the_job_runs_through(monday, TUESDAY_TEN)
    assert _dms(emulator, org) == Counter({1: len(org.participants)})
    assert [r.kind for r in _rounds(deps)] == [RoundKind.SCHEDULED]


def test_a_week_that_had_its_round_refuses_another_and_says_what_ran(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps, monday: ManualClock
) -> None:
    _the_job_runs_through(monday, TUESDAY_TEN)
    monday.set(TUESDAY_TEN + timedelta(days=1))
    refusal = ask_to_pulse_now(emulator, ADMIN)
    shown = _shown(refusal)
    assert "Nothing was sent: week 2026-W48 already has its round" in shown
    assert (
        "The scheduled round went out Tue 24 Nov, 10:00 (Europe/London) to 18 people and is "
        "open until Sun 29 Nov, 10:00 (Europe/London)."
    ) in shown
    assert "nobody is asked twice in the same week" in shown
    assert "The next scheduled round is Tue 1 Dec, 10:00 (Europe/London)." in shown
    assert _buttons(refusal) == []  # nothing to confirm
    assert _dms(emulator, org) == Counter({1: len(org.participants)})

    # After it closed, the refusal says so.
    monday.set(TUESDAY_TEN + timedelta(days=5, hours=1))
    closed = _shown(ask_to_pulse_now(emulator, ADMIN))
    assert "already had its round" in closed
    assert "and closed Sun 29 Nov, 10:00 (Europe/London)" in closed
    assert len(_rounds(deps)) == 1


def test_a_scheduled_round_still_going_out_is_told_as_such(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps, monday: ManualClock
) -> None:
    emulator.add_user("UTOKYO", "tokyo", tz="Asia/Tokyo")  # Tuesday 10:00 there is 01:00 UTC
    _the_job_runs_through(monday, datetime(2026, 11, 24, 1, 0, tzinfo=UTC))
    shown = _shown(ask_to_pulse_now(emulator, ADMIN))
    assert "The scheduled round is going out now: 1 of 19 people have it so far" in shown
    assert len(_rounds(deps)) == 1


def test_a_double_click_or_a_late_click_sends_no_second_round(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps, monday: ManualClock
) -> None:
    question = ask_to_pulse_now(emulator, ADMIN)
    answer_pulse_question(emulator, ADMIN, question, send=True)
    wait_for(lambda: any("sent to 18 people" in t for t in ephemeral_texts(emulator)))
    answer_pulse_question(emulator, ADMIN, question, send=True)  # the same button again
    again = wait_for(lambda: [t for t in ephemeral_texts(emulator) if "Nothing more" in t])
    assert "week 2026-W48 already has its round (sent Mon 23 Nov, 09:00" in again[0]
    assert "to 18 people" in again[0]
    assert _dms(emulator, org) == Counter({1: len(org.participants)})


def test_a_question_asked_in_one_week_and_answered_in_the_next_sends_nothing(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps, clock: ManualClock
) -> None:
    clock.set(MONDAY - timedelta(hours=10))  # Sunday evening, W47
    question = ask_to_pulse_now(emulator, ADMIN)
    assert "week 2026-W47's round" in _shown(question)
    clock.set(MONDAY)  # the click comes on Monday morning, in W48
    answer_pulse_question(emulator, ADMIN, question, send=True)
    over = wait_for(lambda: [t for t in ephemeral_texts(emulator) if "which is over" in t])
    assert "Nothing was sent: that question was about week 2026-W47" in over[0]
    assert emulator.calls("chat.postMessage") == []
    assert _rounds(deps) == []


def test_only_an_admin_can_send_from_the_question(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps, monday: ManualClock
) -> None:
    question = ask_to_pulse_now(emulator, ADMIN)
    value = question["blocks"][-1]["elements"][0]["value"]
    leader = org.leaders[0]
    sent = emulator.click_button(  # a payload forged with the admin's question in it
        leader,
        channel_id=question["channel"],
        message_ts=question["message_ts"],
        action_id=ActionId.PULSE_NOW_CONFIRM,
        block_id=BlockId.PULSE_NOW,
        value=value,
    )
    assert sent.status == 200
    wait_for(lambda: any("only for cx-pulse admins" in t for t in ephemeral_texts(emulator)))
    assert emulator.calls("chat.postMessage") == []
    assert _rounds(deps) == []


def test_the_question_tells_when_the_scheduled_time_has_passed_or_pulses_are_paused(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps, monday: ManualClock
) -> None:
    monday.set(TUESDAY_TEN + timedelta(days=2))  # Thursday: the scheduler was down on Tuesday
    shown = _shown(ask_to_pulse_now(emulator, ADMIN))
    assert "This week's scheduled time (Tue 24 Nov, 10:00 (Europe/London)) has passed" in shown
    assert "so nothing is skipped" in shown

    from bot.services.admin_settings import change_settings

    change_settings(deps, admin=ADMIN, changes={"paused": True})
    paused = ask_to_pulse_now(emulator, ADMIN)
    assert "Scheduled pulses are paused, so no other round goes out this week" in _shown(paused)
    assert "an admin can resume them" in _shown(paused)
    assert _buttons(paused) == [ActionId.PULSE_NOW_CONFIRM, ActionId.PULSE_NOW_CANCEL]


def _home(emulator: SlackEmulator, user: str, after: dict[str, Any] | None = None) -> str:
    before = (after or {}).get("hash")
    assert emulator.open_home(user).status == 200
    view = wait_for(
        lambda: (v := emulator.home_view(user)) is not None and v["hash"] != before and v
    )
    return _shown({"blocks": view["blocks"]})


def test_app_home_shows_the_open_pulse_until_it_closes_and_the_next_one_that_comes(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps, monday: ManualClock
) -> None:
    person = org.teams["alpha"][2]
    before = _home(emulator, person)
    assert "Your next pulse:* Tue 24 Nov, 10:00 (Europe/London)" in before
    assert "is open" not in before

    answer_pulse_question(emulator, ADMIN, ask_to_pulse_now(emulator, ADMIN), send=True)
    wait_for(lambda: any("sent to 18 people" in t for t in ephemeral_texts(emulator)))
    now_open = _home(emulator, person, after=emulator.home_view(person))
    assert "*Your pulse for 2026-W48 is open* until Sat 28 Nov, 09:00 (Europe/London)" in now_open
    # This week's scheduled pulse was skipped: the next one is next week's.
    assert "Your next pulse:* Tue 1 Dec, 10:00 (Europe/London)" in now_open

    asked = question_ids(latest_dm(emulator, person))
    for question in asked:
        click_score(emulator, person, question, 4)
    wait_for(lambda: len(answers(deps)) == len(asked))
    answered = _home(emulator, person, after=emulator.home_view(person))
    assert "*You answered the pulse for 2026-W48* - thank you" in answered
    assert "until Sat 28 Nov, 09:00 (Europe/London)" in answered

    monday.set(datetime(2026, 11, 28, 9, 0, tzinfo=UTC))  # it closes
    closed = _home(emulator, person, after=emulator.home_view(person))
    assert "2026-W48" not in closed.split("Your next pulse")[0]
    assert "Your next pulse:* Tue 1 Dec, 10:00 (Europe/London)" in closed


def test_app_home_of_someone_still_waiting_for_a_scheduled_round_shows_their_own_time(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps, monday: ManualClock
) -> None:
    tokyo = "UTOKYO"
    emulator.add_user(tokyo, "tokyo", tz="Asia/Tokyo")
    _the_job_runs_through(monday, datetime(2026, 11, 24, 1, 0, tzinfo=UTC))  # Tokyo's 10:00
    london = _home(emulator, org.teams["beta"][1])
    assert "is open" not in london  # not in their DMs yet
    assert "Your next pulse:* Tue 24 Nov, 10:00 (Europe/London)" in london  # this week's
    far_east = _home(emulator, tokyo)
    assert "*Your pulse for 2026-W48 is open* until Sun 29 Nov, 19:00 (Asia/Tokyo)" in far_east
    assert "Your next pulse:* Tue 1 Dec, 10:00 (Asia/Tokyo)" in far_east
