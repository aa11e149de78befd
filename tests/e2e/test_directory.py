"""Who is who, learned from the emulator over real HTTP, with pagination."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from bot.clock import ManualClock
from bot.db.models import Member, RoundKind
from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.harness import ServedBot
from bot.services.context import Deps
from bot.services.rounds import send_round
from bot.slack.gateway import PAGE_SIZE
from tests.e2e.conftest import LEADERS_CHANNEL, Org


def test_users_list_and_channel_members_are_paginated(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps
) -> None:
    extra = [f"UMANY{i:04d}" for i in range(2 * PAGE_SIZE + 37)]
    for user_id in extra:
        emulator.add_user(user_id, user_id.lower())
    leaders = [*org.leaders, *extra[: PAGE_SIZE + 5]]
    emulator.add_channel(LEADERS_CHANNEL, "leadership", leaders)

    report = send_round(deps, bot.gateway, kind=RoundKind.ADHOC)

    user_pages = emulator.calls("users.list")
    assert len(user_pages) == 3
    assert "cursor" not in user_pages[0].params
    assert all(call.params.get("cursor") for call in user_pages[1:])
    assert len(emulator.calls("conversations.members")) == 2
    assert report.sent == len(org.participants) + len(extra)
    with Session(deps.engine) as session:
        members = {m.slack_user_id: m for m in session.exec(select(Member)).all()}
    assert len(members) == len(org.participants) + len(extra)
    assert members[extra[PAGE_SIZE + 4]].is_leader
    assert not members[extra[PAGE_SIZE + 5]].is_leader
    assert members[org.teams["gamma"][1]].team == "gamma"
    assert members[extra[0]].team is None


def test_people_who_leave_stop_receiving_pulses(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps, clock: ManualClock
) -> None:
    send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
    leaver = org.teams["beta"][5]
    emulator.add_user(leaver, "left", deleted=True)
    emulator.reset_calls()
    clock.advance(timedelta(weeks=1))  # next week's round (one a week)
    report = send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
    assert report.sent == len(org.participants) - 1
    assert leaver not in {c.params["channel"] for c in emulator.calls("chat.postMessage")}
