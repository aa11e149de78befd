"""One reminder DM, a day before a round closes, to people who have not answered anything."""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.db import repositories as repo
from bot.db.engine import session_scope
from bot.render.pulse import reminder_message
from bot.services.context import Deps
from bot.services.language import prompts_for_locale
from bot.services.ports import DeliveryFailed, SlackGateway

log = logging.getLogger(__name__)
REMINDER_WINDOW = timedelta(hours=24)


def send_reminders(deps: Deps, gateway: SlackGateway) -> int:
    """Remind everyone who has not answered a round closing within a day; returns DMs sent.

    Each round is claimed once, by one process, before any reminder goes out: a crash part-way
    means some people get no reminder, never that anyone gets two.
    """
    now = deps.clock.now()
    with session_scope(deps.engine) as session:
        due = repo.rounds_due_for_reminders(session=session, now=now, window=REMINDER_WINDOW)
    total = 0
    for pulse_round in due:
        assert pulse_round.id is not None
        with session_scope(deps.engine) as session:
            if not repo.claim_reminders(session=session, round_id=pulse_round.id, now=now):
                continue
        with session_scope(deps.engine) as session:
            recipients = repo.sent_deliveries(session=session, round_id=pulse_round.id)
            answered = repo.respondents_in_round(session=session, round_id=pulse_round.id)
        reminded = 0
        for delivery, member in recipients:
            if deps.respondent(member.slack_user_id) in answered:
                continue
            message = reminder_message(
                prompts_for_locale(deps, member.locale),
                period=pulse_round.period,
                closes_at=pulse_round.closes_at,
                zone_name=member.tz or deps.settings.timezone,
            )
            try:
                gateway.deliver_dm(
                    member.slack_user_id, message, key=f"reminder:{delivery.id}", maybe_sent=False
                )
            except DeliveryFailed:
                continue
            reminded += 1
        # A count only: which people were reminded is nobody's business, not even the log's.
        log.info("reminders for round %s: %d sent", pulse_round.id, reminded)
        total += reminded
    return total
