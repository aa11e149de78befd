"""Exactly one DM per person through rate limits, server errors, dropped links and SIGKILL."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from sqlmodel import Session, select

from bot.db.engine import make_engine
from bot.db.models import Delivery, DeliveryStatus, RoundKind
from bot.runtime import build_deps
from bot.sandbox.emulator import Chaos, SlackEmulator
from bot.sandbox.harness import ServedBot
from bot.services.rounds import send_round
from tests.e2e.conftest import ADMIN, LEADERS_CHANNEL, SECRET, TOKEN, Org, make_settings

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


def _run_job(env: dict[str, str]) -> subprocess.Popen[bytes]:
    code = "from bot.jobs import scheduled_pulse; scheduled_pulse()"
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", code], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def test_killed_mid_round_then_restarted_still_sends_exactly_one_dm_each(
    database_url: str, emulator: SlackEmulator, org: Org, tmp_path: Path
) -> None:
    crowd = _add_people(emulator, 300)
    everyone = crowd + org.participants
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "CX_"))}
    env.update(
        SLACK_BOT_TOKEN=TOKEN,
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=emulator.api_url,
        DATABASE_URL=database_url,
        CX_LEADERSHIP_CHANNEL=LEADERS_CHANNEL,
        CX_ADMINS=ADMIN,
        CX_SEND_RATE="30",
        CX_CLAIM_STALE_SECONDS="1",
    )
    emulator.set_chaos("chat.postMessage", Chaos(dropped_after=0.05, delay_s=0.01), seed=3)
    rng = random.Random(5)
    kills = attempts = 0
    while kills < 5 and attempts < 12:
        attempts += 1
        process = _run_job(env)
        time.sleep(rng.uniform(0.4, 1.5))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait(timeout=30)
        time.sleep(1.1)  # let the dead worker's claims go stale
    final = _run_job(env)
    _, errors = final.communicate(timeout=180)
    assert final.returncode == 0, errors.decode()[-2000:]
    assert kills >= 5
    assert _dm_counts(emulator, everyone) == Counter({1: len(everyone)})
    engine = make_engine(database_url)
    with Session(engine) as session:
        statuses = Counter(d.status for d in session.exec(select(Delivery)).all())
    engine.dispose()
    assert statuses == Counter({DeliveryStatus.SENT: len(everyone)})
