from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.analytics.periods import (
    EARLIEST_ZONE,
    LATEST_ZONE,
    candidate_periods,
    due_window,
    local_due_at,
    period_key,
    period_monday,
    person_zone,
    shift_period,
)


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


# --- local due times -----------------------------------------------------------------------

TUE_TEN = ("tue", 10, 0)
LONDON = ZoneInfo("Europe/London")


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_the_pulse_is_due_at_the_same_local_time_in_every_zone() -> None:
    due = {
        name: local_due_at("2026-W48", TUE_TEN, ZoneInfo(name))
        for name in ("Europe/London", "Europe/Berlin", "America/New_York", "Asia/Tokyo")
    }
    assert due == {
        "Europe/London": _utc(2026, 11, 24, 10),
        "Europe/Berlin": _utc(2026, 11, 24, 9),
        "America/New_York": _utc(2026, 11, 24, 15),
        "Asia/Tokyo": _utc(2026, 11, 24, 1),
    }
    for name, moment in due.items():
        local = moment.astimezone(ZoneInfo(name))
        assert (local.strftime("%a %H:%M"), local.isocalendar()[:2]) == ("Tue 10:00", (2026, 48))


def test_daylight_saving_time_moves_the_instant_not_the_wall_time() -> None:
    # Europe goes forward on Sunday 28 March 2027, the US on 14 March, New Zealand goes back on
    # 4 April: weeks 12 to 14 of 2027 see each zone's UTC time change, never its 10:00.
    berlin, new_york, auckland = (
        ZoneInfo(n) for n in ("Europe/Berlin", "America/New_York", "Pacific/Auckland")
    )
    assert local_due_at("2027-W12", TUE_TEN, berlin) == _utc(2027, 3, 23, 9)
    assert local_due_at("2027-W13", TUE_TEN, berlin) == _utc(2027, 3, 30, 8)
    assert local_due_at("2027-W10", TUE_TEN, new_york) == _utc(2027, 3, 9, 15)
    assert local_due_at("2027-W11", TUE_TEN, new_york) == _utc(2027, 3, 16, 14)
    assert local_due_at("2027-W13", TUE_TEN, auckland) == _utc(2027, 3, 29, 21)
    assert local_due_at("2027-W14", TUE_TEN, auckland) == _utc(2027, 4, 5, 22)


def test_a_skipped_wall_time_lands_as_late_as_the_clocks_jumped_a_repeated_one_first() -> None:
    # 02:30 on Sunday 28 March 2027 never happens in Berlin (02:00 -> 03:00): 03:30 CEST.
    skipped = local_due_at("2027-W12", ("sun", 2, 30), ZoneInfo("Europe/Berlin"))
    assert skipped == _utc(2027, 3, 28, 1, 30)
    # 02:30 on Sunday 31 October 2027 happens twice in Berlin: the first, still CEST.
    repeated = local_due_at("2027-W43", ("sun", 2, 30), ZoneInfo("Europe/Berlin"))
    assert repeated == _utc(2027, 10, 31, 0, 30)


def test_a_local_due_time_may_fall_outside_the_org_week_and_still_belongs_to_it() -> None:
    # Monday 09:00 of W49 in Tokyo is midnight in London; Tokyo's 08:00 is still London's W48,
    # yet it is W49's pulse.
    tokyo = local_due_at("2026-W49", ("mon", 9, 0), ZoneInfo("Asia/Tokyo"))
    assert tokyo == _utc(2026, 11, 30, 0)
    assert period_key(tokyo - timedelta(minutes=1), LONDON) == "2026-W48"
    early = local_due_at("2026-W49", ("mon", 8, 0), ZoneInfo("Asia/Tokyo"))
    assert period_key(early, LONDON) == "2026-W48"
    assert "2026-W49" in candidate_periods(early, LONDON)
    # Sunday 23:00 in Honolulu is Monday in London: after the org week, still W48's round.
    late = local_due_at("2026-W48", ("sun", 23, 0), ZoneInfo("Pacific/Honolulu"))
    assert period_key(late, LONDON) == "2026-W49"
    assert "2026-W48" in candidate_periods(late, LONDON)


def test_due_window_spans_the_zones_and_the_extreme_zones_bound_everyone() -> None:
    zones = [ZoneInfo(n) for n in ("Asia/Tokyo", "America/New_York", "Europe/London")]
    first, last = due_window("2026-W48", TUE_TEN, zones)
    assert (first, last) == (_utc(2026, 11, 24, 1), _utc(2026, 11, 24, 15))
    assert local_due_at("2026-W48", TUE_TEN, EARLIEST_ZONE) <= first
    assert last <= local_due_at("2026-W48", TUE_TEN, LATEST_ZONE)
    with pytest.raises(ValueError, match="zone"):
        due_window("2026-W48", TUE_TEN, [])


def test_unknown_or_missing_zones_fall_back_to_the_organisation() -> None:
    assert person_zone("Asia/Tokyo", LONDON) == ZoneInfo("Asia/Tokyo")
    for name in (None, "", "Mars/Olympus_Mons", "../../etc/passwd", "America"):
        assert person_zone(name, LONDON) is LONDON


def test_periods_shift_across_iso_years() -> None:
    assert shift_period("2026-W53", 1) == "2027-W01"
    assert shift_period("2027-W01", -1) == "2026-W53"
    assert period_monday("2027-W13") == date(2027, 3, 29)
    with pytest.raises(ValueError, match="period"):
        period_monday("March")
    assert candidate_periods(_utc(2027, 1, 1, 12), LONDON) == ["2026-W52", "2026-W53", "2027-W01"]
