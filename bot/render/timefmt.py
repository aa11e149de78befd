"""Dates as people read them, in their own time zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def local_time(moment: datetime, zone_name: str) -> str:
    """e.g. "Sun 30 Nov, 10:00 (Europe/London)"; an unknown zone falls back to UTC."""
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        zone, zone_name = ZoneInfo("UTC"), "UTC"
    local = moment.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b}, {local:%H:%M} ({zone_name})"
