from __future__ import annotations

from datetime import UTC, datetime

from bot.scheduling import digest_trigger, next_fire, pulse_trigger
from bot.services.pulse_times import next_pulse_at
from bot.settings import Settings


def settings(**values: str) -> Settings:
    return Settings.model_validate(values)


def test_pulse_is_due_tuesday_ten_in_the_organisation_zone() -> None:
    s = settings(CX_TIMEZONE="Europe/London")
    monday = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    due = next_pulse_at(s, monday)
    assert due.astimezone(UTC) == datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    assert str(due.tzinfo) == "Europe/London"
    # Strictly after: asking at the due time itself gives next week's.
    assert next_pulse_at(s, due).astimezone(UTC) == datetime(2026, 12, 1, 10, tzinfo=UTC)


def test_schedule_follows_daylight_saving_time() -> None:
    s = settings(CX_TIMEZONE="Europe/London")
    after_change = next_pulse_at(s, datetime(2027, 3, 29, tzinfo=UTC))
    assert after_change.astimezone(UTC) == datetime(2027, 3, 30, 9, 0, tzinfo=UTC)  # 10:00 BST


def test_next_pulse_in_a_persons_own_zone() -> None:
    s = settings(CX_TIMEZONE="Europe/London", CX_PULSE_SCHEDULE="mon 09:00")
    sunday = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)  # Sunday noon, org week 2026-W48
    # Auckland's Monday 09:00 of W49 is Sunday 20:00 UTC, still W48 in London: it comes first.
    auckland = next_pulse_at(s, sunday, "Pacific/Auckland")
    assert auckland.astimezone(UTC) == datetime(2026, 11, 29, 20, 0, tzinfo=UTC)
    assert (auckland.hour, auckland.strftime("%a")) == (9, "Mon")
    assert next_pulse_at(s, sunday, "America/New_York").astimezone(UTC) == datetime(
        2026, 11, 30, 14, 0, tzinfo=UTC
    )
    # Unknown or missing zones fall back to the organisation's.
    london = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert next_pulse_at(s, sunday, "Mars/Olympus_Mons").astimezone(UTC) == london
    assert next_pulse_at(s, sunday, None).astimezone(UTC) == london
    # Just after Auckland's pulse, Auckland's next one is a week later.
    assert next_pulse_at(s, auckland, "Pacific/Auckland").astimezone(UTC) == datetime(
        2026, 12, 6, 20, 0, tzinfo=UTC
    )


def test_the_pulse_job_runs_every_five_minutes_whatever_the_schedule() -> None:
    s = settings(CX_TIMEZONE="Asia/Kolkata", CX_PULSE_SCHEDULE="fri 16:30")
    runs = [datetime(2026, 11, 23, 12, 2, tzinfo=UTC)]
    for _ in range(3):
        runs.append(next_fire(pulse_trigger(s), runs[-1]))
    assert [r.astimezone(UTC).strftime("%H:%M") for r in runs[1:]] == ["12:05", "12:10", "12:15"]
    assert str(pulse_trigger(s)) == str(pulse_trigger(settings(CX_PULSE_SCHEDULE="mon 08:00")))


def test_digest_fires_monday_nine_and_custom_schedules_apply() -> None:
    s = settings(CX_TIMEZONE="America/New_York", CX_DIGEST_SCHEDULE="fri 16:30")
    fire = next_fire(digest_trigger(s), datetime(2026, 11, 23, tzinfo=UTC))
    assert fire.astimezone(UTC) == datetime(2026, 11, 27, 21, 30, tzinfo=UTC)
    default = next_fire(digest_trigger(settings()), datetime(2026, 11, 24, tzinfo=UTC))
    assert default.astimezone(UTC) == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
