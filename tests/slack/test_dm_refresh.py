"""StaleMessages: one refresh per message at a time, clicks during a refresh get one more."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from bot.sandbox.people import wait_for
from bot.slack.dm_refresh import StaleMessages


def test_marks_while_queued_share_one_refresh_and_a_mark_while_running_gets_one_more() -> None:
    started, release = threading.Event(), threading.Event()
    runs: list[str] = []

    def slow(label: str) -> None:
        runs.append(label)
        started.set()
        release.wait(5)

    with ThreadPoolExecutor(max_workers=1) as executor:
        stale = StaleMessages(executor)
        stale.mark("dm", lambda: slow("first"))
        assert started.wait(5)
        # While "first" runs, three more clicks: they need exactly one refresh after it.
        for label in ("second", "third", "fourth"):
            stale.mark("dm", lambda label=label: runs.append(label))
        release.set()
        wait_for(lambda: stale.pending() == 0)
    assert runs == ["first", "fourth"]


def test_messages_refresh_independently_and_a_failure_does_not_stop_the_next() -> None:
    seen: list[str] = []

    def broken() -> None:
        raise RuntimeError("slack is down")

    with ThreadPoolExecutor(max_workers=2) as executor:
        stale = StaleMessages(executor)
        stale.mark("a", broken)
        stale.mark("b", lambda: seen.append("b"))
        wait_for(lambda: stale.pending() == 0)
        stale.mark("a", lambda: seen.append("a"))
        wait_for(lambda: stale.pending() == 0)
    assert sorted(seen) == ["a", "b"]


def test_a_burst_on_one_message_never_runs_two_refreshes_at_once() -> None:
    active, most = 0, 0
    lock = threading.Lock()

    def refresh() -> None:
        nonlocal active, most
        with lock:
            active += 1
            most = max(most, active)
        threading.Event().wait(0.001)
        with lock:
            active -= 1

    with ThreadPoolExecutor(max_workers=8) as executor:
        stale = StaleMessages(executor)
        for _ in range(500):
            stale.mark("dm", refresh)
        wait_for(lambda: stale.pending() == 0)
    assert most == 1
