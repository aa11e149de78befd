"""The real thing on loopback: the Slack emulator, a fresh SQLite database, the served bot."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from bot.analytics.periods import WEEKDAYS
from bot.clock import ManualClock
from bot.db.models import Answer, Member
from bot.render.digest import is_digest
from bot.runtime import build_deps
from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.harness import ServedBot
from bot.sandbox.people import click_score, latest_dm, question_ids, wait_for
from bot.services.context import Deps
from bot.settings import Settings

TOKEN = "xoxb-test-token"
SECRET = "test-signing-secret"
PSEUDONYM_KEY = "test-pseudonym-key-0123456789"
LEADERS_CHANNEL = "C0LEADERS"
ADMIN = "UADMIN"
TUESDAY_TEN = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


@dataclass
class Org:
    """alpha and beta: 6 people each; gamma: 3 (below the minimum); 3 people in no team."""

    teams: dict[str, list[str]] = field(default_factory=dict)
    no_team: list[str] = field(default_factory=list)
    leaders: list[str] = field(default_factory=list)
    bots: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    @property
    def participants(self) -> list[str]:
        return [u for members in self.teams.values() for u in members] + self.no_team


def install_org(emulator: SlackEmulator) -> Org:
    org = Org()
    for prefix, size in (("alpha", 6), ("beta", 6), ("gamma", 3)):
        org.teams[prefix] = [f"U{prefix.upper()}{i}" for i in range(size)]
    org.no_team = [ADMIN, "UFREE1", "UFREE2"]
    org.leaders = [org.teams["alpha"][0], org.teams["beta"][0]]
    org.bots = ["UBOTHELPER"]
    org.deleted = ["UGONE"]
    for user_id in org.participants:
        emulator.add_user(user_id, user_id.lower(), tz="Europe/London")
    emulator.add_user("UBOTHELPER", "helper", is_bot=True)
    emulator.add_user("UGONE", "gone", deleted=True)
    for index, (team, members) in enumerate(org.teams.items()):
        emulator.add_usergroup(f"S{index}", team, team.title(), members)
    emulator.add_channel(LEADERS_CHANNEL, "leadership", [*org.leaders, ADMIN])
    return org


@pytest.fixture
def emulator() -> Iterator[SlackEmulator]:
    with SlackEmulator(bot_token=TOKEN, signing_secret=SECRET) as emu:
        yield emu


@pytest.fixture
def org(emulator: SlackEmulator) -> Org:
    return install_org(emulator)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(TUESDAY_TEN)


def sandbox_env(emulator: SlackEmulator, database_url: str) -> dict[str, str]:
    """The environment variables that point cx-pulse at the emulator and this test's database."""
    return {
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": emulator.api_url,
        "DATABASE_URL": database_url,
        "CX_LEADERSHIP_CHANNEL": LEADERS_CHANNEL,
        "CX_ADMINS": ADMIN,
        "CX_TIMEZONE": "Europe/London",
        # The emulator has no posting budget unless a test gives it one; don't wait for nothing.
        "CX_SEND_RATE": "100",
        "CX_PSEUDONYM_KEY": PSEUDONYM_KEY,
    }


def pulse_due_now() -> str:
    """A CX_PULSE_SCHEDULE that is due this minute in London (everyone's zone here), for tests
    that run the real pulse job on the real clock: its round is due at once."""
    now = datetime.now(ZoneInfo("Europe/London"))
    return f"{WEEKDAYS[now.weekday()]} {now:%H:%M}"


def process_env(emulator: SlackEmulator, database_url: str, **extra: str) -> dict[str, str]:
    """A child process's environment: ours without any SLACK_/CX_ leftovers, plus the sandbox."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "CX_"))}
    return {**clean, **sandbox_env(emulator, database_url), **extra}


def cxpulse(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run the `cxpulse` command line as its own process with exactly `env`."""
    return subprocess.run(  # noqa: S603
        [sys.executable, "-m", "bot", *args],
        env=env,
        stdin=subprocess.DEVNULL,  # no terminal, as under cron or CI: nothing can be asked
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def offline_env(database_url: str) -> dict[str, str]:
    """The environment of a command that needs the database but not Slack (import, export)."""
    return {
        "PATH": "/usr/bin:/bin",
        "DATABASE_URL": database_url,
        "CX_PSEUDONYM_KEY": PSEUDONYM_KEY,
        "CX_TIMEZONE": "UTC",
    }


def make_settings(emulator: SlackEmulator, database_url: str, **extra: Any) -> Settings:
    return Settings.model_validate({**sandbox_env(emulator, database_url), **extra})


@pytest.fixture
def deps(
    database_url: str, emulator: SlackEmulator, org: Org, clock: ManualClock
) -> Iterator[Deps]:
    built = build_deps(make_settings(emulator, database_url), clock=clock)
    yield built
    built.engine.dispose()


@pytest.fixture
def bot(deps: Deps, emulator: SlackEmulator) -> Iterator[ServedBot]:
    with ServedBot(deps) as served:
        emulator.set_app_url(served.events_url)
        yield served


def answers(deps: Deps) -> list[Answer]:
    with Session(deps.engine) as session:
        return list(session.exec(select(Answer)).all())


def comment_texts(deps: Deps) -> list[str]:
    """Every comment stored, pending or published, sorted: neither table says who wrote one."""
    with deps.engine.connect() as connection:
        pending = connection.execute(text("SELECT text FROM pending_comment")).scalars().all()
        shown = connection.execute(text("SELECT text FROM published_comment")).scalars().all()
    return sorted([*pending, *shown])


def member(deps: Deps, user_id: str) -> Member | None:
    with Session(deps.engine) as session:
        return session.exec(select(Member).where(Member.slack_user_id == user_id)).first()


def ephemeral_texts(emulator: SlackEmulator) -> list[str]:
    """Everything the bot said through response_url, flattened to text for assertions."""
    texts = []
    for response in emulator.responses():
        parts = [response.get("text") or ""]
        for block in response.get("blocks") or []:
            text = block.get("text")
            if isinstance(text, dict):
                parts.append(text.get("text", ""))
            for element in block.get("elements") or []:  # context lines (rates, footers)
                if isinstance(element, dict) and isinstance(element.get("text"), str):
                    parts.append(element["text"])
        texts.append("\n".join(parts))
    return texts


def last_digest(emulator: SlackEmulator) -> dict[str, Any]:
    """The newest digest message in the leadership channel (its chart follows as a file)."""
    digests = [m for m in emulator.messages(LEADERS_CHANNEL) if is_digest(m)]
    assert digests, "no digest was posted"
    return digests[-1]


def answer_each(
    emulator: SlackEmulator,
    deps: Deps,
    scores: Mapping[str, int],
    *,
    wait: bool = True,
    timeout: float = 30,
) -> None:
    """Each person clicks their score on every statement of their newest pulse DM, over signed
    HTTP; then (with `wait`) until every answer is stored."""
    expected = len(answers(deps))
    for user, score in scores.items():
        for question in question_ids(latest_dm(emulator, user)):
            assert click_score(emulator, user, question, score).status == 200
            expected += 1
    if wait:
        wait_for(lambda: len(answers(deps)) == expected, timeout=timeout)


def pulse_due_an_hour_ago(settings: Settings) -> None:
    """Store the scheduler's jobs, then mark the pulse job's runs of the last hour as missed
    (as after an outage of every scheduler): a scheduler started next runs it at once."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    from bot import scheduling

    paused = BackgroundScheduler()
    scheduling.configure(paused, settings)
    paused.start(paused=True)
    scheduling.install_jobs(paused, settings)
    paused.shutdown(wait=True)
    store = SQLAlchemyJobStore(url=settings.database_url, tablename=scheduling.JOB_TABLE)
    store.start(BackgroundScheduler(), "default")
    job = store.lookup_job(scheduling.PULSE_JOB_ID)
    job.next_run_time = datetime.now(UTC) - timedelta(hours=1)
    store.update_job(job)
    store.shutdown()
