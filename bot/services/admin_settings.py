"""The admins' use case: change what App Home's settings modal and pause button offer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.services.config import update_workspace_settings
from bot.services.context import Deps
from bot.settings import Settings


def change_settings(deps: Deps, *, admin: str, changes: Mapping[str, Any]) -> Settings:
    """Check and store `changes` (AdminsOnly, SettingsRejected); returns the settings in force."""
    return update_workspace_settings(
        config=deps.workspace,
        engine=deps.engine,
        base=deps.env,
        admin=admin,
        changes=changes,
        dimensions=len(deps.prompts.bank.rotating_dimensions),
        now=deps.clock.now(),
    )
