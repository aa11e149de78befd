"""Runtime configuration, read from environment variables (and a `.env` file)."""

from __future__ import annotations

import re
import urllib.parse
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.analytics.periods import WEEKDAYS
from bot.encryption import split_keys

SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]{1,20}")
TEAM_NAME_MAX = 120  # member.team's length
FERNET_KEY_CHARS = 44  # 32 bytes, url-safe base64 with its padding


def _parse_weekly(value: str) -> tuple[str, int, int]:
    """Parse "tue 10:00" into ("tue", 10, 0), raising ValueError with a readable message."""
    parts = value.strip().lower().split()
    if len(parts) != 2 or parts[0][:3] not in WEEKDAYS:
        raise ValueError(f"expected '<weekday> HH:MM' such as 'tue 10:00', got {value!r}")
    hour_text, _, minute_text = parts[1].partition(":")
    if not (hour_text.isdigit() and minute_text.isdigit()):
        raise ValueError(f"expected HH:MM in {value!r}")
    hour, minute = int(hour_text), int(minute_text)
    if not (0 <= hour < 24 and 0 <= minute < 60):
        raise ValueError(f"time out of range in {value!r}")
    return parts[0][:3], hour, minute


LogFormat = Literal["text", "json"]


class OutputSettings(BaseSettings):
    """What the command line reads before anything else: how to write its lines, so even a
    configuration problem in the rest is reported in that format."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    log_format: LogFormat = Field(default="text", alias="CX_LOG_FORMAT")


class Settings(BaseSettings):
    """Every knob cx-pulse has; names are the environment variables of the public contract."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    slack_bot_token: str | None = Field(default=None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: str | None = Field(default=None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: str | None = Field(default=None, alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field(default="https://slack.com/api/", alias="SLACK_API_URL")
    # Set both to serve many workspaces: Slack's OAuth install flow at /slack/install.
    slack_client_id: str | None = Field(default=None, alias="SLACK_CLIENT_ID")
    slack_client_secret: SecretStr | None = Field(default=None, alias="SLACK_CLIENT_SECRET")
    # Fernet key (`cxpulse keygen`) that encrypts installed bot tokens at rest; several keys,
    # comma-separated and newest first, while rotating (`cxpulse rotate-keys`).
    encryption_key: SecretStr | None = Field(default=None, alias="CX_ENCRYPTION_KEY")
    database_url: str = Field(default="sqlite:///cxpulse.db", alias="DATABASE_URL")
    leadership_channel: str | None = Field(default=None, alias="CX_LEADERSHIP_CHANNEL")
    admins: Annotated[frozenset[str], NoDecode] = Field(
        default=frozenset(), validation_alias=AliasChoices("CX_ADMINS", "admins")
    )
    min_group_size: int = Field(default=5, ge=2, alias="CX_MIN_GROUP_SIZE")
    # Comments are more identifying than scores, so they need a larger group (never smaller).
    min_comment_group_size: int | None = Field(
        default=None, ge=2, alias="CX_MIN_COMMENT_GROUP_SIZE"
    )
    # Team channels for team nudges, "support=C0123,sales=C0456"; teams without one get DMs.
    team_channels: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=dict, alias="CX_TEAM_CHANNELS"
    )
    # Team leads, "support=U0123 U0456,sales=U0789": they see their own team's results and get
    # its nudge (teams named as in CX_TEAM_CHANNELS). Admins change them in App Home.
    team_leads: Annotated[dict[str, tuple[str, ...]], NoDecode] = Field(
        default_factory=dict, alias="CX_TEAM_LEADS"
    )
    # Where teams come from: Slack user groups (smallest wins), or the members of the channels
    # named in CX_TEAM_CHANNELS.
    team_source: Literal["usergroups", "channels"] = Field(
        default="usergroups", alias="CX_TEAM_SOURCE"
    )
    # No scheduled rounds, reminders or digests while paused (admins pause from App Home).
    paused: bool = Field(default=False, alias="CX_PAUSED")
    timezone: str = Field(default="UTC", alias="CX_TIMEZONE")
    # The organisation's language, for channel posts (digest, team channels) and for people
    # whose Slack locale is unknown; DMs and replies to a person follow that person's locale.
    locale: str = Field(default="en", pattern=r"^[A-Za-z]{2}([-_][A-Za-z]{2})?$", alias="CX_LOCALE")
    port: int = Field(default=3000, ge=1, le=65535, alias="PORT")

    questions_per_round: int = Field(default=4, ge=3, le=5, alias="CX_QUESTIONS_PER_ROUND")
    round_days: int = Field(default=5, ge=1, le=14, alias="CX_ROUND_DAYS")
    pulse_schedule: str = Field(default="tue 10:00", alias="CX_PULSE_SCHEDULE")
    digest_schedule: str = Field(default="mon 09:00", alias="CX_DIGEST_SCHEDULE")
    misfire_grace_hours: int = Field(default=12, ge=1, le=72, alias="CX_MISFIRE_GRACE_HOURS")
    send_rate: float = Field(default=10.0, gt=0, le=100, alias="CX_SEND_RATE")
    send_workers: int = Field(default=4, ge=1, le=32, alias="CX_SEND_WORKERS")
    claim_stale_seconds: int = Field(default=120, ge=1, alias="CX_CLAIM_STALE_SECONDS")
    prompts_dir: str | None = Field(default=None, alias="CX_PROMPTS_DIR")
    # Answers are stored under HMAC(slack user id, key): without the key a dump names nobody.
    pseudonym_key: SecretStr | None = Field(default=None, min_length=16, alias="CX_PSEUDONYM_KEY")
    # Raw answers older than this are folded into gated aggregates and deleted; 0 keeps them.
    retention_days: int = Field(default=0, ge=0, alias="CX_RETENTION_DAYS")
    # Logs (and every other line a command writes) as JSON objects, one a line (bot.logs).
    log_format: LogFormat = Field(default="text", alias="CX_LOG_FORMAT")
    # Where `cxpulse scheduler` serves GET /metrics; unset, it serves none (the web process
    # serves its own on PORT).
    metrics_port: int | None = Field(default=None, ge=1, le=65535, alias="CX_METRICS_PORT")
    # Confidential replies (issue 14): how long a comment's relay link lives, and the random
    # delay (seconds, "min,max") before the relay passes a message on, so that Slack's own
    # timestamps cannot pair a leader's reply with the author's activity.
    reply_days: int = Field(default=30, ge=1, le=365, alias="CX_REPLY_DAYS")
    relay_delay_seconds: Annotated[tuple[float, float], NoDecode] = Field(
        default=(60.0, 600.0), alias="CX_RELAY_DELAY_SECONDS"
    )
    # Where /cx kudos stories are posted (admins can change it in the settings modal).
    kudos_channel: str | None = Field(default=None, alias="CX_KUDOS_CHANNEL")
    # The web report (issue 15): the origin people reach the app at, the key that signs
    # session cookies, how long a session lasts and how often its roles are checked again.
    public_url: str | None = Field(default=None, alias="CX_PUBLIC_URL")
    session_secret: SecretStr | None = Field(default=None, min_length=32, alias="CX_SESSION_SECRET")
    session_hours: int = Field(default=12, ge=1, le=24 * 30, alias="CX_SESSION_HOURS")
    role_recheck_seconds: int = Field(
        default=300, ge=10, le=86_400, alias="CX_ROLE_RECHECK_SECONDS"
    )
    slack_openid_authorize_url: str = Field(
        default="https://slack.com/openid/connect/authorize", alias="SLACK_OPENID_AUTHORIZE_URL"
    )

    @field_validator("relay_delay_seconds", mode="before")
    @classmethod
    def _split_relay_delay(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        low, sep, high = value.partition(",")
        try:
            bounds = (float(low), float(high))
        except ValueError:
            sep = ""
        if not sep:
            raise ValueError(
                f"expected two numbers of seconds as min,max such as 60,600, got {value!r}"
            )
        return bounds

    @field_validator("relay_delay_seconds")
    @classmethod
    def _ordered_relay_delay(cls, value: tuple[float, float]) -> tuple[float, float]:
        low, high = value
        if low < 0 or high < low:
            raise ValueError(f"CX_RELAY_DELAY_SECONDS needs 0 <= min <= max, got {low:g},{high:g}")
        return value

    @field_validator("admins", mode="before")
    @classmethod
    def _split_admins(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("team_channels", mode="before")
    @classmethod
    def _split_team_channels(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        pairs = {}
        for part in value.split(","):
            if not part.strip():
                continue
            team, sep, channel = part.partition("=")
            if not sep or not team.strip() or not channel.strip():
                raise ValueError(f"expected team=CHANNEL_ID pairs, got {part.strip()!r}")
            pairs[team.strip()] = channel.strip()
        return pairs

    @field_validator("team_leads", mode="before")
    @classmethod
    def _split_team_leads(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        leads: dict[str, tuple[str, ...]] = {}
        for part in value.split(","):
            if not part.strip():
                continue
            team, sep, users = part.partition("=")
            if not sep or not team.strip() or not users.split():
                raise ValueError(
                    "expected team=USER_ID pairs, several user IDs separated by spaces, such as "
                    f"'support=U0123 U0456,sales=U0789', got {part.strip()!r}"
                )
            known = leads.get(team.strip(), ())
            leads[team.strip()] = known + tuple(u for u in users.split() if u not in known)
        return leads

    @field_validator("team_leads")
    @classmethod
    def _lead_user_ids(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for team, users in value.items():
            if not team.strip() or len(team) > TEAM_NAME_MAX:
                raise ValueError(f"a team name must be 1 to {TEAM_NAME_MAX} characters: {team!r}")
            for user in users:
                if not SLACK_USER_ID.fullmatch(user):
                    raise ValueError(
                        f"{user!r} (a lead of {team!r}) is not a Slack user ID such as U0123ABC"
                    )
        return {team: tuple(dict.fromkeys(users)) for team, users in value.items() if users}

    @model_validator(mode="after")
    def _comment_minimum_not_below_score_minimum(self) -> Settings:
        if (
            self.min_comment_group_size is not None
            and self.min_comment_group_size < self.min_group_size
        ):
            raise ValueError(
                f"CX_MIN_COMMENT_GROUP_SIZE ({self.min_comment_group_size}) may not be below "
                f"CX_MIN_GROUP_SIZE ({self.min_group_size}): comments identify people more "
                "easily than scores"
            )
        return self

    @model_validator(mode="after")
    def _distribution_is_complete(self) -> Settings:
        if bool(self.slack_client_id) != bool(self.slack_client_secret):
            raise ValueError("SLACK_CLIENT_ID and SLACK_CLIENT_SECRET go together: set both")
        if self.distributed and self.encryption_key is None:
            raise ValueError(
                "CX_ENCRYPTION_KEY is required with SLACK_CLIENT_ID and no SLACK_BOT_TOKEN: "
                "installed bot tokens are stored encrypted (make one with `cxpulse keygen`)"
            )
        return self

    @field_validator("public_url")
    @classmethod
    def _public_origin(cls, value: str | None) -> str | None:
        """CX_PUBLIC_URL is an origin: http(s)://host[:port], nothing after it but a slash."""
        if value is None or not value.strip():
            return None
        parts = urllib.parse.urlsplit(value.strip())
        if (
            parts.scheme not in {"http", "https"}
            or not parts.hostname
            or parts.path not in {"", "/"}
            or parts.query
            or parts.fragment
            or parts.username
            or parts.password
        ):
            raise ValueError(
                "CX_PUBLIC_URL must be the origin people reach the app at, such as "
                f"https://cx.example.com (no path), got {value!r}"
            )
        return f"{parts.scheme}://{parts.netloc.lower()}"

    @field_validator("encryption_key")
    @classmethod
    def _fernet_keys(cls, value: SecretStr | None) -> SecretStr | None:
        """One Fernet key, or several separated by commas (the first encrypts, all decrypt).

        Each is checked on its own: Fernet alone reads "new,old" as `new` (base64 decoding
        stops at the first padding), so a list used to pass and then fail on every token."""
        if value is None:
            return None
        from cryptography.fernet import Fernet

        keys = split_keys(value.get_secret_value())
        if not keys:
            raise ValueError("CX_ENCRYPTION_KEY is empty (make a key with `cxpulse keygen`)")
        for position, key in enumerate(keys, start=1):
            try:
                if len(key) != FERNET_KEY_CHARS:
                    raise ValueError(key)
                Fernet(key.encode())
            except ValueError as exc:
                where = f" (key {position} of {len(keys)})" if len(keys) > 1 else ""
                raise ValueError(
                    f"CX_ENCRYPTION_KEY must be a Fernet key{where}: 32 url-safe "
                    "base64-encoded bytes (make one with `cxpulse keygen`); several keys are "
                    "separated by commas, the newest first"
                ) from exc
        if len(set(keys)) != len(keys):
            raise ValueError("CX_ENCRYPTION_KEY names the same key twice")
        return SecretStr(",".join(keys))

    @property
    def encryption_keys(self) -> tuple[str, ...]:
        """CX_ENCRYPTION_KEY's keys, newest (the one that encrypts) first; empty when unset."""
        if self.encryption_key is None:
            return ()
        return split_keys(self.encryption_key.get_secret_value())

    @property
    def distributed(self) -> bool:
        """Serving many workspaces through OAuth installs, rather than one bot token.

        SLACK_CLIENT_ID beside SLACK_BOT_TOKEN is one workspace whose app credentials serve
        Sign in with Slack for the web report only."""
        return bool(self.slack_client_id) and not self.slack_bot_token

    @property
    def web_report_missing(self) -> tuple[str, ...]:
        """The variables the web report (/report) still needs; empty when it is on."""
        wanted = {
            "SLACK_CLIENT_ID": self.slack_client_id,
            "SLACK_CLIENT_SECRET": self.slack_client_secret,
            "CX_PUBLIC_URL": self.public_url,
            "CX_SESSION_SECRET": self.session_secret,
        }
        return tuple(name for name, value in wanted.items() if not value)

    @property
    def web_report_enabled(self) -> bool:
        return not self.web_report_missing

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name)") from exc
        return value

    @field_validator("pulse_schedule", "digest_schedule")
    @classmethod
    def _weekly_schedule(cls, value: str) -> str:
        _parse_weekly(value)
        return value

    @property
    def comment_minimum(self) -> int:
        """CX_MIN_COMMENT_GROUP_SIZE, by default 10 or the score minimum if that is higher."""
        if self.min_comment_group_size is not None:
            return self.min_comment_group_size
        return max(10, self.min_group_size)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def pulse_weekly(self) -> tuple[str, int, int]:
        return _parse_weekly(self.pulse_schedule)

    @property
    def digest_weekly(self) -> tuple[str, int, int]:
        return _parse_weekly(self.digest_schedule)
