"""Closing the loop: leaders record what they are doing about a dimension; pulses show it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.analytics.periods import period_key
from bot.db import repositories as repo
from bot.db.engine import session_scope
from bot.errors import ActionTooLong, ActionUsage, UnknownDimension
from bot.services.context import Deps

MAX_ACTION_CHARS = 500
# With no earlier round to anchor on, a new round shows actions from the last two weeks.
FIRST_ROUND_LOOKBACK = timedelta(days=14)


@dataclass(frozen=True, slots=True)
class Action:
    dimension_id: str
    name: str
    text: str
    period: str


def record_action(deps: Deps, *, slack_user_id: str, args: tuple[str, ...]) -> Action:
    """`/cx act <dimension> <text>`: store the action for the next pulse and later digests."""
    if len(args) < 2:
        raise ActionUsage()
    bank = deps.prompts.bank
    dimension_id = args[0].lower()
    if dimension_id not in {d.id for d in bank.dimensions}:
        known = ", ".join(f"`{d.id}`" for d in bank.dimensions)
        raise UnknownDimension(name=dimension_id[:40], known=known)
    text = " ".join(args[1:]).strip()
    if len(text) > MAX_ACTION_CHARS:
        raise ActionTooLong(limit=MAX_ACTION_CHARS)
    now = deps.clock.now()
    period = period_key(now, deps.settings.zone)
    with session_scope(deps.engine) as session:
        repo.add_action(
            session=session,
            dimension=dimension_id,
            text=text,
            created_by=slack_user_id,
            period=period,
            now=now,
        )
    return Action(dimension_id, bank.dimension(dimension_id).name, text, period)


def actions_for_round(deps: Deps, *, opened_at: datetime) -> list[Action]:
    """Actions recorded since the previous round opened: what this round's DM opens with."""
    names = {d.id: d.name for d in deps.prompts.bank.dimensions}
    with session_scope(deps.engine) as session:
        since = repo.previous_round_opened(session=session, before=opened_at)
        items = repo.actions_since(session=session, since=since or opened_at - FIRST_ROUND_LOOKBACK)
    return [
        Action(item.dimension, names.get(item.dimension, item.dimension), item.text, item.period)
        for item in items
        if item.created_at <= opened_at
    ]


def recent_actions(deps: Deps, *, since: datetime) -> list[Action]:
    names = {d.id: d.name for d in deps.prompts.bank.dimensions}
    with session_scope(deps.engine) as session:
        items = repo.actions_since(session=session, since=since)
    return [
        Action(item.dimension, names.get(item.dimension, item.dimension), item.text, item.period)
        for item in items
    ]
