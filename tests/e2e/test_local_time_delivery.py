"""Pulses reach each person at the configured time on their own wall clock, across zones and a
daylight saving change, while rounds stay one per organisation period (the London ISO week).

Driven by the scheduler's own job function (`bot.jobs.scheduled_pulse`) on a manual clock,
against the emulator over real HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from bot.clock import ManualClock
from bot.db.models import Answer, Delivery, PulseRound
from bot.jobs import scheduled_pulse
from bot.render.digest import is_digest
from bot.runtime import build_deps
from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.harness import ServedBot
from bot.sandbox.people import click_score, latest_dm, question_ids, wait_for
from bot.services.context import Deps
from bot.services.publishing import post_due_digest
from tests.e2e.conftest import LEADERS_CHANNEL, Org, make_settings, sandbox_env

# Tuesday 10:00 local (the default CX_PULSE_SCHEDULE) as UTC, in 2027-W12 and 2027-W13. The US
# moved to summer time on 14 March, Europe does on Sunday 28 March, between the two weeks;
# New Zealand is still on its summer time (until 4 April), so its Tuesday 10:00 is Monday
# evening in UTC and in London.
DUE = {
    "2027-W12": {
        "Pacific/Auckland": datetime(2027, 3, 22, 21, 0, tzinfo=UTC),
        "Asia/Tokyo": datetime(2027, 3, 23, 1, 0, tzinfo=UTC),
        "Europe/Berlin": datetime(2027, 3, 23, 9, 0, tzinfo=UTC),  # CET
        "Europe/London": datetime(2027, 3, 23, 10, 0, tzinfo=UTC),  # GMT
        "America/New_York": datetime(2027, 3, 23, 14, 0, tzinfo=UTC),  # EDT
    },
    "2027-W13": {
        "Pacific/Auckland": datetime(2027, 3, 29, 21, 0, tzinfo=UTC),
        "Asia/Tokyo": datetime(2027, 3, 30, 1, 0, tzinfo=UTC),
        "Europe/Berlin": datetime(2027, 3, 30, 8, 0, tzinfo=UTC),  # CEST
        "Europe/London": datetime(2027, 3, 30, 9, 0, tzinfo=UTC),  # BST
        "America/New_York": datetime(2027, 3, 30, 14, 0, tzinfo=UTC),
    },
}
TRAVELLERS = {
    "UAKL0": "Pacific/Auckland",
    "UTOK0": "Asia/Tokyo",
    "UBER0": "Europe/Berlin",
    "UBER1": "Europe/Berlin",
    "UNYC0": "America/New_York",
    "UNYC1": "America/New_York",
    "UODD0": "Atlantis/Lost_City",  # not a zone: the organisation's is used
}
DIGEST_TIMES = {  # the default Monday 09:00 in London after each round has closed
    "2027-W12": datetime(2027, 3, 29, 8, 0, tzinfo=UTC),
    "2027-W13": datetime(2027, 4, 5, 8, 0, tzinfo=UTC),
}


@pytest.fixture
def world(
    database_url: str, emulator: SlackEmulator, org: Org, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Deps, ManualClock, ServedBot, dict[str, str]]]:
    for user_id, zone in TRAVELLERS.items():
        emulator.add_user(user_id, user_id.lower(), tz=zone)
    zones = {user_id: "Europe/London" for user_id in org.participants}
    zones.update({u: z if z in DUE["2027-W12"] else "Europe/London" for u, z in TRAVELLERS.items()})
    # The job reads its settings from the environment, as under the real scheduler.
    for name, value in sandbox_env(emulator, database_url).items():
        monkeypatch.setenv(name, value)
    clock = ManualClock(datetime(2027, 3, 22, 6, 0, tzinfo=UTC))  # Monday morning of W12
    deps = build_deps(make_settings(emulator, database_url), clock=clock)
    with ServedBot(deps) as served:
        emulator.set_app_url(served.events_url)
        yield deps, clock, served, zones
    deps.engine.dispose()


def _with_dms(emulator: SlackEmulator, zones: dict[str, str], count: int) -> set[str]:
    """Who has (at least) `count` DMs; nobody may ever have more than `count`."""
    have = {u: len(emulator.messages(emulator.dm_channel(u))) for u in zones}
    assert max(have.values()) <= count, have
    return {u for u, n in have.items() if n == count}


def _due_by(zones: dict[str, str], period: str, moment: datetime) -> set[str]:
    return {u for u, zone in zones.items() if DUE[period][zone] <= moment}


def _rounds(deps: Deps) -> list[PulseRound]:
    with Session(deps.engine) as session:
        return list(session.exec(select(PulseRound).order_by(PulseRound.sequence)).all())


def _answer_everything(
    emulator: SlackEmulator, deps: Deps, users: set[str], period: str, score: int
) -> None:
    with Session(deps.engine) as session:
        before = len(session.exec(select(Answer)).all())
    clicks = 0
    for user in sorted(users):
        dm = latest_dm(emulator, user)
        assert period in dm["text"], dm["text"]
        for question in question_ids(dm):
            assert click_score(emulator, user, question, score).status == 200
            clicks += 1

    def stored() -> bool:
        with Session(deps.engine) as session:
            return len(session.exec(select(Answer)).all()) == before + clicks

    wait_for(stored, timeout=30)


def test_each_person_gets_the_pulse_at_ten_on_their_own_clock_across_a_dst_change(
    world: tuple[Deps, ManualClock, ServedBot, dict[str, str]], emulator: SlackEmulator
) -> None:
    deps, clock, served, zones = world
    run = lambda: scheduled_pulse(clock=clock)  # noqa: E731 - the job as the scheduler calls it

    run()  # Monday morning: nothing is due anywhere, and no round exists yet
    assert _rounds(deps) == []
    assert _with_dms(emulator, zones, 1) == set()

    for index, period in enumerate(DUE):
        count = index + 1
        for moment in sorted(set(DUE[period].values())):
            clock.set(moment - timedelta(minutes=5))  # the job's previous run
            run()
            assert _with_dms(emulator, zones, count) == _due_by(
                zones, period, moment - timedelta(minutes=5)
            )
            clock.set(moment)
            run()
            assert _with_dms(emulator, zones, count) == _due_by(zones, period, moment)
            rounds = _rounds(deps)
            assert [r.period for r in rounds] == list(DUE)[:count]  # one round per period
        clock.advance(timedelta(hours=2))
        run()  # a later run changes nothing
        assert _with_dms(emulator, zones, count) == set(zones)

        # The round opened with the first local due time and lasts the full length for the last.
        this_round = _rounds(deps)[index]
        assert this_round.schedule_key == period
        assert this_round.opened_at == min(DUE[period].values())
        assert this_round.closes_at == max(DUE[period].values()) + timedelta(
            days=deps.settings.round_days
        )
        with Session(deps.engine) as session:
            deliveries = session.exec(
                select(Delivery).where(Delivery.round_id == this_round.id)
            ).all()
        assert len(deliveries) == len(zones)
        assert all(d.sent_at is not None and d.sent_at >= d.due_at for d in deliveries)

        # Everyone answers; the period's digest counts all of them, whatever their zone.
        _answer_everything(emulator, deps, set(zones), period, score=4 + index % 2)
        clock.set(DIGEST_TIMES[period])
        report = post_due_digest(deps, served.gateway)
        assert report is not None
        assert report.period == period
        # Everyone was invited and answered.
        assert report.participation.invited == len(zones)
        assert report.participation.respondents == len(zones)
        assert report.participation.rate == 1.0
        with Session(deps.engine) as session:
            respondents = {
                a.respondent
                for a in session.exec(select(Answer).where(Answer.round_id == this_round.id))
            }
        assert respondents == {deps.respondent(u) for u in zones}
        digests = [m for m in emulator.messages(LEADERS_CHANNEL) if is_digest(m)]
        assert len(digests) == count
        assert period in digests[-1]["text"]
