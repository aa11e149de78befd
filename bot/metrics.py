"""What cx-pulse counts, served as `GET /metrics` in Prometheus's text format.

Use cases report what happened through the `Metrics` on their `Deps` (`deps.metrics`). The base
class counts nothing: it is what a one-off command (`cxpulse digest`, `export`...) gets, and it
never imports prometheus_client. `PrometheusMetrics` is made once per long-running process
(`cxpulse serve`, `cxpulse scheduler`, a test) and handed to everything that counts; it keeps
its own CollectorRegistry, never the library's global one, so two in one process never mix.

Every name, type and label is listed in the README ("Observability").
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

    from prometheus_client import CollectorRegistry
    from prometheus_client.metrics_core import Metric

log = logging.getLogger(__name__)

# Slack must see an ack within 3 s; cx-pulse aims for a p99 under 150 ms.
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)
DIGEST_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
# A run is late by the scheduler's wake-up (ms), a busy pool (s), or an outage (up to the
# misfire grace, CX_MISFIRE_GRACE_HOURS, 72 h at most).
LAG_BUCKETS = (0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0, 4 * 3600.0, 24 * 3600.0)
# The states of a delivery still to go (cxpulse_pending_deliveries{state}).
QUEUE_STATES = ("due", "waiting", "sending")
PENDING_TTL_S = 10.0  # a scrape every few seconds runs the count at most this often
# Label values come from a closed set; anything else (an unexpected Slack error) is "other".
_LABEL = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def label(value: str | None) -> str:
    """`value` as a label value if it is a short code (chat.postMessage, user_not_found), else
    "other": a stray value cannot make series without bound."""
    return value if value is not None and _LABEL.fullmatch(value) else "other"


QueueSource = Callable[[], Mapping[str, int] | None]


class Metrics:
    """Counts nothing. Subclassed by PrometheusMetrics; every method is a no-op here."""

    def round_opened(self, kind: str) -> None:
        """A pulse round was created (`kind`: scheduled or adhoc)."""

    def dm_sent(self) -> None:
        """A pulse DM reached its person."""

    def dm_failed(self, error: str) -> None:
        """Slack refused a pulse DM for good (`error`: Slack's error code)."""

    def dm_retried(self, reason: str) -> None:
        """A pulse DM was tried again: server_error, connection, or reclaimed (a crashed
        worker's claim taken over)."""

    def rate_limited(self, method: str, waited_s: float) -> None:
        """A Slack call answered 429 and the client waited `waited_s` before trying again."""

    def answer_recorded(self) -> None:
        """A score click was stored (a changed answer counts again)."""

    def alert_queued(self, category: str) -> None:
        """A comment was passed to admins instead of leaders (bot.services.alerts)."""

    def alert_delivered(self) -> None:
        """A comment passed to admins reached them."""

    def alert_failed(self, reason: str) -> None:
        """A try at sending a comment to admins failed; it stays queued (`reason`: no_admins,
        undecryptable, or Slack's error)."""

    def acked(self, kind: str, seconds: float) -> None:
        """Slack's request of `kind` was answered after `seconds`."""

    @contextmanager
    def digest_build(self) -> Iterator[None]:
        """Times a digest being built (only the builds that produce one)."""
        yield

    def job_submitted(self, job: str, lag_s: float) -> None:
        """The scheduler started `job`, `lag_s` after the time it was due."""

    def job_finished(self, job: str, outcome: str) -> None:
        """A scheduled run ended: ok, error, missed (past its grace) or skipped (still running)."""

    def watch_queue(self, source: QueueSource | None) -> None:
        """Where cxpulse_pending_deliveries comes from: counts by state (QUEUE_STATES), or
        None when they cannot be read just now."""

    def exposition(self) -> tuple[str, bytes] | None:
        """(content type, body) for GET /metrics; None: this process serves no metrics."""
        return None


class PrometheusMetrics(Metrics):
    """Metrics in a registry of their own, exposed in Prometheus's text format."""

    def __init__(self, *, queue_ttl_s: float = PENDING_TTL_S) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry: CollectorRegistry = CollectorRegistry()
        registry = self.registry
        self._rounds = Counter(
            "cxpulse_rounds_opened_total", "Pulse rounds opened.", ["kind"], registry=registry
        )
        self._sent = Counter("cxpulse_dms_sent_total", "Pulse DMs delivered.", registry=registry)
        self._failed = Counter(
            "cxpulse_dms_failed_total",
            "Pulse DMs Slack refused for good, by Slack error code.",
            ["error"],
            registry=registry,
        )
        self._retried = Counter(
            "cxpulse_dms_retried_total",
            "Pulse DMs tried again (server_error, connection, reclaimed).",
            ["reason"],
            registry=registry,
        )
        self._waits = Counter(
            "cxpulse_rate_limit_waits_total",
            "Slack 429 answers waited out (Retry-After), by API method.",
            ["method"],
            registry=registry,
        )
        self._waited = Counter(
            "cxpulse_rate_limit_wait_seconds_total",
            "Seconds spent waiting out Slack 429 answers, by API method.",
            ["method"],
            registry=registry,
        )
        self._answers = Counter(
            "cxpulse_answers_recorded_total", "Score clicks stored.", registry=registry
        )
        self._alerts_queued = Counter(
            "cxpulse_alerts_queued_total",
            "Comments passed to admins instead of leaders, by category.",
            ["category"],
            registry=registry,
        )
        self._alerts_delivered = Counter(
            "cxpulse_alerts_delivered_total",
            "Comments passed to admins that reached them.",
            registry=registry,
        )
        self._alerts_failed = Counter(
            "cxpulse_alert_failures_total",
            "Tries at sending a comment to admins that failed (it stays queued), by reason.",
            ["reason"],
            registry=registry,
        )
        self._ack = Histogram(
            "cxpulse_ack_seconds",
            "Time to answer a request from Slack (its ack), by payload type.",
            ["kind"],
            buckets=ACK_BUCKETS,
            registry=registry,
        )
        self._digest = Histogram(
            "cxpulse_digest_build_seconds",
            "Time to build a digest report.",
            buckets=DIGEST_BUCKETS,
            registry=registry,
        )
        self._lag = Histogram(
            "cxpulse_scheduler_job_lag_seconds",
            "How late a scheduled job started, after its scheduled run time.",
            ["job"],
            buckets=LAG_BUCKETS,
            registry=registry,
        )
        self._runs = Counter(
            "cxpulse_scheduler_job_runs_total",
            "Scheduled job runs by outcome (ok, error, missed, skipped).",
            ["job", "outcome"],
            registry=registry,
        )
        self._last_ok = Gauge(
            "cxpulse_scheduler_job_last_success_timestamp_seconds",
            "When a scheduled job last finished without error (Unix time).",
            ["job"],
            registry=registry,
        )
        self._queue = _QueueCollector(ttl_s=queue_ttl_s)
        registry.register(self._queue)

    def round_opened(self, kind: str) -> None:
        self._rounds.labels(kind=label(kind)).inc()

    def dm_sent(self) -> None:
        self._sent.inc()

    def dm_failed(self, error: str) -> None:
        self._failed.labels(error=label(error)).inc()

    def dm_retried(self, reason: str) -> None:
        self._retried.labels(reason=label(reason)).inc()

    def rate_limited(self, method: str, waited_s: float) -> None:
        method = label(method)
        self._waits.labels(method=method).inc()
        self._waited.labels(method=method).inc(max(waited_s, 0.0))

    def answer_recorded(self) -> None:
        self._answers.inc()

    def alert_queued(self, category: str) -> None:
        self._alerts_queued.labels(category=label(category)).inc()

    def alert_delivered(self) -> None:
        self._alerts_delivered.inc()

    def alert_failed(self, reason: str) -> None:
        self._alerts_failed.labels(reason=label(reason)).inc()

    def acked(self, kind: str, seconds: float) -> None:
        self._ack.labels(kind=label(kind)).observe(seconds)

    @contextmanager
    def digest_build(self) -> Iterator[None]:
        started = time.perf_counter()
        yield  # a build that raises (nothing to report yet) is not a build time
        self._digest.observe(time.perf_counter() - started)

    def job_submitted(self, job: str, lag_s: float) -> None:
        self._lag.labels(job=label(job)).observe(max(lag_s, 0.0))

    def job_finished(self, job: str, outcome: str) -> None:
        job = label(job)
        self._runs.labels(job=job, outcome=label(outcome)).inc()
        if outcome == "ok":
            self._last_ok.labels(job=job).set(time.time())

    def watch_queue(self, source: QueueSource | None) -> None:
        self._queue.watch(source)

    def exposition(self) -> tuple[str, bytes]:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return CONTENT_TYPE_LATEST, generate_latest(self.registry)


class _QueueCollector:
    """cxpulse_pending_deliveries, counted when scraped (at most once every `ttl_s`)."""

    name = "cxpulse_pending_deliveries"
    help = (
        "Pulse DMs still to go in open rounds: due now, waiting for a person's local time, "
        "or being sent."
    )

    def __init__(self, *, ttl_s: float) -> None:
        self._ttl_s = ttl_s
        self._lock = threading.Lock()
        self._source: QueueSource | None = None
        self._counted: tuple[float, Mapping[str, int] | None] | None = None

    def watch(self, source: QueueSource | None) -> None:
        with self._lock:
            self._source, self._counted = source, None

    def _counts(self) -> Mapping[str, int] | None:
        with self._lock:  # one scrape counts; one arriving meanwhile waits and reuses it
            if self._source is None:
                return None
            now = time.monotonic()
            if self._counted is None or now - self._counted[0] >= self._ttl_s:
                self._counted = (now, self._source())
            return self._counted[1]

    def _family(self, counts: Mapping[str, int] | None) -> Metric:
        from prometheus_client.core import GaugeMetricFamily

        family = GaugeMetricFamily(self.name, self.help, labels=["state"])
        for state in QUEUE_STATES if counts is not None else ():
            family.add_metric([state], float(counts.get(state, 0)))  # type: ignore[union-attr]
        return family

    def describe(self) -> Iterable[Metric]:
        return [self._family(None)]

    def collect(self) -> Iterable[Metric]:
        counts = self._counts()
        return [] if counts is None else [self._family(counts)]


def metrics_app(
    metrics: Metrics, *, health: Callable[[], Mapping[str, Any]] | None = None
) -> Callable[[WSGIEnvironment, StartResponse], Iterable[bytes]]:
    """A WSGI app of its own for a process with no web surface (`cxpulse scheduler`): GET
    /metrics, and GET /healthz answering `health()` (200 when it says "ok": true, else 503)."""
    import json

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD")
        if method == "GET" and path == "/metrics":
            return serve_metrics(metrics, start_response)
        if method == "GET" and path == "/healthz" and health is not None:
            state = dict(health())
            status = "200 OK" if state.get("ok") else "503 Service Unavailable"
            start_response(status, [("Content-Type", "application/json")])
            return [json.dumps(state).encode()]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found\n"]

    return app


def serve_metrics(metrics: Metrics, start_response: StartResponse) -> Iterable[bytes]:
    """The response to GET /metrics: the exposition, or 404 when nothing is counted."""
    exposition = metrics.exposition()
    if exposition is None:
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"this process collects no metrics\n"]
    content_type, body = exposition
    start_response("200 OK", [("Content-Type", content_type)])
    return [body]
