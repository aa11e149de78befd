"""Sensitive-comment alerts (issue 14): a comment that reports harassment, discrimination, a
safety risk, self-harm or a legal threat goes to the admins, not to leaders.

- `screen_comment` runs in the transaction that stores a new comment. When the screen
  (bot.analytics.sensitive, lexicons in prompts/sensitive.yaml) finds one of the categories,
  it queues an alert there (bot/db/alerts.py) and returns True: the caller then stores no
  comment, so the text is never published, only counted ("1 comment was passed to admins").
- `deliver_alerts` sends each queued alert to every admin (the settings in force: CX_ADMINS
  or App Home) as a DM: the category, the text (escaped), what to do next, never the author
  (cx-pulse does not know it). It runs right after a comment is submitted (bot.slack.views,
  after the ack) and every 20 seconds from the scheduler (bot.scheduling), so an alert whose first
  send failed still arrives within a minute. A DM carries the alert's random key in its
  metadata, so a retry after a failure finds a DM that did arrive instead of sending it twice.
- Nothing is dropped silently: an alert no admin could receive (no admins set, Slack refusing
  or unreachable) stays queued with its error, is logged (never its text) and counted on
  /metrics, and `cxpulse doctor` reports it. Once at least one admin has it and nobody is
  left to retry, its text is deleted; the row stays, so the week's count does too.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Connection, select

from bot.analytics.periods import period_key
from bot.analytics.sensitive import SensitiveScreen
from bot.db import alerts as store
from bot.db import repositories as repo
from bot.db.engine import session_scope
from bot.db.models import PulseRound
from bot.encryption import multi_fernet
from bot.lexicons import sensitive_screen
from bot.render.alerts import alert_message
from bot.services.context import Deps
from bot.services.language import prompts_for_locale
from bot.services.ports import DeliveryFailed, SlackGateway

log = logging.getLogger(__name__)

CLAIM_STALE = timedelta(seconds=60)  # a sender that died mid-send: retaken after this
BATCH = 20


def screen(deps: Deps) -> SensitiveScreen:
    """The process's screen (lexicons loaded once per prompts directory)."""
    return sensitive_screen(deps.env.prompts_dir)


def _period(deps: Deps, connection: Connection) -> str:
    """The week the comment counts in: the latest open round's (a comment is only taken
    while its round is open), else the organisation's current week."""
    now = deps.clock.now()
    rounds = PulseRound.__table__  # type: ignore[attr-defined]
    found = connection.execute(
        select(rounds.c.period)
        .where(rounds.c.opened_at <= now, rounds.c.closes_at > now)
        .order_by(rounds.c.period.desc())
        .limit(1)
    ).scalar()
    return str(found) if found else period_key(now, deps.settings.zone)


def screen_comment(deps: Deps, connection: Connection, *, text: str, language: str) -> bool:
    """Queue an alert to the admins, in the caller's transaction, when `text` reports harm.

    True when it did: the comment is then never shown in a digest, only counted."""
    category = screen(deps).screen(text)
    if category is None:
        return False
    keys = deps.env.encryption_keys
    # A Fernet token carries its creation time in clear: sealed "at" 0, it dates nothing.
    sealed = multi_fernet(keys).encrypt_at_time(text.encode(), 0).decode() if keys else None
    store.queue_alert(
        connection,
        period=_period(deps, connection),
        category=category.value,
        language=language[:8],
        delivery_key=secrets.token_hex(16),
        text=None if sealed else text,
        sealed_text=sealed,
    )
    deps.metrics.alert_queued(category.value)
    log.info("a comment was passed to the admins (%s)", category.value)
    return True


@dataclass(frozen=True, slots=True)
class AlertRun:
    delivered: int  # alerts that reached at least one admin and need no retry
    waiting: int  # alerts left queued by this run (tried and failed, or no admins)


def _text(deps: Deps, alert: store.ClaimedAlert) -> str | None:
    if alert.sealed_text is None:
        return alert.text
    from cryptography.fernet import InvalidToken

    keys = deps.env.encryption_keys
    if not keys:
        return None
    try:
        return multi_fernet(keys).decrypt(alert.sealed_text.encode()).decode()
    except InvalidToken:
        return None


def _release(deps: Deps, alert_id: int, token: str, error: str) -> None:
    with deps.write_transaction() as connection:
        store.release(connection, alert_id=alert_id, token=token, error=error)
    deps.metrics.alert_failed(error)


def _deliver_one(deps: Deps, gateway: SlackGateway, alert_id: int, admins: list[str]) -> bool:
    """Send one alert to every admin; True when it is done with (delivered)."""
    now = deps.clock.now()
    token = str(uuid.uuid4())
    with deps.write_transaction() as connection:
        if not store.claim(
            connection,
            alert_id=alert_id,
            token=token,
            now=now,
            stale_before=now - CLAIM_STALE,
        ):
            return False  # another process has it
        alert = store.claimed(connection, alert_id=alert_id, token=token)
    assert alert is not None
    text = _text(deps, alert)
    if text is None:
        log.warning("alert %s: no key in CX_ENCRYPTION_KEY opens its text; it waits", alert_id)
        _release(deps, alert_id, token, "undecryptable")
        return False
    reached, retry, errors = 0, False, []
    for admin in admins:
        with session_scope(deps.engine) as session:
            locale = repo.member_locale(session=session, slack_user_id=admin)
        message = alert_message(
            prompts_for_locale(deps, locale), category=alert.category, text=text
        )
        try:
            # From the second attempt on, Slack's history is read first: a DM that went out
            # before a failure is found there, not sent again.
            gateway.deliver_dm(
                admin,
                message,
                key=f"cx_alert:{alert.delivery_key}",
                maybe_sent=alert.attempts > 1,
            )
        except DeliveryFailed as exc:  # this admin cannot get it, for good (user_not_found...)
            errors.append(exc.error)
            log.warning("alert %s could not reach an admin: %s", alert_id, exc.error)
            continue
        # Anything else (a 5xx outlasting the retries, a dropped connection): the outbox must
        # record it and keep the alert for the next run.
        except Exception as exc:
            retry = True
            errors.append(type(exc).__name__)
            log.warning(
                "alert %s: Slack failed (%s); it will be retried", alert_id, type(exc).__name__
            )
            continue
        reached += 1
    if reached and not retry:
        with deps.write_transaction() as connection:
            store.mark_delivered(connection, alert_id=alert_id, token=token)
        deps.metrics.alert_delivered()
        log.info("alert %s delivered to %d admin(s)", alert_id, reached)
        return True
    _release(deps, alert_id, token, errors[-1] if errors else "no_admin_reached")
    return False


def deliver_alerts(deps: Deps, gateway: SlackGateway) -> AlertRun:
    """Send every queued alert nobody else is sending; safe from any number of processes."""
    now = deps.clock.now()
    with deps.engine.connect() as connection:
        due = store.claimable_ids(connection, stale_before=now - CLAIM_STALE, limit=BATCH)
    if not due:
        return AlertRun(0, 0)
    admins = sorted(deps.settings.admins)
    if not admins:
        log.warning(
            "%d sensitive comment(s) wait for an admin: set CX_ADMINS",
            len(due),
        )
        deps.metrics.alert_failed("no_admins")
        return AlertRun(0, len(due))
    delivered = sum(1 for alert_id in due if _deliver_one(deps, gateway, alert_id, admins))
    return AlertRun(delivered, len(due) - delivered)


def undelivered(deps: Deps) -> store.Waiting:
    with deps.engine.connect() as connection:
        return store.waiting(connection)
