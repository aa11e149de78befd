"""Settings admins change in App Home: validated, stored in the database, laid over the env.

Environment variables are only defaults. Every process reads the stored choices through a
`WorkspaceConfig`, which caches them for a few seconds, so a change made in the web process
reaches the scheduler's next run without a restart.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Engine

from bot.analytics.rotation import check_rotation
from bot.db import workspace_settings as store
from bot.db.engine import session_scope
from bot.errors import AdminsOnly, CxError
from bot.settings import Settings

log = logging.getLogger(__name__)

ADJUSTABLE: tuple[str, ...] = (
    "leadership_channel",
    "pulse_schedule",
    "questions_per_round",
    "round_days",
    "min_group_size",
    "team_source",
    "team_channels",
    "team_leads",
    "paused",
    "kudos_channel",
)
# Problems explained by copy outside the settings.errors section.
PROBLEM_COPY: dict[str, str] = {
    "team_leads": "team_leads.settings_error",
    "kudos_channel": "kudos.settings_error",
}
# Stricter than the environment's floor of 2: in a group of two each person can work out the
# other's answer, and an admin clicking in a form should not be able to allow that.
MIN_GROUP_FLOOR = 3
MAX_MIN_GROUP = 50
CACHE_SECONDS = 5.0


class SettingsRejected(CxError):
    """The form had problems; `problems` maps a setting name to the copy key explaining it."""

    copy_key = "settings.rejected"

    def __init__(self, problems: Mapping[str, str]) -> None:
        super().__init__(fields=", ".join(sorted(problems)))
        self.problems = dict(problems)


def apply_overrides(base: Settings, overrides: Mapping[str, Any]) -> Settings:
    """`base` with the adjustable values replaced, validated as a whole (cross-field rules too)."""
    values = base.model_dump()
    values.update({key: value for key, value in overrides.items() if key in ADJUSTABLE})
    return Settings.model_validate(values)


class WorkspaceConfig:
    """The stored overrides of one database, cached for `ttl` seconds of real time."""

    def __init__(
        self,
        engine: Engine,
        *,
        ttl: float = CACHE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._ttl = ttl
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._cached: tuple[float, dict[str, Any]] | None = None
        # The last result of effective(): settings are read on every click, so validating the
        # overlay again each time would be waste.
        self._memo: tuple[Settings, dict[str, Any], Settings] | None = None

    def overrides(self) -> dict[str, Any]:
        with self._lock:
            if self._cached is not None and self._monotonic() - self._cached[0] < self._ttl:
                return dict(self._cached[1])
        with session_scope(self._engine) as session:
            values = store.stored_settings(session=session)
        with self._lock:
            self._cached = (self._monotonic(), values)
        return dict(values)

    def invalidate(self) -> None:
        with self._lock:
            self._cached = None

    def effective(self, base: Settings) -> Settings:
        overrides = self.overrides()
        if not overrides:
            return base
        memo = self._memo
        if memo is not None and memo[0] is base and memo[1] == overrides:
            return memo[2]
        result = self._overlay(base, overrides)
        self._memo = (base, overrides, result)
        return result

    @staticmethod
    def _overlay(base: Settings, overrides: Mapping[str, Any]) -> Settings:
        try:
            return apply_overrides(base, overrides)
        except ValidationError:
            # The environment changed under a stored choice (say a higher comment minimum):
            # keep every choice that still fits and say which one was dropped.
            kept: dict[str, Any] = {}
            for key, value in overrides.items():
                try:
                    apply_overrides(base, {**kept, key: value})
                    kept[key] = value
                except ValidationError:
                    log.warning("ignoring the stored setting %s: it no longer validates", key)
            return apply_overrides(base, kept)


def _problem(field: str) -> str:
    if field in PROBLEM_COPY:
        return PROBLEM_COPY[field]
    return f"settings.errors.{field}" if field in ADJUSTABLE else "settings.errors.combination"


def _problems(error: ValidationError) -> dict[str, str]:
    problems: dict[str, str] = {}
    for item in error.errors():
        location = [str(part) for part in item.get("loc", ())]
        field = location[0] if location and location[0] in ADJUSTABLE else "form"
        problems.setdefault(field, _problem(field))
    return problems


def validate_changes(
    base: Settings, current: Mapping[str, Any], changes: Mapping[str, Any], *, dimensions: int
) -> Settings:
    """The settings `changes` would produce, or SettingsRejected naming each bad field."""
    unknown = sorted(set(changes) - set(ADJUSTABLE))
    if unknown:
        raise SettingsRejected({key: "settings.errors.combination" for key in unknown})
    problems: dict[str, str] = {}
    size = changes.get("min_group_size")
    if isinstance(size, int) and not MIN_GROUP_FLOOR <= size <= MAX_MIN_GROUP:
        problems["min_group_size"] = _problem("min_group_size")
    try:
        candidate = apply_overrides(base, {**current, **changes})
    except ValidationError as error:
        problems.update({k: v for k, v in _problems(error).items() if k not in problems})
        raise SettingsRejected(problems) from error
    try:
        check_rotation(dimensions, candidate.questions_per_round)
    except ValueError:
        problems["questions_per_round"] = _problem("questions_per_round")
    if candidate.team_source == "channels" and not candidate.team_channels:
        problems["team_source"] = "settings.errors.team_source_channels"
    if problems:
        raise SettingsRejected(problems)
    return candidate


def save_changes(
    config: WorkspaceConfig,
    engine: Engine,
    *,
    changes: Mapping[str, Any],
    admin: str,
    now: datetime,
) -> None:
    with session_scope(engine) as session:
        store.save_settings(session=session, values=changes, updated_by=admin, now=now)
    config.invalidate()


def update_workspace_settings(
    *,
    config: WorkspaceConfig,
    engine: Engine,
    base: Settings,
    admin: str,
    changes: Mapping[str, Any],
    dimensions: int,
    now: datetime,
) -> Settings:
    """Check and store an admin's changes; returns the settings now in force."""
    current_settings = config.effective(base)
    if admin not in current_settings.admins:
        raise AdminsOnly()
    # Only what differs from the value in force is stored, so an untouched field keeps
    # following its environment default.
    current = config.overrides()
    wanted = {
        key: value
        for key, value in changes.items()
        if key in current or getattr(current_settings, key, None) != value
    }
    result = validate_changes(base, current, wanted, dimensions=dimensions)
    if wanted:
        save_changes(config, engine, changes=wanted, admin=admin, now=now)
    return result
