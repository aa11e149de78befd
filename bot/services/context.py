"""The explicit dependencies every use case takes, bundled so signatures stay short."""

from __future__ import annotations

import random
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, Engine

from bot.clock import Clock
from bot.db.engine import WriteLock
from bot.metrics import Metrics
from bot.prompts import Prompts
from bot.pseudonym import MissingPseudonymKey, click_order, pseudonym
from bot.services.config import WorkspaceConfig
from bot.services.report_cache import ReportCache
from bot.services.round_facts import RoundFactsCache
from bot.settings import Settings


@dataclass(frozen=True)
class Deps:
    env: Settings  # the environment's values: defaults for what admins may change in App Home
    engine: Engine
    clock: Clock
    prompts: Prompts
    round_facts: RoundFactsCache = field(default_factory=RoundFactsCache, compare=False)
    # The latest digest report for /cx replies (bot.services.digest.latest_report).
    reports: ReportCache[object] = field(default_factory=ReportCache, compare=False)
    config: WorkspaceConfig | None = field(default=None, compare=False)
    writes: WriteLock | None = field(default=None, compare=False)
    # What this process counts for GET /metrics; by default nothing (bot.metrics).
    metrics: Metrics = field(default_factory=Metrics, compare=False)
    # Draws the reply relay's random delays (bot.services.replies); seeded in tests.
    relay_random: random.Random = field(default_factory=random.SystemRandom, compare=False)

    def __post_init__(self) -> None:
        if self.config is None:
            object.__setattr__(self, "config", WorkspaceConfig(self.engine))
        if self.writes is None:
            object.__setattr__(self, "writes", WriteLock(self.engine))

    def write_transaction(self) -> AbstractContextManager[Connection]:
        """A short write transaction (answers, comments); see WriteLock."""
        assert self.writes is not None  # set in __post_init__
        return self.writes.transaction()

    @property
    def workspace(self) -> WorkspaceConfig:
        assert self.config is not None  # set in __post_init__
        return self.config

    @property
    def settings(self) -> Settings:
        """The settings in force: the environment overlaid with the admins' stored choices."""
        return self.workspace.effective(self.env)

    def respondent(self, slack_user_id: str) -> str:
        """The pseudonym answers are stored under for this person."""
        key = self.env.pseudonym_key
        if key is None:
            raise MissingPseudonymKey()
        return pseudonym(key.get_secret_value().encode(), slack_user_id)

    def click_order(self, respondent: str, clicked_at: datetime) -> int:
        """What orders one person's clicks without recording when they clicked."""
        key = self.env.pseudonym_key
        if key is None:
            raise MissingPseudonymKey()
        microseconds = int(clicked_at.timestamp() * 1_000_000)
        return click_order(key.get_secret_value().encode(), respondent, microseconds)
