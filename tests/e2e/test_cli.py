"""The `cxpulse` commands as an operator runs them, as real processes against the emulator."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator

import pytest

from bot.render.ids import ActionId, BlockId
from bot.sandbox import actors
from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.people import click_score, latest_dm, question_ids, wait_for
from tests.e2e.conftest import (
    ADMIN,
    SECRET,
    TOKEN,
    Org,
    cxpulse,
    ephemeral_texts,
    last_digest,
    process_env,
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def env(database_url: str, emulator: SlackEmulator, org: Org) -> dict[str, str]:
    return process_env(emulator, database_url, PORT=str(free_port()))


@pytest.fixture
def served(env: dict[str, str]) -> Iterator[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--no-scheduler", "--host", "127.0.0.1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{env['PORT']}"

    def healthy() -> bool:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1) as response:  # noqa: S310
                return bool(response.status == 200)
        except OSError:
            return False

    wait_for(healthy, timeout=60)
    yield base
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output  # a clean stop, with no traceback
    assert "Traceback" not in output
    assert TOKEN not in output
    assert SECRET not in output


def test_serve_answers_slack_over_http(served: str, emulator: SlackEmulator, org: Org) -> None:
    emulator.set_app_url(f"{served}/slack/events")
    assert emulator.send_slash_command(ADMIN, "help").status == 200
    assert "/cx score" in wait_for(lambda: ephemeral_texts(emulator))[0]
    assert emulator.send_slash_command(ADMIN, "help", signing_secret="forged").status == 401


def test_a_click_on_serve_is_stored_and_ticked_in_the_dm_by_its_refresh_process(
    served: str, env: dict[str, str], emulator: SlackEmulator, org: Org
) -> None:
    emulator.set_app_url(f"{served}/slack/events")
    assert cxpulse(env, "pulse", "send").returncode == 0
    person = org.participants[0]
    question = question_ids(latest_dm(emulator, person))[0]
    assert click_score(emulator, person, question, 4).status == 200

    def ticked() -> bool:
        button = actors.find_element(
            latest_dm(emulator, person),
            f"{BlockId.QUESTION_PREFIX}{question}",
            f"{ActionId.ANSWER_PREFIX}4",
        )
        return button is not None and button.get("style") == "primary"

    wait_for(ticked, timeout=30)


def test_pulse_send_then_digest_print_and_post(
    env: dict[str, str], emulator: SlackEmulator, org: Org
) -> None:
    assert cxpulse(env, "migrate").returncode == 0
    sent = cxpulse(env, "pulse", "send")
    assert sent.returncode == 0, sent.stderr
    assert "18 sent" in sent.stdout
    assert len(emulator.calls("chat.postMessage")) == len(org.participants)
    printed = cxpulse(env, "digest", "--print")
    assert printed.returncode == 0, printed.stderr
    assert "(PROVISIONAL)" in printed.stdout
    posted = cxpulse(env, "digest", "--post")
    assert posted.returncode == 0, posted.stderr
    assert last_digest(emulator)["blocks"]
    # A second ad hoc round is always new.
    assert "18 sent" in cxpulse(env, "pulse", "send").stdout


def test_configuration_problems_are_explained(env: dict[str, str]) -> None:
    env["CX_TIMEZONE"] = "Atlantis/Nowhere"
    result = cxpulse(env, "migrate")
    assert result.returncode == 2
    assert "unknown time zone" in result.stdout
    env["CX_TIMEZONE"] = "UTC"
    env.pop("SLACK_SIGNING_SECRET")
    result = cxpulse(env, "serve")
    assert result.returncode == 2
    assert "SLACK_SIGNING_SECRET is not set" in result.stdout
    assert cxpulse(env, "digest").returncode == 2
    env.pop("CX_PSEUDONYM_KEY")
    result = cxpulse(env, "digest", "--print")
    assert result.returncode == 2
    assert "CX_PSEUDONYM_KEY is not set" in result.stdout
    env["CX_PSEUDONYM_KEY"] = "too-short"
    result = cxpulse(env, "digest", "--print")
    assert result.returncode == 2
    assert "CX_PSEUDONYM_KEY" in result.stdout
