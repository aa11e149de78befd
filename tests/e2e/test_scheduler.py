"""The persistent scheduler: restarts neither lose nor double a run."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlmodel import Session, select

from bot import scheduling
from bot.clock import ManualClock
from bot.db.engine import make_engine
from bot.db.migrate import current_revision, head_revision
from bot.db.models import PulseRound
from bot.runtime import build_deps
from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.people import wait_for
from tests.e2e.conftest import (
    Org,
    make_settings,
    process_env,
    pulse_due_an_hour_ago,
    pulse_due_now,
    sandbox_env,
)


def _env(
    monkeypatch: pytest.MonkeyPatch, emulator: SlackEmulator, database_url: str, schedule: str
) -> None:
    for name, value in sandbox_env(emulator, database_url).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CX_PULSE_SCHEDULE", schedule)


def _rounds(database_url: str) -> list[PulseRound]:
    engine = make_engine(database_url)
    with Session(engine) as session:
        rounds = list(session.exec(select(PulseRound)).all())
    engine.dispose()
    return rounds


def test_restart_keeps_jobs_and_runs_a_missed_pulse_exactly_once(
    database_url: str, monkeypatch: pytest.MonkeyPatch, emulator: SlackEmulator, org: Org
) -> None:
    # This week's pulse fell due at the start of this minute (London, where everyone is).
    schedule = pulse_due_now()
    _env(monkeypatch, emulator, database_url, schedule)
    settings = make_settings(emulator, database_url, CX_PULSE_SCHEDULE=schedule)
    build_deps(settings).engine.dispose()

    # First start: the jobs are stored. Kept paused so that nothing runs in this process.
    first = BackgroundScheduler()
    scheduling.configure(first, settings)
    first.start(paused=True)
    scheduling.install_jobs(first, settings)
    jobs = {job.id: job.next_run_time for job in first.get_jobs()}
    assert set(jobs) == {
        scheduling.PULSE_JOB_ID,
        scheduling.DIGEST_JOB_ID,
        scheduling.PURGE_JOB_ID,
        scheduling.REMINDER_JOB_ID,
        scheduling.PUBLISH_JOB_ID,
        scheduling.RELAY_JOB_ID,
        scheduling.ALERTS_JOB_ID,
    }
    # The pulse job runs on every five-minute mark; each run sends whatever has fallen due.
    pulse_run = jobs[scheduling.PULSE_JOB_ID]
    assert pulse_run.minute % 5 == 0
    assert pulse_run.second == 0
    assert timedelta(0) < pulse_run - datetime.now(UTC) <= timedelta(minutes=5)
    first.shutdown(wait=True)
    # Pretend the process died an hour before the pulse fell due, and every run since was
    # missed: edit the stored job directly, as a crashed process would have left it.
    missed = datetime.now(UTC) - timedelta(hours=1)
    store = SQLAlchemyJobStore(url=settings.database_url, tablename=scheduling.JOB_TABLE)
    store.start(BackgroundScheduler(), "default")
    job = store.lookup_job(scheduling.PULSE_JOB_ID)
    job.next_run_time = missed
    store.update_job(job)
    store.shutdown()

    second = BackgroundScheduler()
    scheduling.start(second, settings)  # the twelve missed runs happen now, as one
    wait_for(lambda: len(emulator.calls("chat.postMessage")) == len(org.participants), timeout=30)
    assert len(second.get_jobs()) == len(jobs)  # none added twice on a restart
    rescheduled = second.get_job(scheduling.PULSE_JOB_ID).next_run_time
    assert rescheduled > datetime.now(UTC)
    second.shutdown(wait=True)
    assert len(_rounds(database_url)) == 1

    # A third start, and running the job again by hand, must not send the period's round again.
    third = BackgroundScheduler()
    scheduling.start(third, settings)
    # The pending run is kept (unless the test itself crossed a five-minute mark meanwhile).
    kept = third.get_job(scheduling.PULSE_JOB_ID).next_run_time
    assert kept in (rescheduled, rescheduled + timedelta(minutes=5))
    third.shutdown(wait=False)
    from bot.jobs import scheduled_pulse

    scheduled_pulse()
    assert len(_rounds(database_url)) == 1
    assert len(emulator.calls("chat.postMessage")) == len(org.participants)


def test_two_schedulers_on_one_database_send_the_round_once(
    database_url: str, emulator: SlackEmulator, org: Org
) -> None:
    crowd = [f"UMANY{i:04d}" for i in range(200)]
    for user_id in crowd:
        emulator.add_user(user_id, user_id.lower())
    everyone = crowd + org.participants
    schedule = pulse_due_now()
    settings = make_settings(emulator, database_url, CX_PULSE_SCHEDULE=schedule)
    build_deps(settings).engine.dispose()
    pulse_due_an_hour_ago(settings)

    # Both start at once and both find the missed run. APScheduler's shared store usually lets
    # only one of them take it; the test below covers the race where both do.
    env = process_env(emulator, database_url, CX_SEND_RATE="40", CX_PULSE_SCHEDULE=schedule)
    schedulers = [
        subprocess.Popen(
            [sys.executable, "-m", "bot", "scheduler"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        wait_for(lambda: len(emulator.calls("chat.postMessage")) >= len(everyone), timeout=20)
        time.sleep(1.0)  # room for any second, wrong, DM to show up
    finally:
        for process in schedulers:
            process.send_signal(signal.SIGTERM)
        logs = [process.communicate(timeout=30)[1] for process in schedulers]
    assert any("pulse round" in log for log in logs), logs
    assert all(process.returncode == 0 for process in schedulers), logs
    assert len(_rounds(database_url)) == 1
    counts = Counter(len(emulator.messages(emulator.dm_channel(u))) for u in everyone)
    assert counts == Counter({1: len(everyone)})


def test_the_pulse_job_run_three_times_at_once_still_sends_one_round(
    database_url: str, emulator: SlackEmulator, org: Org
) -> None:
    crowd = [f"URACE{i:04d}" for i in range(200)]
    for user_id in crowd:
        emulator.add_user(user_id, user_id.lower())
    everyone = crowd + org.participants
    build_deps(make_settings(emulator, database_url)).engine.dispose()
    env = process_env(emulator, database_url, CX_SEND_RATE="40", CX_PULSE_SCHEDULE=pulse_due_now())
    code = "from bot.jobs import scheduled_pulse; scheduled_pulse()"
    jobs = [
        subprocess.Popen(  # noqa: S603
            [sys.executable, "-c", code], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        for _ in range(3)
    ]
    errors = [job.communicate(timeout=120)[1].decode() for job in jobs]
    assert [job.returncode for job in jobs] == [0, 0, 0], errors
    assert len(_rounds(database_url)) == 1
    counts = Counter(len(emulator.messages(emulator.dm_channel(u))) for u in everyone)
    assert counts == Counter({1: len(everyone)})


def _count_alembic_runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every run of Alembic's upgrade in this process from now on (each one still runs)."""
    from alembic import command

    runs: list[str] = []
    real = command.upgrade

    def counted(config: Any, revision: str, *args: Any, **kwargs: Any) -> None:
        runs.append(threading.current_thread().name)
        real(config, revision, *args, **kwargs)

    monkeypatch.setattr(command, "upgrade", counted)
    return runs


def test_two_jobs_starting_at_the_same_instant_on_a_fresh_database_migrate_it_once(
    database_url: str, monkeypatch: pytest.MonkeyPatch, emulator: SlackEmulator, org: Org
) -> None:
    """Every Monday the default digest time (09:00) falls on the pulse job's five-minute mark,
    and both jobs used to run the start-up migration at once: Alembic's one module-level
    context was pulled from under the digest job (`KeyError: 'config'`). Now the first to
    arrive migrates and the other waits for it, then finds the database at head."""
    from bot import jobs

    _env(monkeypatch, emulator, database_url, "tue 10:00")
    runs = _count_alembic_runs(monkeypatch)
    clock = ManualClock(datetime(2026, 11, 24, 10, 0, tzinfo=UTC))  # the pulse is due
    entry_points = {
        "pulse": lambda: jobs.scheduled_pulse(clock),
        "digest": jobs.scheduled_digest,
    }
    barrier = threading.Barrier(len(entry_points))
    failures: dict[str, BaseException] = {}

    def run(name: str) -> None:
        barrier.wait()
        try:
            entry_points[name]()
        except BaseException as error:  # reported by the assertion below
            failures[name] = error

    threads = [threading.Thread(target=run, args=(n,), name=f"job-{n}") for n in entry_points]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == {}
    assert len(runs) == 1, runs  # Alembic ran once, for whichever job came first
    engine = make_engine(database_url)
    try:
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()
    assert len(_rounds(database_url)) == 1  # and the pulse job did its work
    assert len(emulator.calls("chat.postMessage")) == len(org.participants)


def test_the_scheduler_migrates_the_database_before_it_adds_or_starts_any_job(
    database_url: str, monkeypatch: pytest.MonkeyPatch, emulator: SlackEmulator, org: Org
) -> None:
    _env(monkeypatch, emulator, database_url, "tue 10:00")
    settings = make_settings(emulator, database_url)
    engine = make_engine(database_url)
    seen: list[tuple[str, str | None]] = []

    class Recording(BackgroundScheduler):
        """Notes the database's revision whenever jobs could start or be added; never runs one."""

        def start(self, *args: Any, **kwargs: Any) -> None:
            seen.append(("start", current_revision(engine)))
            super().start(*args, **kwargs)

        def add_job(self, *args: Any, **kwargs: Any) -> Any:
            seen.append(("add_job", current_revision(engine)))
            return super().add_job(*args, **kwargs)

        def resume(self) -> None:
            seen.append(("resume", current_revision(engine)))  # left paused: no job runs here

    assert current_revision(engine) is None  # a fresh database
    runs = _count_alembic_runs(monkeypatch)
    scheduler = Recording()
    try:
        scheduling.start(scheduler, settings)
    finally:
        scheduler.shutdown(wait=True)
    head = head_revision()
    assert [step for step, _ in seen][:2] == ["start", "add_job"]
    assert {step for step, _ in seen} == {"start", "add_job", "resume"}
    assert all(revision == head for _, revision in seen), seen
    assert len(runs) == 1
    # A job run afterwards in this process finds the work done and runs no migration.
    from bot.jobs import scheduled_digest

    scheduled_digest()
    assert len(runs) == 1
    engine.dispose()
