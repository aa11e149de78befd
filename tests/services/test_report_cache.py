"""The /cx report cache: warm replies, background refreshes, and never stale on a gate change."""

from __future__ import annotations

import threading

from bot.sandbox.people import wait_for
from bot.services.report_cache import ReportCache


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_fresh_reports_are_served_from_memory_and_stale_ones_refresh_in_the_background() -> None:
    clock = FakeTime()
    cache: ReportCache[int] = ReportCache(max_age=60, monotonic=clock)
    builds: list[int] = []

    def build() -> int:
        builds.append(len(builds) + 1)
        return builds[-1]

    assert cache.get("k", build) == 1  # the first reply waits for the build
    clock.now = 59
    assert cache.get("k", build) == 1
    assert builds == [1]

    clock.now = 61  # stale: answered at once with what is there, rebuilt behind the scenes
    assert cache.get("k", build) == 1
    wait_for(lambda: cache.get("k", build) == 2)
    assert builds == [1, 2]

    # Another gate setting is another key: built at once, never the other setting's report.
    assert cache.get("other", build) == 3


def test_invalidate_drops_the_report_and_an_older_build_in_flight() -> None:
    clock = FakeTime()
    cache: ReportCache[str] = ReportCache(max_age=60, monotonic=clock)
    assert cache.get("k", lambda: "before") == "before"
    clock.now = 120
    release = threading.Event()

    def slow_build() -> str:
        release.wait(5)
        return "built before the forget"

    assert cache.get("k", slow_build) == "before"  # starts a background refresh
    cache.invalidate()  # someone ran /cx forget-me meanwhile
    release.set()
    assert cache.get("k", lambda: "after") == "after"
    clock.now = 150
    assert cache.get("k", lambda: "never asked") == "after"
