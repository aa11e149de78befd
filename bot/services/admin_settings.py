"""The admins' use case: change what App Home's settings modal and pause button offer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.services.config import update_workspace_settings
from bot.services.context import Deps
from bot.services.team_leads import merge_team_leads
from bot.settings import Settings


def change_settings(deps: Deps, *, admin: str, changes: Mapping[str, Any]) -> Settings:
    """Check and store `changes` (AdminsOnly, SettingsRejected); returns the settings in force."""
    if "team_leads" in changes:
        # The form shows a capped number of teams: the others keep their leads.
        leads = merge_team_leads(deps.settings.team_leads, changes["team_leads"])
        changes = {**changes, "team_leads": leads}
    return update_workspace_settings(
        config=deps.workspace,
        engine=deps.engine,
        base=deps.env,
        admin=admin,
        changes=changes,
        dimensions=len(deps.prompts.bank.rotating_dimensions),
        now=deps.clock.now(),
    )
