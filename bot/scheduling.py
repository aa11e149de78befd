"""APScheduler wiring: cron triggers in the organisation's zone and a job store in our database.

Jobs are stored by reference (`bot.jobs:...`) so a restart finds them again; `coalesce` plus a
misfire grace means a run missed while down happens once on restart, and the rounds table's
unique period key means a run can never send the same round twice.

The pulse job is not a weekly trigger: pulses are due at the schedule's time on each person's
own wall clock (`bot.analytics.periods.local_due_at`), so it runs every few minutes, opens a
period's round once the first of those times has come and sends whatever DMs are due. It reads
the schedule at each run, so a time changed in App Home needs no retiming.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.analytics.periods import candidate_periods, local_due_at, person_zone, shift_period
from bot.settings import Settings

PULSE_JOB_ID = "cx-pulse-round"
DIGEST_JOB_ID = "cx-digest"
PURGE_JOB_ID = "cx-retention-purge"
REMINDER_JOB_ID = "cx-reminders"
PUBLISH_JOB_ID = "cx-publish"
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
        # Every ten minutes: a week is published (and frozen) soon after its last round closes,
        # and the open rounds' answers are put back in key order (PostgreSQL storage).
        PUBLISH_JOB_ID: (
            "bot.jobs:scheduled_publish",
            CronTrigger(minute="*/10", timezone=settings.zone),
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
    """Start with the jobs installed. Nothing an admin changes in App Home retimes a trigger:
    the pulse job reads the schedule at every run, and the rest follow only the environment.

    The database is migrated first, before any job can run: jobs that fire together (the
    digest on the pulse job's five-minute mark) then find it done (`bot.db.migrate`)."""
    from bot.runtime import build_deps  # the wiring of the whole app; jobs use it too

    build_deps(settings).engine.dispose()
    configure(scheduler, settings)
    scheduler.start(paused=True)
    install_jobs(scheduler, settings)
    scheduler.resume()


def next_pulse_at(settings: Settings, after: datetime, zone_name: str | None = None) -> datetime:
    """When the next scheduled pulse reaches someone in `zone_name` (a Slack `tz`; None or an
    unknown zone: the organisation's), strictly after `after`; aware, in that zone.

    This is the person's local pulse time (see `local_due_at`); the job sends it on its next
    run, within `PULSE_EVERY_MINUTES`. Pausing is not taken into account.
    """
    zone = person_zone(zone_name, settings.zone)
    period = candidate_periods(after, settings.zone)[0]
    for _ in range(4):  # the previous, current and next org weeks, and one more for safety
        due = local_due_at(period, settings.pulse_weekly, zone)
        if due > after:
            return due.astimezone(zone)
        period = shift_period(period, 1)
    raise AssertionError("a weekly pulse is always due within two weeks")
