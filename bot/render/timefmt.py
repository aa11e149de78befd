"""Dates as people read them, in their own time zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.prompts import Copy


def local_time(moment: datetime, zone_name: str, copy: Copy | None = None) -> str:
    """e.g. "Sun 30 Nov, 10:00 (Europe/London)", worded by `copy`'s `time.*` entries (in the
    reader's language); an unknown zone falls back to UTC."""
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        zone, zone_name = ZoneInfo("UTC"), "UTC"
    local = moment.astimezone(zone)
    if copy is None:
        return f"{local:%a} {local.day} {local:%b}, {local:%H:%M} ({zone_name})"
    return copy.t(
        "time.moment",
        weekday=copy.t("time.weekdays").split()[local.weekday()],
        day=local.day,
        month=copy.t("time.months").split()[local.month - 1],
        time=f"{local:%H:%M}",
        zone=zone_name,
    )
