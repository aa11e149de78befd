"""Benchmarks 2 and 4: signed clicks from 50 concurrent clients against `cxpulse serve`, and
the same against a bare Bolt app that only acks; latency, throughput and peak memory."""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from bot.db.models import RoundKind
from bot.render.ids import ActionId
from bot.runtime import build_deps
from bot.sandbox import actors
from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.people import latest_dm, question_ids
from bot.services.rounds import send_round
from bot.settings import Settings
from bot.slack.gateway import make_gateway

TOKEN = "xoxb-bench"  # noqa: S105 - the emulator's token
SECRET = "bench-signing-secret"  # noqa: S105
KEY = "bench-pseudonym-key-0123456789"
CLIENTS = 50


@dataclass(frozen=True, slots=True)
class Served:
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    peak_rss_mb: float

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1)  # noqa: S310 - loopback only
            return
        except OSError as error:
            if getattr(error, "code", None):  # an HTTP answer, even 404: it is up
                return
            time.sleep(0.2)
    raise RuntimeError("the server did not come up within a minute")


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _hammer(clicks: list[Callable[[], tuple[int, float]]]) -> tuple[int, float, list[float]]:
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        results = list(pool.map(lambda click: click(), clicks))
    seconds = time.monotonic() - started
    errors = sum(1 for status, _ in results if status != 200)
    return errors, seconds, [elapsed * 1000 for _, elapsed in results]


def _click_body(emulator: SlackEmulator, user: str, rng: random.Random) -> str:
    """A signed-to-be block_actions body: `user` clicks a random score in their pulse DM."""
    message = latest_dm(emulator, user)
    question = rng.choice(question_ids(message))
    action_id, block_id = f"{ActionId.ANSWER_PREFIX}{rng.randint(1, 5)}", f"q:{question}"
    button = actors.find_element(message, block_id, action_id) or {}
    payload = actors.block_actions_payload(
        team={"id": emulator.team_id, "domain": emulator.team_domain},
        user={"id": user, "username": user, "name": user, "team_id": emulator.team_id},
        channel={"id": emulator.dm_channel(user), "name": "directmessage"},
        message=message,
        action=actors.button_action(
            action_id=action_id,
            block_id=block_id,
            value=str(button.get("value")),
            label={"type": "plain_text", "text": "score"},
        ),
        response_url=f"{emulator.base_url}/response/unused",
        trigger_id="1.1.bench",
    )
    return actors.payload_body(payload)


def run_interactions(folder: Path, *, people: int, clicks: int) -> tuple[Served, Served]:
    """(cx-pulse, bare Bolt) under the same clicks."""
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
        # The bare app's client talks to the emulator too (Bolt checks its token on first use).
        settings = Settings.model_validate(env)
        deps = build_deps(settings)
        send_round(deps, make_gateway(settings), kind=RoundKind.ADHOC)
        deps.engine.dispose()
        rng = random.Random(3)
        # Bodies are built before the clock starts, so clients only sign and send.
        bodies = [_click_body(emulator, rng.choice(users), rng) for _ in range(clicks)]

        def clicks_for(url: str) -> list[Callable[[], tuple[int, float]]]:
            def one(body: str) -> Callable[[], tuple[int, float]]:
                def send() -> tuple[int, float]:
                    sent = actors.post_signed(url, body, signing_secret=SECRET)
                    return sent.status, sent.elapsed

                return send

            return [one(body) for body in bodies]

        results = []
        profile = os.environ.get("BENCH_PROFILE")  # a file to write cxpulse serve's profile to
        serve = ["-m", "cProfile", "-o", profile] if profile else []
        for command in (
            [sys.executable, *serve, "-m", "bot", "serve", "--no-scheduler", "--host", "127.0.0.1"],
            [sys.executable, "-m", "benchmarks.bare_bolt", "{port}", SECRET],
        ):
            port = _free_port()
            argv = [part.replace("{port}", str(port)) for part in command]
            process = subprocess.Popen(  # noqa: S603
                argv,
                env={**env, "PORT": str(port)},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                base = f"http://127.0.0.1:{port}"
                _wait_until_up(f"{base}/healthz", process)
                errors, seconds, latencies = _hammer(clicks_for(f"{base}/slack/events"))
                results.append(
                    Served(
                        requests=len(latencies),
                        errors=errors,
                        seconds=seconds,
                        p50_ms=_percentile(latencies, 0.50),
                        p99_ms=_percentile(latencies, 0.99),
                        peak_rss_mb=_peak_rss_mb(process.pid),
                    )
                )
            finally:
                process.terminate()
                try:
                    process.wait(timeout=120)  # it finishes the clicks it already acked
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
    return results[0], results[1]
