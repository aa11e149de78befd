from __future__ import annotations

import pytest

from bot.settings import Settings


def test_defaults_match_the_documented_contract(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "SLACK_API_URL", "CX_MIN_GROUP_SIZE", "CX_TIMEZONE", "PORT"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.database_url == "sqlite:///cxpulse.db"
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.min_group_size == 5
    assert settings.timezone == "UTC"
    assert settings.port == 3000
    assert settings.pulse_weekly == ("tue", 10, 0)
    assert settings.digest_weekly == ("mon", 9, 0)


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CX_ADMINS", "U1, U2,,U3 ")
    monkeypatch.setenv("CX_MIN_GROUP_SIZE", "7")
    monkeypatch.setenv("CX_TIMEZONE", "Europe/Paris")
    monkeypatch.setenv("CX_LEADERSHIP_CHANNEL", "C123")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.admins == frozenset({"U1", "U2", "U3"})
    assert settings.min_group_size == 7
    assert settings.zone.key == "Europe/Paris"
    assert settings.leadership_channel == "C123"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("CX_TIMEZONE", "Mars/Olympus", "unknown time zone"),
        ("CX_PULSE_SCHEDULE", "someday 10:00", "weekday"),
        ("CX_DIGEST_SCHEDULE", "mon 25:00", "out of range"),
        ("CX_MIN_GROUP_SIZE", "1", "greater than or equal"),
    ],
)
def test_bad_values_are_explained(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=message):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_team_leads_are_read_as_team_and_user_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CX_TEAM_LEADS", "support=U0AAA U0BBB, sales = U0CCC ,,support=U0BBB W0DDD")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    # A team named twice gets every lead once, in order.
    assert settings.team_leads == {
        "support": ("U0AAA", "U0BBB", "W0DDD"),
        "sales": ("U0CCC",),
    }
    monkeypatch.delenv("CX_TEAM_LEADS")
    assert Settings(_env_file=None).team_leads == {}  # type: ignore[call-arg]
    # What App Home stores (JSON lists) reads back as the same value.
    stored = Settings.model_validate({**settings.model_dump(), "team_leads": {"sales": ["U0CCC"]}})
    assert stored.team_leads == {"sales": ("U0CCC",)}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("support", "expected team=USER_ID pairs"),
        ("support=", "expected team=USER_ID pairs"),
        ("=U0AAA", "expected team=USER_ID pairs"),
        ("support=@alice", "'@alice' \\(a lead of 'support'\\) is not a Slack user ID"),
        ("support=U0AAA;sales=U0BBB", "is not a Slack user ID"),
        ("support=C0123", "is not a Slack user ID"),
    ],
)
def test_malformed_team_leads_are_explained(
    monkeypatch: pytest.MonkeyPatch, value: str, message: str
) -> None:
    monkeypatch.setenv("CX_TEAM_LEADS", value)
    with pytest.raises(ValueError, match=f"CX_TEAM_LEADS(.|\\n)*{message}"):
        Settings(_env_file=None)  # type: ignore[call-arg]
