"""APScheduler wiring: cron triggers in the organisation's zone and a job store in our database.

Jobs are stored by reference (`bot.jobs:...`) so a restart finds them again; `coalesce` plus a
misfire grace means a run missed while down happens once on restart, and the rounds table's
unique period key means a run can never send the same round twice.

The pulse job is not a weekly trigger: pulses are due at the schedule's time on each person's
own wall clock (`bot.analytics.periods.local_due_at`), so it runs every few minutes, opens a
period's round once the first of those times has come and sends whatever DMs are due. It reads
the schedule at each run, so a time changed in App Home needs no retiming.

With a `Metrics` (bot.metrics), the jobs count into it (`MetricsExecutor` hands it to them)
and every run's lag and outcome is recorded (`observe`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    EVENT_JOB_SUBMITTED,
    JobEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.metrics import Metrics
from bot.settings import Settings

PULSE_JOB_ID = "cx-pulse-round"
DIGEST_JOB_ID = "cx-digest"
PURGE_JOB_ID = "cx-retention-purge"
REMINDER_JOB_ID = "cx-reminders"
PUBLISH_JOB_ID = "cx-publish"
RELAY_JOB_ID = "cx-reply-relay"
ALERTS_JOB_ID = "cx-comment-alerts"
ALERTS_EVERY_SECONDS = 20  # a comment passed to admins reaches them within a minute
PULSE_EVERY_MINUTES = 5  # local due times are whole quarter hours in every zone in use
JOB_TABLE = "apscheduler_jobs"


def weekly_trigger(weekly: tuple[str, int, int], settings: Settings) -> CronTrigger:
    day, hour, minute = weekly
    return CronTrigger(day_of_week=day, hour=hour, minute=minute, timezone=settings.zone)


def pulse_trigger(settings: Settings) -> CronTrigger:
    """When the pulse job runs: every few minutes, on the clock's five-minute marks."""
    return CronTrigger(minute=f"*/{PULSE_EVERY_MINUTES}", timezone=settings.zone)


def digest_trigger(settings: Settings) -> CronTrigger:
    return weekly_trigger(settings.digest_weekly, settings)


def next_fire(trigger: CronTrigger, after: datetime) -> datetime:
    """The first fire time strictly after `after`, computed exactly as the scheduler does."""
    fire: datetime | None = trigger.get_next_fire_time(None, after + timedelta(microseconds=1))
    if fire is None:
        raise ValueError("this trigger never fires again")
    return fire


class _JobWithMetrics:
    """A stored job as the executor runs it: the same job, its function given `metrics`."""

    def __init__(self, job: Any, metrics: Metrics) -> None:
        self._job = job
        self.kwargs = {**job.kwargs, "metrics": metrics}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._job, name)

    def __str__(self) -> str:
        return str(self._job)


class MetricsExecutor(ThreadPoolExecutor):  # type: ignore[misc]
    """APScheduler's thread pool, handing the process's metrics to each of our jobs.

    Jobs are stored by reference (`bot.jobs:...`) with pickled arguments, so nothing that
    lives in this process (the metrics registry) can be stored with them; the executor passes
    it at each run instead, as the `metrics` keyword every `bot.jobs` entry point takes."""

    def __init__(self, metrics: Metrics, max_workers: int = 10) -> None:
        super().__init__(max_workers)
        self._metrics = metrics

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        if str(getattr(job, "func_ref", "")).startswith("bot.jobs:"):
            job = _JobWithMetrics(job, self._metrics)
        super()._do_submit_job(job, run_times)


def configure(
    scheduler: BaseScheduler, settings: Settings, *, metrics: Metrics | None = None
) -> None:
    scheduler.configure(
        jobstores={"default": SQLAlchemyJobStore(url=settings.database_url, tablename=JOB_TABLE)},
        executors={"default": MetricsExecutor(metrics or Metrics())},
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": settings.misfire_grace_hours * 3600,
        },
        timezone=settings.zone,
    )


_OUTCOMES = {
    EVENT_JOB_EXECUTED: "ok",
    EVENT_JOB_ERROR: "error",
    EVENT_JOB_MISSED: "missed",
    EVENT_JOB_MAX_INSTANCES: "skipped",  # the previous run is still going
}


def observe(scheduler: BaseScheduler, metrics: Metrics) -> None:
    """Record each run: its lag (started minus scheduled, cxpulse_scheduler_job_lag_seconds)
    and its outcome (cxpulse_scheduler_job_runs_total)."""

    def listen(event: JobEvent) -> None:
        if event.code == EVENT_JOB_SUBMITTED:
            due = max(event.scheduled_run_times)
            metrics.job_submitted(event.job_id, (datetime.now(UTC) - due).total_seconds())
        else:
            metrics.job_finished(event.job_id, _OUTCOMES[event.code])

    mask = EVENT_JOB_SUBMITTED | EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED
    scheduler.add_listener(listen, mask | EVENT_JOB_MAX_INSTANCES)


def install_jobs(scheduler: BaseScheduler, settings: Settings) -> None:
    """Add our jobs if missing, or retime them if the schedule changed; never reset a pending run.

    The scheduler must already be started (paused) so the persistent store is loaded.
    """
    wanted = {
        PULSE_JOB_ID: ("bot.jobs:scheduled_pulse", pulse_trigger(settings)),
        DIGEST_JOB_ID: ("bot.jobs:scheduled_digest", digest_trigger(settings)),
        # Hourly: a round's one reminder goes out within the hour it enters its last day.
        REMINDER_JOB_ID: (
            "bot.jobs:scheduled_reminders",
            CronTrigger(minute=7, timezone=settings.zone),
        ),
        # Every ten minutes: a week is published (and frozen) soon after its last round closes,
        # and the open rounds' answers are put back in key order (PostgreSQL storage).
        PUBLISH_JOB_ID: (
            "bot.jobs:scheduled_publish",
            CronTrigger(minute="*/10", timezone=settings.zone),
        ),
        # Every minute: confidential replies that are due are passed on (each waits a random
        # CX_RELAY_DELAY_SECONDS first), and reply links CX_REPLY_DAYS old are deleted.
        RELAY_JOB_ID: (
            "bot.jobs:scheduled_relay",
            CronTrigger(minute="*", timezone=settings.zone),
        ),
        # Every 20 seconds, paused or not: comments passed to admins that the submission could
        # not send at once (Slack failing, no admin yet) are tried again.
        ALERTS_JOB_ID: (
            "bot.jobs:scheduled_alerts",
            CronTrigger(second=f"*/{ALERTS_EVERY_SECONDS}", timezone=settings.zone),
        ),
        # Daily at a quiet hour; it does nothing unless CX_RETENTION_DAYS is set.
        PURGE_JOB_ID: (
            "bot.jobs:scheduled_purge",
            CronTrigger(hour=3, minute=30, timezone=settings.zone),
        ),
    }
    for job_id, (func, trigger) in wanted.items():
        job = scheduler.get_job(job_id)
        if job is None:
            scheduler.add_job(func, trigger=trigger, id=job_id, name=job_id)
        elif str(job.trigger) != str(trigger):
            scheduler.reschedule_job(job_id, trigger=trigger)


def start(scheduler: BaseScheduler, settings: Settings, *, metrics: Metrics | None = None) -> None:
    """Start with the jobs installed. Nothing an admin changes in App Home retimes a trigger:
    the pulse job reads the schedule at every run, and the rest follow only the environment.

    The database is migrated first, before any job can run: jobs that fire together (the
    digest on the pulse job's five-minute mark) then find it done (`bot.db.migrate`).
    With `metrics`, the jobs count into it and every run is observed (`observe`)."""
    from bot.runtime import build_deps  # the wiring of the whole app; jobs use it too

    build_deps(settings).engine.dispose()
    configure(scheduler, settings, metrics=metrics)
    if metrics is not None:
        observe(scheduler, metrics)
    scheduler.start(paused=True)
    install_jobs(scheduler, settings)
    scheduler.resume()
