"""Posting the digest to the leadership channel (once per week when scheduled), with its
chart, and nudging teams whose readings clearly slipped."""

from __future__ import annotations

import logging

from bot.db import published
from bot.db import repositories as repo
from bot.db import workspace_settings as snapshots
from bot.db.engine import session_scope
from bot.errors import NoLeadershipChannel
from bot.render.chart import trend_chart
from bot.render.digest import digest_message
from bot.render.heatmap import heatmap_image
from bot.render.json_report import report_json
from bot.services import team_nudges
from bot.services.commitments import FollowUpResult, record_follow_ups
from bot.services.context import Deps
from bot.services.digest import Report, build_digest
from bot.services.ports import PostedMessage, SlackGateway
from bot.services.publication import publish_due_weeks

log = logging.getLogger(__name__)


def post_digest(
    deps: Deps, gateway: SlackGateway, *, period: str | None = None
) -> tuple[Report, PostedMessage]:
    """Post the digest for a period (default: the latest) and its chart to the leaders."""
    channel = deps.settings.leadership_channel
    if not channel:
        raise NoLeadershipChannel()
    report = build_digest(deps, period=period)
    message = digest_message(report, deps.prompts, zone_name=deps.settings.timezone)
    posted = gateway.post_message(channel, message)
    pictures = [
        (trend_chart(report, deps.prompts), f"cx-pulse-{report.period}.png"),
        (heatmap_image(report, deps.prompts), f"cx-pulse-{report.period}-heatmap.png"),
    ]
    for chart, filename in pictures:
        if chart is not None:
            gateway.upload_file(
                channel,
                content=chart.png,
                filename=filename,
                title=chart.title,
                alt_text=chart.alt_text,
            )
    with session_scope(deps.engine) as session:
        # What App Home shows leaders: these findings passed the gate on their way here.
        snapshots.save_snapshot(
            session=session,
            period=report.period,
            findings=report_json(report),
            now=deps.clock.now(),
        )
        # What it reported of each commitment due, frozen for the "you said, we did" line.
        results = [
            FollowUpResult(f.action_id, f.real, f.delta, f.now, f.before) for f in report.follow_ups
        ]
        # Where it went, so forget-me can edit a comment out of it later.
        published.record_posted_digest(
            session=session, period=report.period, channel=posted.channel, ts=posted.ts
        )
        # A manual post counts, so the scheduled one won't repeat it (reports are only ever
        # of published, closed weeks).
        for pulse_round in repo.rounds_in_period(session=session, period=report.period):
            if pulse_round.id is not None:
                repo.claim_digest(session=session, round_id=pulse_round.id, now=deps.clock.now())
    record_follow_ups(deps, report.period, results)
    log.info("digest for %s posted", report.period)
    return report, posted


def post_due_digest(deps: Deps, gateway: SlackGateway) -> Report | None:
    """The scheduled job: the newest closed round without a digest gets one, exactly once,
    and teams whose readings clearly slipped get their nudge."""
    if not deps.settings.leadership_channel:
        raise NoLeadershipChannel()
    now = deps.clock.now()
    publish_due_weeks(deps)
    with session_scope(deps.engine) as session:
        due = repo.latest_closed_round_without_digest(session=session, now=now)
        if due is None or due.id is None:
            log.info("no closed round is waiting for a digest")
            return None
        if not published.is_published(session=session, period=due.period):
            # Another round of the same week is still open: the week is reported once, whole.
            log.info("the digest for %s waits for the week's last round to close", due.period)
            return None
        claimed = repo.claim_digest(session=session, round_id=due.id, now=now)
    if not claimed:
        return None
    try:
        report, _ = post_digest(deps, gateway, period=due.period)
    except BaseException:
        with session_scope(deps.engine) as session:
            repo.release_digest(session=session, round_id=due.id)
        raise
    send_team_nudges(deps, gateway, report)
    return report


def send_team_nudges(deps: Deps, gateway: SlackGateway, report: Report) -> int:
    """Each team with a clear decline hears about it: in its channel if it has one, else by
    DM to each of its leads, at most once a calendar week (bot.services.team_nudges)."""
    return team_nudges.send_team_nudges(deps, gateway, report)
