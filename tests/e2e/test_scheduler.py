"""The persistent scheduler: restarts neither lose nor double a run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlmodel import Session, select

from bot import scheduling
from bot.db.engine import make_engine
from bot.db.models import PulseRound
from bot.runtime import build_deps
from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.people import wait_for
from tests.e2e.conftest import Org, make_settings, sandbox_env


def _env(monkeypatch: pytest.MonkeyPatch, emulator: SlackEmulator, database_url: str) -> None:
    for name, value in sandbox_env(emulator, database_url).items():
        monkeypatch.setenv(name, value)


def _rounds(database_url: str) -> list[PulseRound]:
    engine = make_engine(database_url)
    with Session(engine) as session:
        rounds = list(session.exec(select(PulseRound)).all())
    engine.dispose()
    return rounds


def test_restart_keeps_jobs_and_runs_a_missed_pulse_exactly_once(
    database_url: str, monkeypatch: pytest.MonkeyPatch, emulator: SlackEmulator, org: Org
) -> None:
    _env(monkeypatch, emulator, database_url)
    settings = make_settings(emulator, database_url)
    build_deps(settings).engine.dispose()

    # First start: the jobs are stored. Kept paused so that nothing runs in this process.
    first = BackgroundScheduler()
    scheduling.configure(first, settings)
    first.start(paused=True)
    scheduling.install_jobs(first, settings)
    jobs = {job.id: job.next_run_time for job in first.get_jobs()}
    assert set(jobs) == {scheduling.PULSE_JOB_ID, scheduling.DIGEST_JOB_ID, scheduling.PURGE_JOB_ID}
    assert jobs[scheduling.PULSE_JOB_ID].strftime("%a %H:%M") == "Tue 10:00"
    first.shutdown(wait=True)
    # Pretend the process died an hour after the pulse was due: edit the stored job directly,
    # as a crashed process would have left it.
    missed = datetime.now(UTC) - timedelta(hours=1)
    store = SQLAlchemyJobStore(url=settings.database_url, tablename=scheduling.JOB_TABLE)
    store.start(BackgroundScheduler(), "default")
    job = store.lookup_job(scheduling.PULSE_JOB_ID)
    job.next_run_time = missed
    store.update_job(job)
    store.shutdown()

    second = BackgroundScheduler()
    scheduling.start(second, settings)  # the missed run happens now, once
    wait_for(lambda: len(emulator.calls("chat.postMessage")) == len(org.participants), timeout=30)
    assert len(second.get_jobs()) == 3
    rescheduled = second.get_job(scheduling.PULSE_JOB_ID).next_run_time
    assert rescheduled > datetime.now(UTC)
    second.shutdown(wait=True)

    # A third start, and running the job again by hand, must not send the period's round again.
    third = BackgroundScheduler()
    scheduling.start(third, settings)
    assert third.get_job(scheduling.PULSE_JOB_ID).next_run_time == rescheduled
    third.shutdown(wait=False)
    from bot.jobs import scheduled_pulse

    scheduled_pulse()
    assert len(_rounds(database_url)) == 1
    assert len(emulator.calls("chat.postMessage")) == len(org.participants)
