from __future__ import annotations

from datetime import UTC, datetime

from bot.scheduling import digest_trigger, next_fire, pulse_trigger
from bot.settings import Settings


def settings(**values: str) -> Settings:
    return Settings.model_validate(values)


def test_pulse_fires_tuesday_ten_in_the_organisation_zone() -> None:
    s = settings(CX_TIMEZONE="Europe/London")
    monday = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    fire = next_fire(pulse_trigger(s), monday)
    assert fire.astimezone(UTC) == datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    # Strictly after: asking at the fire time itself gives next week's.
    assert next_fire(pulse_trigger(s), fire).astimezone(UTC) == datetime(
        2026, 12, 1, 10, tzinfo=UTC
    )


def test_schedule_follows_daylight_saving_time() -> None:
    s = settings(CX_TIMEZONE="Europe/London")
    after_change = next_fire(pulse_trigger(s), datetime(2027, 3, 29, tzinfo=UTC))
    assert after_change.astimezone(UTC) == datetime(2027, 3, 30, 9, 0, tzinfo=UTC)  # 10:00 BST


def test_digest_fires_monday_nine_and_custom_schedules_apply() -> None:
    s = settings(CX_TIMEZONE="America/New_York", CX_DIGEST_SCHEDULE="fri 16:30")
    fire = next_fire(digest_trigger(s), datetime(2026, 11, 23, tzinfo=UTC))
    assert fire.astimezone(UTC) == datetime(2026, 11, 27, 21, 30, tzinfo=UTC)
    default = next_fire(digest_trigger(settings()), datetime(2026, 11, 24, tzinfo=UTC))
    assert default.astimezone(UTC) == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
