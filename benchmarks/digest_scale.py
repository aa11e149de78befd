"""Benchmark 3: the digest over a million answers, against a bare GROUP BY on the same table."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from benchmarks.dataset import load_answers, respondent_id
from benchmarks.digest_profile import HotSpots, hot_spots
from bot.clock import ManualClock
from bot.db import workspace_settings as snapshots
from bot.db.engine import session_scope
from bot.render.home import home_view
from bot.render.json_report import report_json
from bot.render.replies import score_message
from bot.runtime import build_deps
from bot.services.context import Deps
from bot.services.digest import build_digest, latest_report
from bot.services.home import home_state
from bot.settings import Settings

KEY = "bench-pseudonym-key-0123456789"
ADMIN = "UBENCHADMIN"
NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
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
    cx_cold_s: float  # `/cx score` reply built with nothing cached (the first since start)
    cx_warm_s: float  # median `/cx score` reply afterwards (report from the process cache)
    home_s: float  # median App Home view (state + blocks) of a leader who answered every week

    @property
    def ratio(self) -> float:
        return self.digest_s / self.bare_s


def _seconds(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


class _LeadersOnly:
    """Slack's side of App Home: only `channel_members` is asked (is this person a leader?)."""

    def channel_members(self, channel: str) -> list[str]:
        return [ADMIN]


def _cx_and_home(deps: Deps, respondent: str) -> tuple[float, float, float]:
    """Seconds for a cold and a warm `/cx score` reply, and for an App Home view."""
    deps.reports.invalidate()
    cold = _seconds(lambda: score_message(latest_report(deps), deps.prompts, None))
    warm = statistics.median(
        _seconds(lambda: score_message(latest_report(deps), deps.prompts, None))
        for _ in range(REPEATS)
    )
    gateway: Any = _LeadersOnly()
    home = statistics.median(
        _seconds(
            lambda: home_view(home_state(deps, gateway, slack_user_id=respondent), deps.prompts)
        )
        for _ in range(REPEATS)
    )
    return cold, warm, home


def run_digest_scale(url: str, label: str, *, people: int, weeks: int) -> DigestScale:
    settings = Settings.model_validate(
        {
            "DATABASE_URL": url,
            "CX_PSEUDONYM_KEY": KEY,
            "CX_LEADERSHIP_CHANNEL": "C0LEADERS",
            "CX_ADMINS": ADMIN,
        }
    )
    deps = build_deps(settings, clock=ManualClock(NOW))
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
        with session_scope(deps.engine) as session:  # what a posted digest leaves for App Home
            snapshots.save_snapshot(
                session=session, period=report.period, findings=report_json(report), now=NOW
            )
        cx_cold, cx_warm, home = _cx_and_home(deps, respondent=respondent_id(0))
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
            cx_cold_s=cx_cold,
            cx_warm_s=cx_warm,
            home_s=home,
        )
    finally:
        deps.engine.dispose()
