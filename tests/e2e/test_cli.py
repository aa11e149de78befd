"""The `cxpulse` commands as an operator runs them, as real processes against the emulator."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.people import (
    answered_in,
    click_score,
    confirmed,
    latest_dm,
    question_ids,
    wait_for,
)
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


def test_a_click_on_serve_is_stored_ticked_in_the_dm_and_confirmed_by_its_refresh_process(
    served: str, env: dict[str, str], emulator: SlackEmulator, org: Org
) -> None:
    emulator.set_app_url(f"{served}/slack/events")
    assert cxpulse(env, "pulse", "send", "--yes").returncode == 0
    person = org.participants[0]
    question = question_ids(latest_dm(emulator, person))[0]
    assert click_score(emulator, person, question, 4).status == 200

    wait_for(lambda: answered_in(latest_dm(emulator, person)) == [question], timeout=30)
    wait_for(lambda: "*Agree*" in confirmed(emulator, person).get(question, ""), timeout=30)


def test_pulse_send_then_digest_print_and_post(
    env: dict[str, str], emulator: SlackEmulator, org: Org, tmp_path: Path
) -> None:
    assert cxpulse(env, "migrate").returncode == 0
    sent = cxpulse(env, "pulse", "send", "--yes")
    assert sent.returncode == 0, sent.stderr
    assert "18 sent" in sent.stdout
    assert len(emulator.calls("chat.postMessage")) == len(org.participants)
    # The round is open: nothing of it may be printed or posted yet, and the refusal says why.
    printed = cxpulse(env, "digest", "--print")
    assert printed.returncode == 1
    assert "No week has been published yet" in printed.stdout
    assert "Traceback" not in printed.stderr
    # A closed week (imported history) is published at once, and that is what is reported.
    history = tmp_path / "history.csv"
    rows = ["date,respondent,team,is_leader,question_id,score"]
    rows += [f"2026-10-06,p{i},ops,false,customer_outcome.proud_to_show,4" for i in range(6)]
    history.write_text("\n".join(rows) + "\n", encoding="utf-8")
    imported = cxpulse(env, "import", str(history))
    assert imported.returncode == 0, imported.stderr + imported.stdout
    printed = cxpulse(env, "digest", "--print")
    assert printed.returncode == 0, printed.stderr
    assert "2026-W41" in printed.stdout
    posted = cxpulse(env, "digest", "--post")
    assert posted.returncode == 0, posted.stderr
    assert last_digest(emulator)["blocks"]
    # A second round in the same week is refused: one round a week, so nobody is asked twice.
    again = cxpulse(env, "pulse", "send", "--yes")
    assert again.returncode == 1
    assert "already has its round" in again.stdout
    dms = [c for c in emulator.calls("chat.postMessage") if c.params["channel"] in org.participants]
    assert len(dms) == len(org.participants)


def _pulse_dms(emulator: SlackEmulator, org: Org) -> list[object]:
    calls = emulator.calls("chat.postMessage")
    return [c for c in calls if c.params["channel"] in org.participants]


def test_pulse_send_says_what_it_will_do_and_without_a_terminal_needs_yes(
    env: dict[str, str], emulator: SlackEmulator, org: Org
) -> None:
    # Late on Sunday: this week's scheduled round is still ahead, whenever the test runs.
    env["CX_PULSE_SCHEDULE"] = "sun 23:55"
    refused = cxpulse(env, "pulse", "send")  # stdin is not a terminal: nobody to ask
    assert refused.returncode == 2, refused.stderr
    week = re.search(r"week (\d{4}-W\d{2})'s round: 18 people get the pulse", refused.stdout)
    assert week is not None, refused.stdout
    assert "the scheduled round (Sun " in refused.stdout
    assert "will be skipped" in refused.stdout
    assert "Nothing was sent" in refused.stdout
    assert "cxpulse pulse send --yes" in refused.stdout
    assert "Traceback" not in refused.stderr
    assert _pulse_dms(emulator, org) == []

    sent = cxpulse(env, "pulse", "send", "--yes")
    assert sent.returncode == 0, sent.stderr
    assert f"Round {week[1]}: 18 sent, 0 could not be reached." in sent.stdout
    assert f"It is week {week[1]}'s round: no scheduled round goes out this week." in sent.stdout
    assert len(_pulse_dms(emulator, org)) == len(org.participants)


def test_pulse_send_asks_at_a_terminal_and_no_sends_nothing(
    env: dict[str, str], emulator: SlackEmulator, org: Org
) -> None:
    main, terminal = os.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "pulse", "send"],
            env=env,
            stdin=terminal,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        os.write(main, b"n\n")
        output, errors = process.communicate(timeout=120)
    finally:
        os.close(main)
        os.close(terminal)
    assert process.returncode == 1, errors
    assert "Send it now? [y/N]" in output
    assert output.rstrip().endswith("Nothing was sent.")
    assert _pulse_dms(emulator, org) == []


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
