"""Observable: GET /metrics over real HTTP on the served bot and on `cxpulse scheduler`, JSON log
lines from real processes, and what `cxpulse doctor` says about metrics and the scheduler."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import Session, select

from bot.clock import ManualClock
from bot.db.models import PulseRound, RoundKind
from bot.metrics import PrometheusMetrics
from bot.runtime import build_deps
from bot.sandbox.emulator import BOT_USER_ID, SlackEmulator
from bot.sandbox.harness import ServedBot
from bot.sandbox.people import click_score, latest_dm, question_ids, wait_for
from bot.services.context import Deps
from bot.services.publishing import post_digest
from bot.services.rounds import send_round
from tests.e2e.conftest import (
    ADMIN,
    PSEUDONYM_KEY,
    SECRET,
    TOKEN,
    Org,
    answers,
    cxpulse,
    make_settings,
    process_env,
    pulse_due_an_hour_ago,
    pulse_due_now,
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """GET /metrics, parsed: every sample by (name, sorted labels)."""
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def metered(
    database_url: str, emulator: SlackEmulator, org: Org, clock: ManualClock
) -> Iterator[Deps]:
    built = build_deps(
        make_settings(emulator, database_url), clock=clock, metrics=PrometheusMetrics()
    )
    yield built
    built.engine.dispose()


def test_metrics_count_a_round_its_clicks_and_the_digest(
    metered: Deps, emulator: SlackEmulator, org: Org, clock: ManualClock
) -> None:
    deps = metered
    with ServedBot(deps) as bot:
        emulator.set_app_url(bot.events_url)
        metrics_url = f"{bot.base_url}/metrics"
        before = scrape(metrics_url)
        assert value(before, "cxpulse_dms_sent_total") == 0
        report = send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
        assert report.sent == len(org.participants)
        # Everyone has a DM to go: nothing is left in the queue.
        assert value(scrape(metrics_url), "cxpulse_pending_deliveries", state="due") == 0

        clicks = 0
        for team in ("alpha", "beta"):
            for user in org.teams[team]:
                for question in question_ids(latest_dm(emulator, user)):
                    assert click_score(emulator, user, question, 4).status == 200
                    clicks += 1
        wait_for(lambda: len(answers(deps)) == clicks, timeout=30)
        clock.advance(timedelta(days=6))
        post_digest(deps, bot.gateway)
        samples = scrape(metrics_url)

    assert value(samples, "cxpulse_rounds_opened_total", kind="adhoc") == 1
    assert value(samples, "cxpulse_rounds_opened_total", kind="scheduled") == 0
    assert value(samples, "cxpulse_dms_sent_total") == len(org.participants)
    assert value(samples, "cxpulse_answers_recorded_total") == clicks
    # Every click was acked, and each ack is an observation of the histogram.
    assert value(samples, "cxpulse_ack_seconds_count", kind="block_actions") == clicks
    assert value(samples, "cxpulse_ack_seconds_bucket", kind="block_actions", le="+Inf") == clicks
    assert 0 < value(samples, "cxpulse_ack_seconds_sum", kind="block_actions") < clicks * 3
    assert value(samples, "cxpulse_digest_build_seconds_count") >= 1
    assert value(samples, "cxpulse_digest_build_seconds_sum") > 0
    for state in ("due", "waiting", "sending"):
        assert ("cxpulse_pending_deliveries", (("state", state),)) in samples
    assert not any(name.startswith("cxpulse_dms_failed") for name, _ in samples)


def test_rate_limits_waited_out_are_counted(
    metered: Deps, emulator: SlackEmulator, org: Org
) -> None:
    deps = metered
    emulator.fail_next("chat.postMessage", retry_after=0, times=3)  # 429, Retry-After: 0
    with ServedBot(deps) as bot:
        report = send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
        samples = scrape(f"{bot.base_url}/metrics")
    assert report.sent == len(org.participants)
    assert value(samples, "cxpulse_rate_limit_waits_total", method="chat.postMessage") == 3
    assert value(samples, "cxpulse_rate_limit_wait_seconds_total", method="chat.postMessage") > 0
    assert value(samples, "cxpulse_dms_sent_total") == len(org.participants)
    # A 429 waited out is not a DM tried again: the client repeats the same call.
    assert not any(name == "cxpulse_dms_retried_total" for name, _ in samples)


def test_a_server_error_retried_and_a_refused_dm_are_counted(
    metered: Deps, emulator: SlackEmulator, org: Org
) -> None:
    from slack_sdk import WebClient

    from bot.slack.gateway import WebClientGateway

    deps = metered
    # A client without retry handlers, so the gateway itself sees the 503: it looks for the DM
    # in the person's history, finds none, and posts again.
    bare = WebClient(token=TOKEN, base_url=emulator.api_url, retry_handlers=[])
    gateway = WebClientGateway(bare, retry_pause=lambda _attempt: None, metrics=deps.metrics)
    emulator.fail_next("chat.postMessage", error="internal_error", status=503)
    emulator.fail_next("chat.postMessage", error="cannot_dm_bot", status=200)  # refused for good
    with ServedBot(deps) as bot:
        report = send_round(deps, gateway, kind=RoundKind.ADHOC)
        samples = scrape(f"{bot.base_url}/metrics")
    assert (report.sent, report.failed) == (len(org.participants) - 1, 1)
    assert value(samples, "cxpulse_dms_retried_total", reason="server_error") == 1
    assert value(samples, "cxpulse_dms_failed_total", error="cannot_dm_bot") == 1
    assert value(samples, "cxpulse_dms_sent_total") == len(org.participants) - 1


class WorkerDied(Exception):
    """A sending worker stopping mid-send, as a killed process would."""


def test_a_claim_left_by_a_dead_worker_is_counted_as_retried_when_taken_over(
    metered: Deps, emulator: SlackEmulator, org: Org, clock: ManualClock
) -> None:
    from bot.services.ports import OutgoingMessage, PostedMessage
    from bot.services.rounds import deliver_pending

    deps = metered
    with ServedBot(deps) as bot:
        real = bot.gateway
        died: list[str] = []

        class DiesOnce:
            def __getattr__(self, name: str) -> object:
                return getattr(real, name)

            def deliver_dm(
                self, user_id: str, message: OutgoingMessage, *, key: str, maybe_sent: bool
            ) -> PostedMessage:
                if not died:
                    died.append(user_id)
                    raise WorkerDied
                return real.deliver_dm(user_id, message, key=key, maybe_sent=maybe_sent)

        with pytest.raises(WorkerDied):
            send_round(deps, DiesOnce(), kind=RoundKind.ADHOC)  # type: ignore[arg-type]
        clock.advance(timedelta(seconds=deps.settings.claim_stale_seconds + 1))
        with Session(deps.engine) as session:
            [round_id] = session.exec(select(PulseRound.id)).all()
        assert round_id is not None
        # The dead worker's whole batch is taken over, the DM it was sending among them.
        retaken, failed = deliver_pending(deps, real, round_id=round_id)
        samples = scrape(f"{bot.base_url}/metrics")
    assert retaken >= 1
    assert failed == 0
    assert value(samples, "cxpulse_dms_retried_total", reason="reclaimed") == retaken
    assert value(samples, "cxpulse_dms_sent_total") == len(org.participants)
    assert len(emulator.messages(emulator.dm_channel(died[0]))) == 1


def _lines_as_json(*outputs: str) -> list[dict[str, object]]:
    """Every line a process wrote, each parsed as one JSON object (any other line fails)."""
    records = []
    for output in outputs:
        for line in output.splitlines():
            record = json.loads(line)
            assert isinstance(record, dict), line
            assert {"time", "level", "logger", "message"} <= set(record), line
            records.append(record)
    return records


def _no_secrets_or_people(org: Org, *outputs: str) -> None:
    text = "\n".join(outputs)
    for secret in (TOKEN, SECRET, PSEUDONYM_KEY, "xoxb-"):
        assert secret not in text
    for user_id in [*org.participants, BOT_USER_ID]:
        assert user_id not in text


def _try_scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float] | None:
    try:
        return scrape(url)
    except OSError:  # not listening yet
        return None


def test_the_scheduler_serves_its_own_metrics_and_logs_json_lines(
    database_url: str, emulator: SlackEmulator, org: Org
) -> None:
    schedule = pulse_due_now()
    settings = make_settings(emulator, database_url, CX_PULSE_SCHEDULE=schedule)
    build_deps(settings).engine.dispose()
    pulse_due_an_hour_ago(settings)
    port = free_port()
    env = process_env(
        emulator,
        database_url,
        CX_PULSE_SCHEDULE=schedule,
        CX_METRICS_PORT=str(port),
        CX_LOG_FORMAT="json",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "scheduler", "--metrics-host", "127.0.0.1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    everyone = len(org.participants)
    try:
        samples = wait_for(
            lambda: (
                (found := _try_scrape(f"{url}/metrics"))
                and value(
                    found, "cxpulse_scheduler_job_runs_total", job="cx-pulse-round", outcome="ok"
                )
                and found
            ),
            timeout=60,
        )
        with urllib.request.urlopen(f"{url}/healthz", timeout=5) as response:  # noqa: S310
            # pulse, digest, purge, reminders, publish, reply relay, comment alerts
            assert json.loads(response.read()) == {"ok": True, "jobs": 7}
        # Doctor, beside the running scheduler: it is running, and its metrics answer here.
        text_env = {k: v for k, v in env.items() if k != "CX_LOG_FORMAT"}
        doctor = cxpulse({**text_env, "PORT": str(free_port())}, "doctor")
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err[-3000:]

    assert value(samples, "cxpulse_rounds_opened_total", kind="scheduled") == 1
    assert value(samples, "cxpulse_dms_sent_total") == everyone
    assert len(emulator.calls("chat.postMessage")) == everyone
    lag_runs = value(samples, "cxpulse_scheduler_job_lag_seconds_count", job="cx-pulse-round")
    assert lag_runs >= 1
    # The missed run was due up to five minutes ago (the last five-minute mark): that is its lag.
    lag = value(samples, "cxpulse_scheduler_job_lag_seconds_sum", job="cx-pulse-round")
    assert 0 <= lag / lag_runs < 6 * 60
    stamp = value(
        samples, "cxpulse_scheduler_job_last_success_timestamp_seconds", job="cx-pulse-round"
    )
    assert abs(stamp - datetime.now(UTC).timestamp()) < 120
    for state in ("due", "waiting", "sending"):
        assert ("cxpulse_pending_deliveries", (("state", state),)) in samples

    # Every line on both streams is a JSON object, the start-up banner included.
    records = _lines_as_json(out, err)
    messages = [str(record["message"]) for record in records]
    assert any(m.startswith("cx-pulse scheduler: pulses") for m in messages), messages
    assert any(f":{port}/metrics" in m for m in messages), messages
    assert any("pulse round" in m for m in messages), messages
    _no_secrets_or_people(org, out, err)

    marks = {
        line.split(":")[0][2:]: line[:1] for line in doctor.stdout.splitlines() if line[:1] in "✓✗"
    }
    assert marks.get("Scheduler") == "✓", doctor.stdout
    assert marks.get("Metrics") == "✓", doctor.stdout
    assert f"scheduler (cxpulse scheduler) at http://127.0.0.1:{port}/metrics: up" in doctor.stdout


def test_serve_logs_json_lines_and_serves_metrics(
    database_url: str, emulator: SlackEmulator, org: Org
) -> None:
    port = free_port()
    env = process_env(emulator, database_url, PORT=str(port), CX_LOG_FORMAT="json")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--no-scheduler", "--host", "127.0.0.1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _try_scrape(f"{base}/metrics"), timeout=60)
        emulator.set_app_url(f"{base}/slack/events")
        assert emulator.send_slash_command(ADMIN, "help").status == 200
        samples = scrape(f"{base}/metrics")
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err[-3000:]
    assert value(samples, "cxpulse_ack_seconds_count", kind="command") == 1
    assert value(samples, "cxpulse_answers_recorded_total") == 0
    records = _lines_as_json(out, err)
    messages = [str(record["message"]) for record in records]
    assert f"cx-pulse listening on http://127.0.0.1:{port}/slack/events" in messages
    _no_secrets_or_people(org, out, err)


def test_commands_log_json_lines_configuration_problems_included(
    database_url: str, emulator: SlackEmulator, org: Org
) -> None:
    env = process_env(emulator, database_url, CX_LOG_FORMAT="json", PORT=str(free_port()))
    emulator.fail_next("chat.postMessage", retry_after=0)  # a 429 for slack_sdk to log about
    sent = cxpulse(env, "pulse", "send", "--yes")
    assert sent.returncode == 0, sent.stdout + sent.stderr
    doctor = cxpulse(env, "doctor")
    broken = cxpulse({**env, "CX_MIN_GROUP_SIZE": "1"}, "digest", "--print")
    assert broken.returncode == 2
    outputs = [sent.stdout, sent.stderr, doctor.stdout, doctor.stderr, broken.stdout, broken.stderr]
    messages = [str(record["message"]) for record in _lines_as_json(*outputs)]
    assert any(m.startswith("Round ") and f"{len(org.participants)} sent" in m for m in messages)
    assert any(m.startswith("Configuration problem:") for m in messages), messages
    _no_secrets_or_people(org, *outputs)


def test_doctor_says_a_scheduler_stopped_and_names_what_else_holds_a_metrics_port(
    database_url: str, emulator: SlackEmulator, org: Org
) -> None:
    import http.server
    import threading

    settings = make_settings(emulator, database_url)
    build_deps(settings).engine.dispose()
    env = process_env(emulator, database_url, PORT=str(free_port()))
    never = cxpulse(env, "doctor")
    [line] = [line for line in never.stdout.splitlines() if " Scheduler: " in line]
    assert line.startswith("✓")
    assert "no scheduler has started on this database yet" in line
    assert "start `cxpulse scheduler`" in never.stdout

    pulse_due_an_hour_ago(settings)  # stored by a scheduler that has not run for an hour

    class Other(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"<html>some other app</html>")

        def log_message(self, *_args: object) -> None:
            pass

    other = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Other)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    try:
        clash = {**env, "CX_METRICS_PORT": str(other.server_address[1])}
        stopped = cxpulse(clash, "doctor")
    finally:
        other.shutdown()
    assert stopped.returncode == 1
    [line] = [line for line in stopped.stdout.splitlines() if " Scheduler: " in line]
    assert line.startswith("✗")
    assert "no scheduler is running: the pulse job was due at" in line
    assert "cx-pulse-round: next run" in stopped.stdout
    [line] = [line for line in stopped.stdout.splitlines() if " Metrics: " in line]
    assert line.startswith("✗")
    assert f"127.0.0.1:{other.server_address[1]}/metrics" in line
