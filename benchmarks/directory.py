"""A directory refresh of a large workspace (paged `users.list`, user groups) against the
emulator, in a process of its own so its peak memory is its own; beside the bare paging of
the same users with slack_sdk in the same kind of process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from bot.sandbox.emulator import SlackEmulator

TOKEN = "xoxb-bench"  # noqa: S105 - the emulator's token
KEY = "bench-pseudonym-key-0123456789"
TEAM_SIZE = 25
LEADERS = "C0LEADERS"


@dataclass(frozen=True, slots=True)
class ChildRun:
    seconds: float
    peak_rss_mb: float
    people: int


@dataclass(frozen=True, slots=True)
class DirectoryRefresh:
    people: int
    refresh: ChildRun  # cx-pulse's refresh: users, groups, leaders, upserted into `member`
    bare: ChildRun  # slack_sdk paging users.list alone, keeping nothing
    second: ChildRun  # a second refresh of the same workspace (every member already stored)


def _child(mode: str, env: dict[str, str]) -> ChildRun:
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "benchmarks.directory_child", mode],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"directory child ({mode}) failed: {done.stderr[-2000:]}")
    found = json.loads(done.stdout.strip().splitlines()[-1])
    return ChildRun(found["seconds"], found["peak_rss_mb"], found["people"])


def run_directory(folder: Path, *, people: int) -> DirectoryRefresh:
    with SlackEmulator(bot_token=TOKEN) as emulator:
        users = [f"UDIR{i:06d}" for i in range(people)]
        for user in users:
            emulator.add_user(user, user.lower(), tz="Europe/London")
        for start in range(0, people, TEAM_SIZE):
            team = start // TEAM_SIZE
            emulator.add_usergroup(
                f"S{team:06d}", f"team-{team:05d}", f"Team {team}", users[start : start + TEAM_SIZE]
            )
        emulator.add_channel(LEADERS, "leadership", users[:: TEAM_SIZE * 4])
        env = {
            **{k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")},
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_API_URL": emulator.api_url,
            "DATABASE_URL": f"sqlite:///{folder / 'directory.db'}",
            "CX_PSEUDONYM_KEY": KEY,
            "CX_LEADERSHIP_CHANNEL": LEADERS,
        }
        bare = _child("bare", env)
        refresh = _child("refresh", env)
        second = _child("refresh", env)
    return DirectoryRefresh(people=people, refresh=refresh, bare=bare, second=second)
