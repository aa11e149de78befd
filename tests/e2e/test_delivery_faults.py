"""Exactly one DM per person through rate limits, server errors, dropped links and SIGKILL."""

from __future__ import annotations

from collections import Counter

from bot.db.models import RoundKind
from bot.runtime import build_deps
from bot.sandbox.emulator import Chaos, SlackEmulator
from bot.sandbox.harness import ServedBot
from bot.services.rounds import send_round
from tests.e2e.conftest import (
    Org,
    make_settings,
)

BAD_DAY = Chaos(
    rate_limited=0.20, retry_after=0, server_errors=0.05, dropped_before=0.03, dropped_after=0.03
)


def _add_people(emulator: SlackEmulator, count: int) -> list[str]:
    people = [f"UCROWD{i:05d}" for i in range(count)]
    for user_id in people:
        emulator.add_user(user_id, user_id.lower())
    return people


def _dm_counts(emulator: SlackEmulator, people: list[str]) -> Counter[int]:
    return Counter(len(emulator.messages(emulator.dm_channel(u))) for u in people)


def test_round_to_two_thousand_under_faults_sends_exactly_one_dm_each(
    database_url: str, emulator: SlackEmulator, org: Org
) -> None:
    crowd = _add_people(emulator, 2000)
    settings = make_settings(emulator, database_url, CX_SEND_WORKERS=32)
    deps = build_deps(settings)
    emulator.set_chaos("chat.postMessage", BAD_DAY, seed=7)
    with ServedBot(deps) as bot:
        report = send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
    deps.engine.dispose()
    everyone = crowd + org.participants
    assert report.sent == len(everyone)
    assert _dm_counts(emulator, everyone) == Counter({1: len(everyone)})
    statuses = Counter(c.status for c in emulator.calls("chat.postMessage"))
    # The faults really happened: about 20% rate limited, 5% server errors, 6% dropped.
    assert statuses[429] > 300
    assert statuses[503] > 50
    assert statuses[0] > 60
