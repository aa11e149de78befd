"""The explicit dependencies every use case takes, bundled so signatures stay short."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine

from bot.clock import Clock
from bot.prompts import Prompts
from bot.pseudonym import MissingPseudonymKey, pseudonym
from bot.services.round_facts import RoundFactsCache
from bot.settings import Settings


@dataclass(frozen=True)
class Deps:
    settings: Settings
    engine: Engine
    clock: Clock
    prompts: Prompts
    round_facts: RoundFactsCache = field(default_factory=RoundFactsCache, compare=False)

    def respondent(self, slack_user_id: str) -> str:
        """The pseudonym answers are stored under for this person."""
        key = self.settings.pseudonym_key
        if key is None:
            raise MissingPseudonymKey()
        return pseudonym(key.get_secret_value().encode(), slack_user_id)
