"""Benchmarks 2 and 4: signed clicks from 50 concurrent clients against `cxpulse serve`, and the
same clicks against a bare Bolt app that only acks; throughput, latency, CPU and peak memory."""

from __future__ import annotations

import os
import random
import sqlite3
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchmarks.load import Load, hammer
from benchmarks.procstat import PeakPss, cpu_seconds, peak_rss_mb
from benchmarks.served import serving
from bot.db.models import RoundKind
from bot.prompts import load_prompts
from bot.pseudonym import pseudonym
from bot.render.ids import ActionId, BlockId
from bot.runtime import build_deps
from bot.sandbox import actors
from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.people import answered_in, confirmed, latest_dm, question_ids
from bot.services.rounds import send_round
from bot.settings import Settings
from bot.slack.gateway import make_gateway

TOKEN = "xoxb-bench"  # noqa: S105 - the emulator's token
SECRET = "bench-signing-secret"  # noqa: S105
KEY = "bench-pseudonym-key-0123456789"
CLIENTS = 50
WARMUP_CLICKS = 100  # sent to each app before the clock starts (imports, caches, pools)
SETTLE_S = 30.0


@dataclass(frozen=True, slots=True)
class Click:
    user: str
    question: str
    score: int
    body: str  # the form body Slack would post; signed only when sent


@dataclass(frozen=True, slots=True)
class AppRun:
    load: Load
    cpu_ms_per_request: float  # the app process's CPU, all threads, per timed request
    peak_rss_mb: float
    peak_pss_mb: float  # shared pages counted once (sampled: a lower bound of the true peak)


@dataclass(frozen=True, slots=True)
class Interactions:
    cxpulse: AppRun
    bare: AppRun
    answers_expected: int  # distinct (person, statement) pairs clicked
    answers_stored: int
    answers_wrong: int  # stored score differs from that person's last click on the statement
    dms_wrong: int  # statements not ticked in the DM or not confirmed as last clicked, settled
    dms_settle_s: float  # after the last ack, until every DM and confirmation showed the last click


def _click(emulator: SlackEmulator, user: str, rng: random.Random) -> Click:
    """`user` clicks a random score on a random statement of their pulse DM."""
    message = latest_dm(emulator, user)
    question, score = rng.choice(question_ids(message)), rng.randint(1, 5)
    action_id = f"{ActionId.ANSWER_PREFIX}{score}"
    block_id = f"{BlockId.QUESTION_PREFIX}{question}"
    button = actors.find_element(message, block_id, action_id)
    if button is None:
        raise LookupError(f"no {action_id} button in {block_id}")
    payload = actors.block_actions_payload(
        team={"id": emulator.team_id, "domain": emulator.team_domain},
        user={"id": user, "username": user, "name": user, "team_id": emulator.team_id},
        channel={"id": emulator.dm_channel(user), "name": "directmessage"},
        message=message,
        action=actors.button_action(
            action_id=action_id,
            block_id=block_id,
            value=str(button["value"]),
            label=button.get("text") or {"type": "plain_text", "text": str(score)},
        ),
        response_url=f"{emulator.base_url}/respond/unused",
        trigger_id="1.1.bench",
    )
    return Click(user, question, score, actors.payload_body(payload))


def _check_answers(database: Path, clicks: list[Click]) -> tuple[int, int, int]:
    """(expected, stored, wrong): the last click on each statement is the one that must stand
    (bodies were built in order, so their action_ts increase)."""
    last = {(pseudonym(KEY.encode(), c.user), c.question): c.score for c in clicks}
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT respondent, question_id, score FROM answer").fetchall()
    stored = {(respondent, question): score for respondent, question, score in rows}
    wrong = sum(1 for key, score in last.items() if stored.get(key) != score)
    return len(last), len(rows), wrong


def _dms_wrong(emulator: SlackEmulator, clicks: list[Click]) -> int:
    """Statements whose pulse DM does not show as answered, or whose person's newest ephemeral
    confirmation does not show their last click (the DM never shows the score itself)."""
    last: dict[str, dict[str, int]] = {}
    for click in clicks:
        last.setdefault(click.user, {})[click.question] = click.score
    label = load_prompts().bank.label
    wrong = 0
    for user, scores in last.items():
        answered, shown = answered_in(latest_dm(emulator, user)), confirmed(emulator, user)
        for question, score in scores.items():
            wrong += question not in answered or f"*{label(score)}*" not in shown.get(question, "")
    return wrong


def _settle(emulator: SlackEmulator, clicks: list[Click]) -> tuple[int, float]:
    """Wait (up to SETTLE_S) for the app's DM refreshes to catch up; (DMs wrong, seconds)."""
    started = time.monotonic()
    wrong = _dms_wrong(emulator, clicks)
    while wrong and time.monotonic() - started < SETTLE_S:
        time.sleep(0.1)
        wrong = _dms_wrong(emulator, clicks)
    return wrong, time.monotonic() - started


def _run_app(
    argv: list[str],
    env: dict[str, str],
    log: Path,
    clicks: list[Click],
    settle: Callable[[], tuple[int, float]] | None = None,
) -> tuple[AppRun, tuple[int, float]]:
    bodies = [click.body for click in clicks]
    with serving(argv, env, log) as app, PeakPss(app.pid) as pss:
        hammer(app.events_url, bodies[:WARMUP_CLICKS], secret=SECRET, clients=CLIENTS)
        cpu_before = cpu_seconds(app.pid)
        load = hammer(app.events_url, bodies[WARMUP_CLICKS:], secret=SECRET, clients=CLIENTS)
        cpu = cpu_seconds(app.pid) - cpu_before
        settled = settle() if settle is not None else (0, 0.0)
        peak = peak_rss_mb(app.pid)
    return AppRun(load, cpu * 1000 / load.requests, peak, pss.peak_mb), settled


def _cxpulse_argv() -> list[str]:
    serve = ["bot", "serve", "--no-scheduler", "--host", "127.0.0.1"]
    profile = os.environ.get("BENCH_PROFILE")  # a file for a per-thread CPU profile
    if profile:
        return [sys.executable, "-m", "benchmarks.profiled", profile, *serve]
    return [sys.executable, "-m", *serve]


def run_interactions(folder: Path, *, people: int, clicks: int) -> Interactions:
    with SlackEmulator(bot_token=TOKEN, signing_secret=SECRET) as emulator:
        users = [f"UCLK{i:05d}" for i in range(people)]
        for user in users:
            emulator.add_user(user, user.lower())
        database = folder / "interactions.db"
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "CX_"))},
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": emulator.api_url,
            "DATABASE_URL": f"sqlite:///{database}",
            "CX_PSEUDONYM_KEY": KEY,
            "CX_SEND_RATE": "100",
        }
        settings = Settings.model_validate(env)
        deps = build_deps(settings)
        try:
            send_round(deps, make_gateway(settings), kind=RoundKind.ADHOC)
        finally:
            deps.engine.dispose()
        rng = random.Random(3)
        # Built before any clock starts, so the clients only sign and send.
        planned = [_click(emulator, rng.choice(users), rng) for _ in range(WARMUP_CLICKS + clicks)]
        cxpulse, (dms_wrong, settle_s) = _run_app(
            _cxpulse_argv(),
            env,
            folder / "cxpulse.log",
            planned,
            settle=lambda: _settle(emulator, planned),
        )
        bare_argv = [sys.executable, "-m", "benchmarks.bare_bolt", "{port}", SECRET]
        bare, _ = _run_app(bare_argv, env, folder / "bare.log", planned)
    expected, stored, wrong = _check_answers(database, planned)
    return Interactions(cxpulse, bare, expected, stored, wrong, dms_wrong, settle_s)
