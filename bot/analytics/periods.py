"""Organisation periods: ISO weeks in the organisation's time zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo


def period_key(moment: datetime, zone: ZoneInfo) -> str:
    """The ISO week a moment falls in, in the organisation's zone, as "2026-W48"."""
    if moment.tzinfo is None:
        raise ValueError("period_key needs an aware datetime")
    year, week, _ = moment.astimezone(zone).isocalendar()
    return f"{year}-W{week:02d}"
