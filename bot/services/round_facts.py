"""What never changes about a round once it is open, cached per process.

Every click needs a round's closing time, questions and the leaders' actions it opened with;
none of them change after the round opens, so they are read once instead of on every click.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

MAX_ROUNDS = 64


@dataclass(frozen=True, slots=True)
class ActionLine:
    """What leaders said they are doing about a dimension, and once a commitment has been
    followed up, what came of it: "you said, we did"."""

    dimension: str
    text: str
    result: str | None = None  # "up", "down" or "none" once followed up; None while running
    now: float | None = None  # the favourable share the follow-up found
    before: float | None = None


@dataclass(frozen=True, slots=True)
class RoundFacts:
    round_id: int
    period: str
    opened_at: datetime
    closes_at: datetime
    questions: tuple[tuple[str, str], ...]  # (question id, text), in order
    actions: tuple[ActionLine, ...]  # what leaders are doing, and what came of it


class RoundFactsCache:
    """A small thread-safe LRU of RoundFacts by round id."""

    def __init__(self, size: int = MAX_ROUNDS) -> None:
        self._size = size
        self._facts: OrderedDict[int, RoundFacts] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, round_id: int, load: Callable[[], RoundFacts | None]) -> RoundFacts | None:
        with self._lock:
            found = self._facts.get(round_id)
            if found is not None:
                self._facts.move_to_end(round_id)
                return found
        loaded = load()
        if loaded is not None:
            with self._lock:
                self._facts[round_id] = loaded
                while len(self._facts) > self._size:
                    self._facts.popitem(last=False)
        return loaded
