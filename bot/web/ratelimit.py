"""A sliding-window rate limit per client address, in bounded memory.

Each key (a bucket and an address) keeps the times of its last `limit` allowed requests; a
request is allowed when fewer than `limit` of them fall in the last `window` seconds. At
most `max_keys` keys are kept: the one used longest ago is forgotten first, so a flood of
addresses costs memory up to that bound and no more (and can only ever forget, never block,
someone else).
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_MAX_KEYS = 10_000


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    retry_after: int = 0  # whole seconds until a request would be allowed again


class SlidingWindowLimiter:
    def __init__(
        self,
        *,
        limit: int,
        window: float,
        max_keys: int = DEFAULT_MAX_KEYS,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit < 1 or window <= 0 or max_keys < 1:
            raise ValueError("a rate limit needs limit >= 1, window > 0 and max_keys >= 1")
        self.limit = limit
        self.window = window
        self._max_keys = max_keys
        self._now = now
        self._lock = threading.Lock()
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()

    def hit(self, key: str) -> Decision:
        """Count one request for `key`, unless it is over the limit (then it is not counted)."""
        now = self._now()
        with self._lock:
            hits = self._hits.get(key)
            if hits is None:
                hits = self._hits[key] = deque(maxlen=self.limit)
                while len(self._hits) > self._max_keys:
                    self._hits.popitem(last=False)
            else:
                self._hits.move_to_end(key)
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return Decision(False, max(1, math.ceil(hits[0] + self.window - now)))
            hits.append(now)
            return Decision(True)

    def __len__(self) -> int:
        with self._lock:
            return len(self._hits)
