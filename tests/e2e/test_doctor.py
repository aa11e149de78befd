"""`cxpulse doctor` as an operator runs it: a real process against the emulator."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

from bot.db.engine import make_engine
from bot.db.migrate import current_revision
from bot.manifest import bot_scopes, scope_reasons
from bot.prompts import Copy, load_prompts
from bot.sandbox.emulator import BOT_USER_ID, SlackEmulator
from tests.e2e.conftest import ADMIN, LEADERS_CHANNEL, Org, cxpulse, process_env

CHECKS = 10  # the web report (off, by default) and comment alerts (none waiting) included


@pytest.fixture
def copy() -> Copy:
    return load_prompts().copy


@pytest.fixture
def env(database_url: str, emulator: SlackEmulator, org: Org) -> dict[str, str]:
    """A sound install: migrated database, and the bot invited to the leadership channel."""
    emulator.add_channel(LEADERS_CHANNEL, "leadership", [*org.leaders, ADMIN, BOT_USER_ID])
    # A port nothing listens on: doctor looks for the web process's metrics there.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environment = process_env(emulator, database_url, PORT=str(port))
    assert cxpulse(environment, "migrate").returncode == 0
    return environment


def lines(result: subprocess.CompletedProcess[str], title: str) -> list[str]:
    return [line for line in result.stdout.splitlines() if f" {title}: " in line]


def test_all_good(env: dict[str, str], copy: Copy) -> None:
    result = cxpulse(env, "doctor")
    assert result.returncode == 0, result.stdout + result.stderr
    marks = [line[:1] for line in result.stdout.splitlines() if line[:1] in {"✓", "✗"}]
    assert marks == ["✓"] * CHECKS
    assert "Sandbox Inc" in result.stdout
    assert "@cx-pulse" in result.stdout
    assert "#leadership" in result.stdout
    assert copy.t("doctor.summary_ok", count=CHECKS) in result.stdout


def test_missing_scope_names_it_and_why(
    env: dict[str, str], emulator: SlackEmulator, copy: Copy
) -> None:
    emulator.set_scopes((set(bot_scopes()) - {"im:history"}) | {"channels:history"})
    result = cxpulse(env, "doctor")
    assert result.returncode == 1
    [scopes] = lines(result, copy.t("doctor.scopes.title"))
    assert scopes.startswith("✗")
    assert "im:history" in scopes
    reason = scope_reasons(copy)["im:history"]
    assert f"im:history is needed for {reason}" in result.stdout
    assert copy.t("doctor.scopes.extra", scopes="channels:history") in result.stdout
    # Only the scopes are wrong.
    assert sum(line.startswith("✗") for line in result.stdout.splitlines()) == 1


def test_bad_token(env: dict[str, str], copy: Copy) -> None:
    env["SLACK_BOT_TOKEN"] = "xoxb-revoked"
    result = cxpulse(env, "doctor")
    assert result.returncode == 1
    [token] = lines(result, copy.t("doctor.token.title"))
    assert token.startswith("✗")
    assert copy.t("doctor.token.refused", error="invalid_auth") in token
    assert copy.t("doctor.token.refused_fix") in token
    assert "xoxb-revoked" not in result.stdout + result.stderr
    # What needs the token is not checked, and says so; the rest still is.
    for title in ("doctor.scopes.title", "doctor.channel.title"):
        [skipped] = lines(result, copy.t(title))
        assert copy.t("doctor.skipped") in skipped
    [database] = lines(result, copy.t("doctor.database.title"))
    assert database.startswith("✓")


def test_no_token(env: dict[str, str], copy: Copy) -> None:
    env.pop("SLACK_BOT_TOKEN")
    result = cxpulse(env, "doctor")
    assert result.returncode == 1
    assert copy.t("doctor.token.missing") in result.stdout


@pytest.mark.parametrize(
    ("channel", "problem"),
    [("C0NOWHERE", "not_found"), ("C0OUTSIDE", "not_member")],
)
def test_leadership_channel_problems(
    env: dict[str, str], emulator: SlackEmulator, copy: Copy, channel: str, problem: str
) -> None:
    emulator.add_channel("C0OUTSIDE", "outside", [ADMIN])
    env["CX_LEADERSHIP_CHANNEL"] = channel
    result = cxpulse(env, "doctor")
    assert result.returncode == 1
    [line] = lines(result, copy.t("doctor.channel.title"))
    assert line.startswith("✗")
    values = {"channel": channel, "name": "outside", "bot": "cx-pulse"}
    assert copy.t(f"doctor.channel.{problem}", **values) in line
    assert copy.t(f"doctor.channel.{problem}_fix", **values) in line


def test_database_not_migrated(env: dict[str, str], tmp_path: Path, copy: Copy) -> None:
    fresh = f"sqlite:///{tmp_path}/fresh.db"
    env["DATABASE_URL"] = fresh
    result = cxpulse(env, "doctor")
    assert result.returncode == 1
    [line] = lines(result, copy.t("doctor.database.title"))
    assert line.startswith("✗")
    assert copy.t("doctor.database.empty") in line
    assert copy.t("doctor.database.migrate_fix") in line
    # The doctor looks; it does not migrate.
    engine = make_engine(fresh)
    assert current_revision(engine) is None
    engine.dispose()


def test_missing_pseudonym_key(env: dict[str, str], copy: Copy) -> None:
    env.pop("CX_PSEUDONYM_KEY")
    result = cxpulse(env, "doctor")
    assert result.returncode == 1
    [line] = lines(result, copy.t("doctor.key.title"))
    assert line.startswith("✗")
    assert copy.t("doctor.key.missing_fix") in line
