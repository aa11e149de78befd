"""A person's own choices: opting out of and back into pulses."""

from __future__ import annotations

from bot.db import repositories as repo
from bot.db.engine import session_scope
from bot.services.context import Deps


def set_participation(deps: Deps, *, slack_user_id: str, opted_out: bool) -> None:
    with session_scope(deps.engine) as session:
        if not opted_out:
            # Opting back in after `/cx forget-me` lifts the tombstone too.
            repo.unforget(session=session, pseudonym=deps.respondent(slack_user_id))
        repo.set_opted_out(
            session=session, slack_user_id=slack_user_id, opted_out=opted_out, now=deps.clock.now()
        )
