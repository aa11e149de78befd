from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.analytics.periods import period_key


def test_iso_week_in_the_organisation_zone() -> None:
    # Sunday 23:30 UTC is already Monday in Berlin: a new ISO week there.
    moment = datetime(2026, 11, 29, 23, 30, tzinfo=UTC)
    assert period_key(moment, ZoneInfo("UTC")) == "2026-W48"
    assert period_key(moment, ZoneInfo("Europe/Berlin")) == "2026-W49"


def test_year_boundary_uses_iso_year() -> None:
    assert period_key(datetime(2027, 1, 1, 12, tzinfo=UTC), ZoneInfo("UTC")) == "2026-W53"


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        period_key(datetime(2026, 1, 1), ZoneInfo("UTC"))
