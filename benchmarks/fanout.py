"""Benchmark 1: a round to thousands of members against an emulator enforcing Slack's budget."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text

from bot.db.models import RoundKind
from bot.runtime import build_deps
from bot.sandbox.emulator import SlackEmulator
from bot.services.rounds import send_round
from bot.settings import Settings
from bot.slack.gateway import make_gateway

TOKEN = "xoxb-bench"  # noqa: S105 - the emulator's token
KEY = "bench-pseudonym-key-0123456789"
POST = "chat.postMessage"


@dataclass(frozen=True, slots=True)
class FanOut:
    people: int
    budget: float
    seconds: float  # from the first chat.postMessage call to the last accepted one
    accepted: int
    round_seconds: float  # send_round from start to end: directory, outbox and every DM
    rate_limited: int  # 429s the emulator answered
    most_429s_for_one_dm: int  # slack_sdk's handler retries a 429 up to 8 times, then raises
    failure: str | None  # what send_round raised, if it did not finish
    extra_dms: int  # DMs beyond the first in anyone's DM channel
    missing: int  # people without a DM
    unsent_deliveries: int  # outbox rows not recorded as sent

    @property
    def rate(self) -> float:
        """Accepted DMs per second over the posting window."""
        return self.accepted / self.seconds

    @property
    def paced_rate(self) -> float:
        """The same, net of the one-second burst the budget allows at the start: a sender that
        used every token the emulator could give scores exactly the budget."""
        return max(0, self.accepted - self.budget) / self.seconds

    @property
    def share_of_budget(self) -> float:
        return self.paced_rate / self.budget


def run_fanout(
    folder: Path, *, people: int, budget: float, send_workers: int | None = None
) -> FanOut:
    with SlackEmulator(bot_token=TOKEN) as emulator:
        users = [f"UFAN{i:06d}" for i in range(people)]
        for user in users:
            emulator.add_user(user, user.lower())
        emulator.set_budget(POST, budget)
        env: dict[str, object] = {
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_API_URL": emulator.api_url,
            "DATABASE_URL": f"sqlite:///{folder / 'fanout.db'}",
            "CX_PSEUDONYM_KEY": KEY,
            "CX_SEND_RATE": budget,
        }
        if send_workers is not None:
            env["CX_SEND_WORKERS"] = send_workers
        settings = Settings.model_validate(env)
        deps = build_deps(settings)
        started, failure = time.monotonic(), None
        try:
            send_round(deps, make_gateway(settings), kind=RoundKind.ADHOC)
        except Exception as error:  # reported in the table: a crash is a finding, not a stop
            failure = f"{type(error).__name__}: {str(error).splitlines()[-1]}"
        round_seconds = time.monotonic() - started
        try:
            with deps.engine.connect() as connection:
                unsent = connection.execute(
                    text("SELECT count(*) FROM delivery WHERE status != 'sent'")
                ).scalar_one()
        finally:
            deps.engine.dispose()
        calls = emulator.calls(POST)
        dms = Counter(len(emulator.messages(emulator.dm_channel(u))) for u in users)
    accepted = [c.at for c in calls if c.status == 200]
    limited = Counter(str(c.params.get("channel")) for c in calls if c.status == 429)
    return FanOut(
        people=people,
        budget=budget,
        seconds=max(accepted) - min(c.at for c in calls),
        accepted=len(accepted),
        round_seconds=round_seconds,
        rate_limited=sum(limited.values()),
        most_429s_for_one_dm=max(limited.values(), default=0),
        failure=failure,
        extra_dms=sum((count - 1) * n for count, n in dms.items() if count > 1),
        missing=dms.get(0, 0),
        unsent_deliveries=int(unsent),
    )
