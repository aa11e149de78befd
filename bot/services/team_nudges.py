"""Team nudges: when a team's reading clearly fell, the people who can act on it hear of it.

A team with a channel in CX_TEAM_CHANNELS gets its nudge there; otherwise each of its leads
gets it by DM, worded for them in their language; a team with neither gets nothing (nobody
else is ever DMed a team nudge). Each lead, or channel, gets a team's nudge at most once per
calendar week (the organisation's ISO week of sending), however often the digest is posted:
`team_nudge_sent` is claimed before each send, and a DM carries a delivery key that Slack's
history is checked for, so a claim released after a dropped connection never sends twice.
"""

from __future__ import annotations

import logging

from bot.analytics.periods import period_key
from bot.db import published
from bot.db import repositories as repo
from bot.db import team_leads as store
from bot.db.engine import session_scope
from bot.render.digest import team_nudge_message
from bot.services.context import Deps
from bot.services.digest import Report, TeamNudge
from bot.services.language import prompts_for_locale
from bot.services.ports import DeliveryFailed, SlackGateway

log = logging.getLogger(__name__)


TEAM_NUDGE_KEY_PREFIX = "team-nudge:"


def delivery_key(week: str, team: str) -> str:
    """The DM's delivery key: one per team and calendar week (each lead has their own DM)."""
    return f"{TEAM_NUDGE_KEY_PREFIX}{week}:{team}"


def _is_latest_week(deps: Deps, period: str) -> bool:
    with session_scope(deps.engine) as session:
        periods = published.published_periods(session=session)
    return bool(periods) and periods[-1] == period


def _claim(deps: Deps, *, target: str, week: str, team: str) -> bool:
    with session_scope(deps.engine) as session:
        return store.claim_team_nudge(
            session=session, target=target, week=week, team=team, now=deps.clock.now()
        )


def _release(deps: Deps, *, target: str, week: str, team: str) -> None:
    with session_scope(deps.engine) as session:
        store.release_team_nudge(session=session, target=target, week=week, team=team)


def _to_channel(
    deps: Deps, gateway: SlackGateway, nudge: TeamNudge, *, channel: str, week: str
) -> int:
    if not _claim(deps, target=channel, week=week, team=nudge.team):
        return 0
    # Channel posts stay in the organisation's language. A post whose outcome is unknown (a
    # dropped connection) keeps its claim: a missed nudge is better than a repeated one.
    message = team_nudge_message(deps.prompts, nudge.team, nudge.dimension, nudge.nudge)
    try:
        gateway.post_message(channel, message)
    except DeliveryFailed as exc:
        _release(deps, target=channel, week=week, team=nudge.team)
        log.warning("a team nudge could not be posted in its channel: %s", exc.error)
        return 0
    return 1


def _to_lead(deps: Deps, gateway: SlackGateway, nudge: TeamNudge, *, lead: str, week: str) -> int:
    if not _claim(deps, target=lead, week=week, team=nudge.team):
        return 0
    with session_scope(deps.engine) as session:
        locale = repo.member_locale(session=session, slack_user_id=lead)
    person = prompts_for_locale(deps, locale)
    text = person.nudge_text(nudge.nudge_id, nudge.nudge)
    message = team_nudge_message(person, nudge.team, nudge.dimension, text, to_lead=True)
    try:
        gateway.deliver_dm(lead, message, key=delivery_key(week, nudge.team), maybe_sent=True)
    except DeliveryFailed as exc:
        _release(deps, target=lead, week=week, team=nudge.team)
        log.warning("a team nudge could not be delivered to a lead: %s", exc.error)
        return 0
    except BaseException:
        # The DM's key is looked for in Slack's history before any later attempt, so the
        # claim can go: a DM that did arrive is found there and not sent again.
        _release(deps, target=lead, week=week, team=nudge.team)
        raise
    return 1


def send_team_nudges(deps: Deps, gateway: SlackGateway, report: Report) -> int:
    """Deliver the report's team nudges; returns how many went out (channel posts and DMs).

    Only the newest published week nudges anyone: a digest posted again for an older week
    reports on it, but nobody is asked to act on last month's readings."""
    if not report.team_nudges:
        return 0
    if not _is_latest_week(deps, report.period):
        log.info("no team nudges for %s: a newer week is published", report.period)
        return 0
    settings = deps.settings
    week = period_key(deps.clock.now(), settings.zone)
    sent = 0
    for nudge in report.team_nudges:
        channel = settings.team_channels.get(nudge.team)
        leads = settings.team_leads.get(nudge.team, ())
        if channel:
            sent += _to_channel(deps, gateway, nudge, channel=channel, week=week)
        elif leads:
            for lead in leads:
                sent += _to_lead(deps, gateway, nudge, lead=lead, week=week)
        else:
            log.warning(
                "a team's readings clearly fell, but it has no lead and no channel: nobody "
                "was nudged (set CX_TEAM_LEADS or CX_TEAM_CHANNELS, or assign leads in App Home)"
            )
    return sent
