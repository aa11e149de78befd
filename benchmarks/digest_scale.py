"""Benchmark 3: the digest over a million answers, against a bare GROUP BY on the same table."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import text

from benchmarks.dataset import load_answers
from bot.clock import ManualClock
from bot.runtime import build_deps
from bot.services.digest import build_digest
from bot.settings import Settings

KEY = "bench-pseudonym-key-0123456789"
BARE_QUERY = (
    "SELECT r.period, q.dimension, a.team, a.score, count(*) FROM answer a"
    " JOIN pulse_round r ON r.id = a.round_id JOIN question q ON q.id = a.question_id"
    " GROUP BY r.period, q.dimension, a.team, a.score"
)


@dataclass(frozen=True, slots=True)
class DigestScale:
    database: str
    answers: int
    digest_s: float
    bare_s: float

    @property
    def ratio(self) -> float:
        return self.digest_s / self.bare_s


def _median_seconds(action: Callable[[], object], repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def run_digest_scale(url: str, label: str, *, people: int, weeks: int) -> DigestScale:
    settings = Settings.model_validate({"DATABASE_URL": url, "CX_PSEUDONYM_KEY": KEY})
    deps = build_deps(settings, clock=ManualClock(datetime(2026, 11, 23, 12, tzinfo=UTC)))
    try:
        answers = load_answers(
            deps.engine, deps.prompts, people=people, weeks=weeks, teams=50, key=KEY.encode()
        )
        if deps.engine.dialect.name == "postgresql":
            with deps.engine.begin() as connection:
                connection.execute(text("ANALYZE"))
        build_digest(deps)  # warm caches, as a running bot would have them

        def bare() -> None:
            with deps.engine.connect() as connection:
                connection.execute(text(BARE_QUERY)).all()

        return DigestScale(
            database=label,
            answers=answers,
            digest_s=_median_seconds(lambda: build_digest(deps)),
            bare_s=_median_seconds(bare),
        )
    finally:
        deps.engine.dispose()
