"""How cx-pulse writes its logs: text by default, JSON lines with CX_LOG_FORMAT=json, and never
a secret or a Slack user ID in either.

In JSON mode every line a command writes on stdout and stderr is one JSON object: log records
(ours, Bolt's, slack_sdk's, waitress's), the console's banners and notes (`JsonLines`), Python
warnings, and uncaught exceptions. The exceptions are what a command produces as a file format
it was asked for: `digest --json/--blocks`, `export --csv -`, `manifest`.

`Redact` runs on every handler, so a record is cleaned whichever logger it came from:
Slack tokens (xoxb-, xoxp-, xapp-...), the configured secrets themselves (signing secret,
client secret, keys, whatever their form) and Slack user IDs are replaced, in the message,
its arguments and any traceback. Answers are stored under pseudonyms; a user ID in a log line
beside them would undo that.
"""

from __future__ import annotations

import io
import json
import logging
import re
import sys
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, TextIO, cast

if TYPE_CHECKING:
    from bot.settings import Settings

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Slack's token families: bot, user, app-level, legacy workspace and refresh tokens.
SLACK_TOKEN = re.compile(r"\bx(?:ox[abpers]|app)-[A-Za-z0-9-]+")
# A Slack user ID: U or W and 8 or more capitals and digits (U0123ABCD, W01ABCDEFGH).
SLACK_USER = re.compile(r"\b[UW][A-Z0-9]{8,}\b")
TOKEN_MASK = "[token]"  # noqa: S105 - what a token is replaced with
SECRET_MASK = "[secret]"  # noqa: S105 - likewise
USER_MASK = "[user]"
MIN_SECRET_CHARS = 6  # shorter "secrets" would mask ordinary words


class Redact(logging.Filter):
    """Masks tokens, known secret values and Slack user IDs in a record, tracebacks included."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._secrets: tuple[str, ...] = ()
        self.add_secrets(secrets)

    def add_secrets(self, secrets: Iterable[str]) -> None:
        """Mask these exact values too (longest first, so none is left half-masked)."""
        with self._lock:
            known = set(self._secrets) | {s for s in secrets if len(s) >= MIN_SECRET_CHARS}
            self._secrets = tuple(sorted(known, key=len, reverse=True))

    def clean(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, SECRET_MASK)
        text = SLACK_TOKEN.sub(TOKEN_MASK, text)
        return SLACK_USER.sub(USER_MASK, text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self.clean(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.clean(record.exc_text)
        if record.stack_info:
            record.stack_info = self.clean(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, and exc/stack when
    there is one. Newlines inside stay escaped in the JSON string, so a line is a record."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False)


class JsonLines(io.TextIOBase):
    """A text stream that writes each line given to it as a JSON log line on `stream`.

    Handed to a rich Console as its file, it turns the console's banners and notes into
    records like any other (empty lines are dropped: a blank line is not JSON)."""

    def __init__(self, stream: TextIO, *, logger: str, redact: Redact) -> None:
        super().__init__()
        self._stream = stream
        self._logger = logger
        self._redact = redact
        self._formatter = JsonFormatter()
        self._pending = ""
        self._lock = threading.Lock()

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def write(self, text: str) -> int:
        with self._lock:
            *lines, self._pending = (self._pending + text).split("\n")
            for line in lines:
                self._emit(line)
        return len(text)

    def flush(self) -> None:
        with self._lock:
            if self._pending:
                self._emit(self._pending)
                self._pending = ""
        self._stream.flush()

    def _emit(self, line: str) -> None:
        if not line.strip():
            return
        record = logging.LogRecord(self._logger, logging.INFO, "", 0, line.rstrip(), None, None)
        self._redact.filter(record)
        self._stream.write(self._formatter.format(record) + "\n")


def secret_values(settings: Settings) -> list[str]:
    """The secret values `settings` hold (each key of a comma-separated list on its own)."""
    values = [settings.slack_bot_token, settings.slack_signing_secret, settings.slack_app_token]
    for secret in (settings.slack_client_secret, settings.encryption_key, settings.pseudonym_key):
        if secret is not None:
            values += secret.get_secret_value().split(",")
    return [value.strip() for value in values if value and value.strip()]


class Output:
    """The logging of one process, as `configure` set it up."""

    def __init__(self, *, json_lines: bool, redact: Redact) -> None:
        self.json_lines = json_lines
        self.redact = redact

    def console_file(self, stream: TextIO) -> TextIO | None:
        """What a rich Console writing to `stream` should write to (None: `stream` as is)."""
        if not self.json_lines:
            return None
        name = "cxpulse.stderr" if stream is sys.stderr else "cxpulse.stdout"
        return cast(TextIO, JsonLines(stream, logger=name, redact=self.redact))


def configure(*, json_lines: bool, level: int = logging.INFO) -> Output:
    """Root logging for a process: one handler on stderr, redacting, in text or JSON lines.

    JSON mode also routes Python warnings and uncaught exceptions (main thread and others)
    through logging, so nothing reaches stderr unformatted. Quiets the chatty libraries:
    slack_sdk logs request bodies, and so tokens, at DEBUG."""
    redact = Redact()
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(redact)
    handler.setFormatter(JsonFormatter() if json_lines else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("slack_sdk").setLevel(logging.WARNING)
    logging.getLogger("slack_bolt").setLevel(
        logging.INFO if level <= logging.DEBUG else logging.WARNING
    )
    if json_lines:
        logging.captureWarnings(True)
        sys.excepthook = _log_uncaught
        threading.excepthook = _log_uncaught_in_thread
    return Output(json_lines=json_lines, redact=redact)


def _log_uncaught(
    kind: type[BaseException], error: BaseException, traceback: TracebackType | None
) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, error, traceback)
        return
    logging.getLogger("cxpulse").critical("uncaught exception", exc_info=(kind, error, traceback))


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit or args.exc_value is None:
        return
    name = args.thread.name if args.thread is not None else "?"
    logging.getLogger("cxpulse").critical(
        "uncaught exception in thread %s",
        name,
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
    )
