"""The metrics registry: one per process (never prometheus_client's global one), names as the
README lists them, and nothing imported by commands that serve no metrics."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from bot.metrics import Metrics, PrometheusMetrics, label

README = Path(__file__).resolve().parents[1] / "README.md"


def _samples(metrics: PrometheusMetrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    exposition = metrics.exposition()
    text = exposition[1].decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_each_process_counts_in_a_registry_of_its_own() -> None:
    first, second = PrometheusMetrics(), PrometheusMetrics()
    first.answer_recorded()
    first.answer_recorded()
    second.answer_recorded()
    assert _samples(first)[("cxpulse_answers_recorded_total", ())] == 2
    assert _samples(second)[("cxpulse_answers_recorded_total", ())] == 1
    assert REGISTRY.get_sample_value("cxpulse_answers_recorded_total") is None


def test_the_exposition_is_prometheus_text() -> None:
    metrics = PrometheusMetrics()
    metrics.acked("block_actions", 0.012)
    metrics.rate_limited("chat.postMessage", 1.5)
    content_type, body = metrics.exposition()
    assert content_type.startswith("text/plain; version=")
    assert b"# TYPE cxpulse_ack_seconds histogram" in body
    samples = _samples(metrics)
    assert (
        samples[("cxpulse_ack_seconds_bucket", (("kind", "block_actions"), ("le", "0.025")))] == 1
    )
    assert samples[("cxpulse_ack_seconds_bucket", (("kind", "block_actions"), ("le", "0.01")))] == 0
    assert (
        samples[("cxpulse_rate_limit_wait_seconds_total", (("method", "chat.postMessage"),))] == 1.5
    )


def test_label_values_are_bounded() -> None:
    assert label("chat.postMessage") == "chat.postMessage"
    assert label("cx-pulse-round") == "cx-pulse-round"
    assert label("user_not_found") == "user_not_found"
    for stray in (None, "", "a value with spaces", "x" * 65, "ünïcode", "{}"):
        assert label(stray) == "other"
    metrics = PrometheusMetrics()
    metrics.dm_failed("something odd: 'quoted'")
    assert _samples(metrics)[("cxpulse_dms_failed_total", (("error", "other"),))] == 1


def test_the_queue_is_counted_at_most_once_per_ttl_and_left_out_when_unknown() -> None:
    metrics = PrometheusMetrics(queue_ttl_s=60)
    calls: list[int] = []

    def count() -> dict[str, int]:
        calls.append(1)
        return {"due": 3, "waiting": 2}

    assert not any(name == "cxpulse_pending_deliveries" for name, _ in _samples(metrics))
    metrics.watch_queue(count)
    first, second = _samples(metrics), _samples(metrics)
    assert len(calls) == 1
    assert first == second
    assert first[("cxpulse_pending_deliveries", (("state", "due"),))] == 3
    assert first[("cxpulse_pending_deliveries", (("state", "waiting"),))] == 2
    assert first[("cxpulse_pending_deliveries", (("state", "sending"),))] == 0
    metrics.watch_queue(lambda: None)  # the database cannot be read just now
    assert not any(name == "cxpulse_pending_deliveries" for name, _ in _samples(metrics))


def test_a_failed_digest_build_is_not_timed() -> None:
    metrics = PrometheusMetrics()
    with metrics.digest_build():
        pass
    try:
        with metrics.digest_build():
            raise LookupError("nothing to report")
    except LookupError:
        pass
    assert _samples(metrics)[("cxpulse_digest_build_seconds_count", ())] == 1


def test_the_readme_lists_every_metric() -> None:
    metrics = PrometheusMetrics()
    metrics.watch_queue(lambda: {})
    exposition = metrics.exposition()[1].decode()
    found = re.findall(r"^# TYPE (\w+) (\w+)$", exposition, flags=re.MULTILINE)
    names = {(name, kind) for name, kind in found if not name.endswith("_created")}
    section = README.read_text().split("## Observability", 1)[1].split("\n## ", 1)[0]
    for name, kind in names:
        assert f"`{name}` | {kind} |" in section, name
    assert len(names) == 16  # 13, and the three of comments passed to admins (issue 14)


def test_counting_nothing_imports_nothing() -> None:
    probe = (
        "import sys\n"
        "from bot.metrics import Metrics\n"
        "from bot.services.context import Deps\n"
        "m = Metrics()\n"
        "m.dm_sent(); m.acked('command', 0.1)\n"
        "with m.digest_build():\n"
        "    pass\n"
        "assert m.exposition() is None\n"
        "assert 'prometheus_client' not in sys.modules\n"
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter and probe
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert isinstance(PrometheusMetrics(), Metrics)
