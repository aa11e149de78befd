"""The latest digest report, kept warm per process so `/cx` replies never wait for a digest
over a million answers.

A reply may show a report up to `max_age` seconds old while a fresh one is built in the
background (stale-while-revalidate). Never stale where it matters for anonymity: the report
is cached per gate setting (a raised minimum builds afresh, at once), and `invalidate()` (after
`/cx forget-me`) drops it so the next reply is built without the deleted answers.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_AGE_SECONDS = 60.0


class ReportCache(Generic[T]):
    """One value per key, rebuilt in a background thread once older than `max_age`."""

    def __init__(
        self,
        *,
        max_age: float = MAX_AGE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max_age = max_age
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._entries: dict[Hashable, tuple[float, T]] = {}
        self._refreshing: set[Hashable] = set()
        # Bumped by invalidate(), so a build that started before it is never stored after it.
        self._generation = 0

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        with self._lock:
            entry = self._entries.get(key)
            stale = entry is not None and self._monotonic() - entry[0] >= self._max_age
            refresh = stale and key not in self._refreshing
            if refresh:
                self._refreshing.add(key)
        if entry is None:
            return self._store(key, build)
        if refresh:
            threading.Thread(
                target=self._refresh, args=(key, build), name="cx-report", daemon=True
            ).start()
        return entry[1]

    def invalidate(self) -> None:
        with self._lock:
            self._entries.clear()
            self._generation += 1

    def _store(self, key: Hashable, build: Callable[[], T]) -> T:
        with self._lock:
            generation = self._generation
        started = self._monotonic()
        value = build()
        with self._lock:
            if generation == self._generation:
                self._entries[key] = (started, value)
        return value

    def _refresh(self, key: Hashable, build: Callable[[], T]) -> None:
        try:
            self._store(key, build)
        except Exception:
            # The stale report stays; the next reply past max_age tries again.
            log.exception("could not refresh the cached report")
        finally:
            with self._lock:
                self._refreshing.discard(key)
