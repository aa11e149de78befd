"""Closing the loop: leaders record what they are doing about a dimension; pulses show it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.db import repositories as repo
from bot.db.engine import session_scope
from bot.errors import ActionUsage
from bot.services.commitments import Outcome, followed_up_between, record_commitment
from bot.services.context import Deps
from bot.services.round_facts import ActionLine

# With no earlier round to anchor on, a new round shows actions from the last two weeks.
FIRST_ROUND_LOOKBACK = timedelta(days=14)


@dataclass(frozen=True, slots=True)
class Action:
    dimension_id: str
    name: str
    text: str
    period: str
    outcome: Outcome | None = None  # set once its follow-up was reported

    def line(self) -> ActionLine:
        if self.outcome is None:
            return ActionLine(self.dimension_id, self.text)
        found = self.outcome
        return ActionLine(self.dimension_id, self.text, found.direction, found.now, found.before)


def record_action(deps: Deps, *, slack_user_id: str, args: tuple[str, ...]) -> Action:
    """`/cx act <dimension> <text>`: a commitment led by whoever typed it, due in four weeks
    (the modal, `/cx act` alone, asks for owner and date)."""
    if len(args) < 2:
        raise ActionUsage()
    commitment = record_commitment(
        deps,
        created_by=slack_user_id,
        dimension=args[0].lower(),
        text=" ".join(args[1:]),
        owner=slack_user_id,
        due_on=None,
    )
    name = deps.prompts.bank.dimension(commitment.dimension).name
    return Action(commitment.dimension, name, commitment.text, commitment.period)


def actions_for_round(deps: Deps, *, opened_at: datetime) -> list[Action]:
    """Actions recorded since the previous round opened: what this round's DM opens with."""
    names = {d.id: d.name for d in deps.prompts.bank.dimensions}
    with session_scope(deps.engine) as session:
        since = repo.previous_round_opened(session=session, before=opened_at)
        items = repo.actions_since(session=session, since=since or opened_at - FIRST_ROUND_LOOKBACK)
    recorded = [
        Action(item.dimension, names.get(item.dimension, item.dimension), item.text, item.period)
        for item in items
        if item.created_at <= opened_at
    ]
    # "You said, we did": commitments whose follow-up a digest reported since the last round.
    anchor = since or opened_at - FIRST_ROUND_LOOKBACK
    reported = [
        Action(c.dimension, names.get(c.dimension, c.dimension), c.text, c.period, c.outcome)
        for c in followed_up_between(deps, anchor, opened_at)
        if c.outcome is not None
    ]
    return recorded + reported
