"""The explicit dependencies every use case takes, bundled so signatures stay short."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from bot.clock import Clock
from bot.prompts import Prompts
from bot.settings import Settings


@dataclass(frozen=True)
class Deps:
    settings: Settings
    engine: Engine
    clock: Clock
    prompts: Prompts
