"""When a scheduled pulse reaches someone: plain arithmetic on the schedule, kept apart from
bot.scheduling so that services which only need the time (a round's "next pulse" line, App
Home) do not load APScheduler into the web process."""

from __future__ import annotations

from datetime import datetime

from bot.analytics.periods import candidate_periods, local_due_at, person_zone, shift_period
from bot.settings import Settings


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
