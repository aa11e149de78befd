"""Benchmark 1: a round to thousands of members against an emulator enforcing Slack's budget."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bot.db.models import RoundKind
from bot.runtime import build_deps
from bot.sandbox.emulator import SlackEmulator
from bot.services.rounds import send_round
from bot.settings import Settings
from bot.slack.gateway import make_gateway

TOKEN = "xoxb-bench"  # noqa: S105 - the emulator's token
KEY = "bench-pseudonym-key-0123456789"


@dataclass(frozen=True, slots=True)
class FanOut:
    people: int
    budget: float
    achieved: float  # accepted DMs per second, first to last
    rate_limited: int
    duplicates: int
    missing: int

    @property
    def share_of_budget(self) -> float:
        return self.achieved / self.budget


def run_fanout(folder: Path, *, people: int, budget: float) -> FanOut:
    with SlackEmulator(bot_token=TOKEN) as emulator:
        users = [f"UFAN{i:06d}" for i in range(people)]
        for user in users:
            emulator.add_user(user, user.lower())
        emulator.set_budget("chat.postMessage", budget)
        settings = Settings.model_validate(
            {
                "SLACK_BOT_TOKEN": TOKEN,
                "SLACK_API_URL": emulator.api_url,
                "DATABASE_URL": f"sqlite:///{folder / 'fanout.db'}",
                "CX_PSEUDONYM_KEY": KEY,
                "CX_SEND_RATE": budget,
                "CX_SEND_WORKERS": 8,
            }
        )
        deps = build_deps(settings)
        try:
            send_round(deps, make_gateway(settings), kind=RoundKind.ADHOC)
        finally:
            deps.engine.dispose()
        calls = emulator.calls("chat.postMessage")
        accepted = sorted(c.at for c in calls if c.status == 200)
        per_person = Counter(len(emulator.messages(emulator.dm_channel(u))) for u in users)
    span = accepted[-1] - accepted[0] if len(accepted) > 1 else 0.0
    return FanOut(
        people=people,
        budget=budget,
        achieved=(len(accepted) - 1) / span if span else 0.0,
        rate_limited=sum(1 for c in calls if c.status == 429),
        duplicates=sum(n for count, n in per_person.items() if count > 1),
        missing=per_person.get(0, 0),
    )
