"""Benchmark 3: the digest over a million answers, against a bare GROUP BY on the same table."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import text

from benchmarks.dataset import load_answers
from benchmarks.digest_profile import HotSpots, hot_spots
from bot.clock import ManualClock
from bot.runtime import build_deps
from bot.services.digest import build_digest
from bot.settings import Settings

KEY = "bench-pseudonym-key-0123456789"
BARE_QUERY = "SELECT question_id, score, count(*) FROM answer GROUP BY question_id, score"
REPEATS = 3
TEAMS = 50


@dataclass(frozen=True, slots=True)
class DigestScale:
    database: str
    answers: int
    load_s: float
    first_s: float  # the first digest of the process: no statement compiled or cached yet
    digest_s: float  # median of REPEATS, each run beside a bare query
    bare_s: float  # median of REPEATS
    dimensions: int  # dimension readings in the report: proof it looked at the data
    teams: int  # teams shown
    hot_spots: HotSpots  # from one more digest, timed by repository call and profiled

    @property
    def ratio(self) -> float:
        return self.digest_s / self.bare_s


def _seconds(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def run_digest_scale(url: str, label: str, *, people: int, weeks: int) -> DigestScale:
    settings = Settings.model_validate({"DATABASE_URL": url, "CX_PSEUDONYM_KEY": KEY})
    deps = build_deps(settings, clock=ManualClock(datetime(2026, 11, 23, 12, tzinfo=UTC)))
    try:
        started = time.perf_counter()
        answers = load_answers(
            deps.engine, deps.prompts, people=people, weeks=weeks, teams=TEAMS, key=KEY.encode()
        )
        with deps.engine.begin() as connection:
            connection.execute(text("ANALYZE"))
        load_s = time.perf_counter() - started

        def bare() -> None:
            with deps.engine.connect() as connection:
                connection.execute(text(BARE_QUERY)).all()

        first_s = _seconds(lambda: build_digest(deps))
        digests, bares = [], []
        for _ in range(REPEATS):  # interleaved, so a noisy neighbour slows both alike
            digests.append(_seconds(lambda: build_digest(deps)))
            bares.append(_seconds(bare))
        report = build_digest(deps)
        return DigestScale(
            database=label,
            answers=answers,
            load_s=load_s,
            first_s=first_s,
            digest_s=statistics.median(digests),
            bare_s=statistics.median(bares),
            dimensions=len(report.findings.dimensions),
            teams=len(report.findings.teams),
            hot_spots=hot_spots(deps),
        )
    finally:
        deps.engine.dispose()
