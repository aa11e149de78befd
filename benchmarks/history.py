"""Cost flat in history: the same organisation with 10 and with 100 weeks behind it, each
command run as a whole process (start-up included); and start-up against a bare interpreter.

Closed weeks are published once and frozen, so a digest or a `/cx` reply reads at most the
report's window of published weeks, never raw answers, however long the history.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.dataset import LAST_MONDAY, load_answers
from bot.clock import ManualClock
from bot.runtime import build_deps
from bot.services.publication import publish_due_weeks
from bot.settings import Settings

KEY = "bench-pseudonym-key-0123456789"
TEAMS = 20
REPEATS = 3
# A week after the last round closed: every loaded week is due for publication.
AFTER = datetime.combine(LAST_MONDAY, datetime.min.time(), tzinfo=UTC) + timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Cost:
    wall_s: float
    cpu_s: float  # user + system of the child process


def _env(url: str) -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "SYSTEMROOT")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update({"DATABASE_URL": url, "CX_PSEUDONYM_KEY": KEY, "PYTHONDONTWRITEBYTECODE": "0"})
    return env


def _run(argv: list[str], env: dict[str, str]) -> Cost:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        argv, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        raise RuntimeError(f"{argv} failed: {done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Cost(wall, cpu)


def _median(costs: list[Cost]) -> Cost:
    return Cost(
        statistics.median(c.wall_s for c in costs), statistics.median(c.cpu_s for c in costs)
    )


def build_history(path: Path, *, people: int, weeks: int) -> tuple[str, int]:
    """A database with `weeks` closed, published weekly rounds; (its URL, answers loaded)."""
    url = f"sqlite:///{path}"
    settings = Settings.model_validate({"DATABASE_URL": url, "CX_PSEUDONYM_KEY": KEY})
    deps = build_deps(settings, clock=ManualClock(AFTER))
    try:
        answers = load_answers(
            deps.engine, deps.prompts, people=people, weeks=weeks, teams=TEAMS, key=KEY.encode()
        )
        publish_due_weeks(deps)
    finally:
        deps.engine.dispose()
    return url, answers


@dataclass(frozen=True, slots=True)
class History:
    people: int
    weeks: tuple[int, int]
    answers: tuple[int, int]
    digest: tuple[Cost, Cost]  # `cxpulse digest --json`, short history then long
    reply: tuple[Cost, Cost]  # a process's first `/cx score` reply after start-up

    def ratios(self, costs: tuple[Cost, Cost]) -> tuple[float, float]:
        short, long = costs
        return long.cpu_s / short.cpu_s, long.wall_s / short.wall_s


DIGEST = [sys.executable, "-m", "bot", "digest", "--json"]
FIRST_REPLY = [sys.executable, "-m", "benchmarks.first_reply"]


def run_history(folder: Path, *, people: int, weeks: tuple[int, int] = (10, 100)) -> History:
    built = [build_history(folder / f"history-{w}.db", people=people, weeks=w) for w in weeks]
    envs = [_env(url) for url, _ in built]
    digests: list[list[Cost]] = [[], []]
    replies: list[list[Cost]] = [[], []]
    for env in envs:  # warm the OS caches and the .pyc files alike for both
        _run(DIGEST, env)
    for _ in range(REPEATS):  # interleaved, so a noisy neighbour slows both alike
        for i, env in enumerate(envs):
            digests[i].append(_run(DIGEST, env))
            replies[i].append(_run(FIRST_REPLY, env))
    return History(
        people=people,
        weeks=weeks,
        answers=(built[0][1], built[1][1]),
        digest=(_median(digests[0]), _median(digests[1])),
        reply=(_median(replies[0]), _median(replies[1])),
    )


@dataclass(frozen=True, slots=True)
class StartUp:
    bare: Cost  # `python -c pass`
    help: Cost  # `cxpulse --help`
    digest: Cost  # `cxpulse digest --json` on an empty database (nothing published yet)


def run_startup(folder: Path) -> StartUp:
    empty = f"sqlite:///{folder / 'empty.db'}"
    env = _env(empty)
    commands = {
        "bare": [sys.executable, "-c", "pass"],
        "help": [sys.executable, "-m", "bot", "--help"],
        "digest": DIGEST,
    }
    _run(commands["digest"], env)  # migrates the empty database once, outside the figures
    found: dict[str, list[Cost]] = {name: [] for name in commands}
    for _ in range(REPEATS + 2):
        for name, argv in commands.items():
            found[name].append(_run(argv, env))
    return StartUp(
        bare=_median(found["bare"]), help=_median(found["help"]), digest=_median(found["digest"])
    )
