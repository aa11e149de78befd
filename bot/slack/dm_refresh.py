"""Re-rendering pulse DMs after clicks: at most one refresh per message at a time, always of
the state as stored when the refresh runs.

A person ticks four or five statements within seconds, and each tick changes their DM. Sending
one `chat.update` per click spent more CPU than storing the clicks (benchmark 2 ran at 82% of a
bare Bolt app with no updates and under 40% with one per click), called a rate-limited Slack
method (Tier 3) once per click, and let two updates of one message race, so an older rendering
could land last and hide a tick. Here a click only marks its message stale. A refresh reads the
person's answers when it starts, so clicks that arrive before then are covered by it, and a
click during a refresh makes one more refresh follow. The last refresh of a message therefore
starts after its last click is stored and shows every answer.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable
from concurrent.futures import Executor

log = logging.getLogger(__name__)

Refresh = Callable[[], None]


class StaleMessages:
    """Coalescing refreshes per message key, run on `executor`."""

    def __init__(self, executor: Executor) -> None:
        self._executor = executor
        self._lock = threading.Lock()
        self._queued: dict[Hashable, Refresh] = {}  # waiting for a thread
        self._running: set[Hashable] = set()
        self._again: dict[Hashable, Refresh] = {}  # marked stale while a refresh ran

    def mark(self, key: Hashable, refresh: Refresh) -> None:
        """The message `key` changed; `refresh` re-renders it from the stored state."""
        with self._lock:
            if key in self._queued:
                return  # the queued refresh has not read anything yet: it will see this change
            if key in self._running:
                self._again[key] = refresh
                return
            self._queued[key] = refresh
        self._executor.submit(self._run, key)

    def _run(self, key: Hashable) -> None:
        with self._lock:
            refresh = self._queued.pop(key)
            self._running.add(key)
        try:
            refresh()
        except Exception as error:  # the answer is stored; only the DM's ticks lag
            log.warning("could not refresh a pulse DM: %s", type(error).__name__)
        finally:
            with self._lock:
                self._running.discard(key)
                follow = self._again.pop(key, None)
                if follow is not None:
                    self._queued[key] = follow
            if follow is not None:
                self._executor.submit(self._run, key)

    def pending(self) -> int:
        """Messages waiting for or in a refresh (tests wait for it to reach 0)."""
        with self._lock:
            return len(self._queued) + len(self._running) + len(self._again)
