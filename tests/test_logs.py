"""Log lines name no secret and no Slack user; in JSON mode each line is one JSON object."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from collections.abc import Iterator

import pytest

from bot.logs import JsonFormatter, JsonLines, Redact, secret_values
from bot.settings import Settings

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_TOKEN = "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy"


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO, Redact]]:
    """A logger of its own writing JSON lines through the redacting filter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    redact = Redact([SIGNING_SECRET])
    handler.addFilter(redact)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("tests.logs.captured")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    yield logger, stream, redact
    logger.removeHandler(handler)


def _records(stream: io.StringIO) -> list[dict[str, str]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_tokens_secrets_and_user_ids_are_masked_in_messages_and_arguments(
    captured: tuple[logging.Logger, io.StringIO, Redact],
) -> None:
    logger, stream, _ = captured
    logger.warning("calling Slack with %s", BOT_TOKEN)
    logger.warning("app token xapp-1-A0123-456-abcdef and user token xoxp-123-456-789-abc")
    logger.warning("signed with %s", SIGNING_SECRET)
    logger.warning("click by %s (also W0123ABCDEF) in C0123ABCDE of T0123ABCD", "U01ABCDEF23")
    text = stream.getvalue()
    for leaked in (BOT_TOKEN, "xapp-1", "xoxp-", SIGNING_SECRET, "U01ABCDEF23", "W0123ABCDEF"):
        assert leaked not in text
    messages = [record["message"] for record in _records(stream)]
    assert messages == [
        "calling Slack with [token]",
        "app token [token] and user token [token]",
        "signed with [secret]",
        # Channel and team IDs name no one; they stay for debugging.
        "click by [user] (also [user]) in C0123ABCDE of T0123ABCD",
    ]


def test_tracebacks_are_masked_too(captured: tuple[logging.Logger, io.StringIO, Redact]) -> None:
    logger, stream, _ = captured
    try:
        raise RuntimeError(f"Slack refused {BOT_TOKEN} for U0123ABCDEF")
    except RuntimeError:
        logger.exception("a job failed")
    [record] = _records(stream)
    assert record["message"] == "a job failed"
    assert "RuntimeError: Slack refused [token] for [user]" in record["exc"]
    assert BOT_TOKEN not in stream.getvalue()


def test_secrets_are_added_once_settings_are_read(
    captured: tuple[logging.Logger, io.StringIO, Redact],
) -> None:
    logger, stream, redact = captured
    settings = Settings.model_validate(
        {"CX_PSEUDONYM_KEY": "pseudonym-key-0123456789", "SLACK_SIGNING_SECRET": "abcdef123456"}
    )
    redact.add_secrets(secret_values(settings))
    logger.error("keys: pseudonym-key-0123456789 abcdef123456; short ones alone: abc")
    [record] = _records(stream)
    assert record["message"] == "keys: [secret] [secret]; short ones alone: abc"


def test_a_multi_line_message_is_still_one_line() -> None:
    record = logging.LogRecord("bot.x", logging.INFO, "", 0, "first\nsecond", None, None)
    line = JsonFormatter().format(record)
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["message"] == "first\nsecond"
    assert parsed["level"] == "INFO"
    assert parsed["logger"] == "bot.x"
    assert parsed["time"].endswith("+00:00")


def test_console_lines_become_json_lines_and_blank_lines_are_dropped() -> None:
    stream = io.StringIO()
    lines = JsonLines(stream, logger="cxpulse.stdout", redact=Redact())
    lines.write("cx-pulse listening on http://0.0.0.0:3000/slack/events\n\nthe second ")
    lines.write("half, and a token xoxb-1-2-3\n   \n")
    lines.write("no newline yet")
    lines.flush()
    messages = [json.loads(line)["message"] for line in stream.getvalue().splitlines()]
    assert messages == [
        "cx-pulse listening on http://0.0.0.0:3000/slack/events",
        "the second half, and a token [token]",
        "no newline yet",
    ]


def test_uncaught_exceptions_and_warnings_are_json_lines_in_json_mode() -> None:
    probe = (
        "import warnings\n"
        "from bot import logs\n"
        "logs.configure(json_lines=True)\n"
        "warnings.warn('careful with U0123ABCDEF')\n"
        f"raise RuntimeError('boom {BOT_TOKEN}')\n"
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter and probe
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 1
    records = [json.loads(line) for line in done.stderr.splitlines()]
    assert [record["level"] for record in records] == ["WARNING", "CRITICAL"]
    assert "careful with [user]" in records[0]["message"]
    assert "RuntimeError: boom [token]" in records[1]["exc"]
    assert BOT_TOKEN not in done.stderr
