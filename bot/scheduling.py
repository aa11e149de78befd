"""APScheduler wiring: cron triggers in the organisation's zone and a job store in our database.

Jobs are stored by reference (`bot.jobs:...`) so a restart finds them again; `coalesce` plus a
misfire grace means a run missed while down happens once on restart, and the rounds table's
unique period key means a run can never send the same round twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.settings import Settings

PULSE_JOB_ID = "cx-pulse-round"
DIGEST_JOB_ID = "cx-digest"
PURGE_JOB_ID = "cx-retention-purge"
REMINDER_JOB_ID = "cx-reminders"
JOB_TABLE = "apscheduler_jobs"


def weekly_trigger(weekly: tuple[str, int, int], settings: Settings) -> CronTrigger:
    day, hour, minute = weekly
    return CronTrigger(day_of_week=day, hour=hour, minute=minute, timezone=settings.zone)


def pulse_trigger(settings: Settings) -> CronTrigger:
    return weekly_trigger(settings.pulse_weekly, settings)


def digest_trigger(settings: Settings) -> CronTrigger:
    return weekly_trigger(settings.digest_weekly, settings)


def next_fire(trigger: CronTrigger, after: datetime) -> datetime:
    """The first fire time strictly after `after`, computed exactly as the scheduler does."""
    fire: datetime | None = trigger.get_next_fire_time(None, after + timedelta(microseconds=1))
    if fire is None:
        raise ValueError("this trigger never fires again")
    return fire


def configure(scheduler: BaseScheduler, settings: Settings) -> None:
    scheduler.configure(
        jobstores={"default": SQLAlchemyJobStore(url=settings.database_url, tablename=JOB_TABLE)},
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": settings.misfire_grace_hours * 3600,
        },
        timezone=settings.zone,
    )


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


def start(scheduler: BaseScheduler, settings: Settings) -> None:
    configure(scheduler, settings)
    scheduler.start(paused=True)
    install_jobs(scheduler, settings)
    scheduler.resume()
