"""Organisation periods (ISO weeks in the organisation's time zone) and when each person's
pulse of a period is due."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def period_key(moment: datetime, zone: ZoneInfo) -> str:
    """The ISO week a moment falls in, in the organisation's zone, as "2026-W48"."""
    if moment.tzinfo is None:
        raise ValueError("period_key needs an aware datetime")
    year, week, _ = moment.astimezone(zone).isocalendar()
    return f"{year}-W{week:02d}"


# --- when a scheduled pulse is due ---------------------------------------------------------
#
# A weekly schedule such as "tue 10:00" is read on each person's own wall clock. The round of
# organisation period "2027-W13" (the ISO week in the organisation's zone) is due for someone
# at Tuesday 10:00 *in their zone* of the ISO week with the same number, 2027-W13, as their
# own calendar counts it. So everyone gets the DM on the same named day, at the same local
# time, and all of it belongs to the one org period, even when that instant falls outside the
# org's week (Tokyo's Monday 09:00 is still Sunday in London: it belongs to London's next
# week, the one with the same number).
#
# Daylight saving time follows the person's zone: 10:00 is 10:00 on either side of a change.
# A wall time the clocks skip (02:30 on the night they go forward) is taken with the offset in
# force before the change, which lands as much later as the clocks jumped (03:30); a wall time
# that happens twice (the night they go back) is its first occurrence.

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# No zone is ahead of UTC+14 (Line Islands) or behind UTC-12: the first and last any wall time
# can happen, anywhere.
EARLIEST_ZONE = timezone(timedelta(hours=14))
LATEST_ZONE = timezone(timedelta(hours=-12))


def person_zone(name: str | None, organisation: ZoneInfo) -> ZoneInfo:
    """A person's zone from Slack's `tz`; the organisation's when unknown or not a real zone."""
    if not name:
        return organisation
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return organisation


def period_monday(period: str) -> date:
    """The Monday of a period key such as "2026-W48"."""
    year, _, week = period.partition("-W")
    if not (year.isdigit() and week.isdigit()):
        raise ValueError(f"not a period key: {period!r}")
    return date.fromisocalendar(int(year), int(week), 1)


def shift_period(period: str, weeks: int) -> str:
    """The period `weeks` weeks after (or before, when negative) `period`."""
    year, week, _ = (period_monday(period) + timedelta(weeks=weeks)).isocalendar()
    return f"{year}-W{week:02d}"


def local_due_at(period: str, weekly: tuple[str, int, int], zone: tzinfo) -> datetime:
    """When a period's pulse is due for someone in `zone`, in UTC.

    `weekly` is ("tue", 10, 0); the answer is that weekday and time on the wall clock of
    `zone`, in the ISO week of the period's number (see the notes above this function).
    """
    day, hour, minute = weekly
    local_day = period_monday(period) + timedelta(days=WEEKDAYS.index(day))
    return datetime.combine(local_day, time(hour, minute), tzinfo=zone).astimezone(UTC)


def due_window(
    period: str, weekly: tuple[str, int, int], zones: Iterable[tzinfo]
) -> tuple[datetime, datetime]:
    """The earliest and latest local due time of a period among `zones` (at least one)."""
    times = [local_due_at(period, weekly, zone) for zone in zones]
    if not times:
        raise ValueError("due_window needs at least one zone")
    return min(times), max(times)


def candidate_periods(moment: datetime, organisation: ZoneInfo) -> list[str]:
    """The periods whose pulse can be due around `moment`: the org's current week and the
    ones either side (a local due time is never more than 26 hours outside its org week)."""
    current = period_key(moment, organisation)
    return [shift_period(current, -1), current, shift_period(current, 1)]
