"""A person's right to be forgotten, and the retention purge of raw answers.

Neither changes a published figure: published weeks are aggregates (not personal data) and
are never recomputed, so an output before and after either says the same.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from bot.db import kudos as kudos_store
from bot.db import published, relay
from bot.db import repositories as repo
from bot.db.engine import session_scope
from bot.db.models import PostedDigest
from bot.render.digest import digest_message
from bot.services.context import Deps
from bot.services.digest import build_digest
from bot.services.kudos import refresh_posts
from bot.services.ports import DeliveryFailed, OutgoingMessage, SlackGateway
from bot.services.publication import publish_due_weeks
from bot.services.replies import forget_author, replies_on

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ForgetReport:
    answers: int
    comments: int = 0  # linked comments deleted (the only ones anything can find)
    messages_edited: int = 0
    linkable: bool = True  # CX_ENCRYPTION_KEY is set: comments may have links to find


def forget_member(
    deps: Deps, gateway: SlackGateway | None = None, *, slack_user_id: str
) -> ForgetReport:
    """Delete everything cx-pulse holds about one person, in one transaction, then clear what
    Slack still shows of it: their pulse DMs, and their comments in digests already posted."""
    pseudonym = deps.respondent(slack_user_id)
    with session_scope(deps.engine) as session:
        member = repo.get_member(session=session, slack_user_id=slack_user_id)
        dms = repo.delivered_messages(session=session, member=member)
        # Comments are found only through their reply links (sealed with CX_ENCRYPTION_KEY):
        # a comment left without one is linked to nobody, and stays, unattributed.
        linked = forget_author(deps, session.connection(), user_id=slack_user_id)
        edited_weeks = linked.periods
        published.recount_comments(session=session, periods=edited_weeks)
        comments = len(linked.comment_ids)
        deleted = repo.forget(
            session=session,
            member=member,
            pseudonym=pseudonym,
            slack_user_id=slack_user_id,
            now=deps.clock.now(),
        )
        # Kudos they gave or received lose their user ID (the rows stay, so per-team counts
        # do not change); their posts and any digest quoting one are edited below.
        kudos_posts, kudos_weeks = kudos_store.forget_person(
            session=session, slack_user_id=slack_user_id
        )
        weeks = sorted({*edited_weeks, *kudos_weeks})
        digests = published.posted_digests(session=session, periods=weeks)
    deps.reports.invalidate()
    edits = 0
    if gateway is not None:
        edits += _clear_pulse_dms(deps, gateway, dms)
        # The conversations about their comments in their DM: cleared like the pulse DMs.
        edits += _clear_pulse_dms(deps, gateway, linked.author_sides)
        edits += _edit_posted_digests(deps, gateway, digests)
        edits += refresh_posts(deps, gateway, kudos_posts)
    return ForgetReport(
        answers=deleted,
        comments=comments,
        messages_edited=edits,
        linkable=replies_on(deps),
    )


def _clear_pulse_dms(deps: Deps, gateway: SlackGateway, dms: list[tuple[str, str]]) -> int:
    text = deps.prompts.copy.t("pulse.forgotten")
    edited = 0
    for channel, ts in dms:
        try:
            gateway.update_message(channel, ts, OutgoingMessage(text=text, blocks=[]))
            edited += 1
        except DeliveryFailed as exc:
            log.warning("a forgotten person's pulse DM could not be cleared: %s", exc.error)
    return edited


def _edit_posted_digests(deps: Deps, gateway: SlackGateway, digests: list[PostedDigest]) -> int:
    """Re-render each digest from the published week (now without the comment) in place."""
    edited = 0
    for posted in digests:
        report = build_digest(deps, period=posted.period)
        message = digest_message(report, deps.prompts, zone_name=deps.settings.timezone)
        try:
            gateway.update_message(posted.channel, posted.ts, message)
            edited += 1
        except DeliveryFailed as exc:
            log.warning("a posted digest could not be edited: %s", exc.error)
    return edited


@dataclass(frozen=True, slots=True)
class PurgeReport:
    rounds: int
    answers: int
    comments: int = 0


def purge_old_answers(deps: Deps) -> PurgeReport:
    """Delete the raw answers (and published comments) of rounds closed more than
    CX_RETENTION_DAYS ago. Their weeks are published first, so every figure stays as it was.
    A round at a time, each in its own transaction."""
    days = deps.settings.retention_days
    if days == 0:
        return PurgeReport(0, 0)
    publish_due_weeks(deps)
    now = deps.clock.now()
    with session_scope(deps.engine) as session:
        due = [
            (r.id, r.period)
            for r in repo.rounds_to_purge(session=session, closed_before=now - timedelta(days=days))
        ]
    rounds = answers = comments = 0
    for round_id, period in due:
        with session_scope(deps.engine) as session:
            pulse_round = repo.get_round(session=session, round_id=round_id or 0)
            if pulse_round is None or pulse_round.answers_purged_at is not None:
                continue  # another process purged it meanwhile
            if not published.is_published(session=session, period=period):
                continue  # its week still has an open round: purged once that one closes
            answers += repo.delete_round_answers(session=session, pulse_round=pulse_round, now=now)
            if all(
                r.answers_purged_at is not None or r.id == round_id
                for r in repo.rounds_in_period(session=session, period=period)
            ):
                comments += published.delete_comments_of_periods(session=session, periods=[period])
            rounds += 1
    with session_scope(deps.engine) as session:
        # Leaders' replies are kept as long as raw answers, for the same admins to read.
        relay.purge_audit(session.connection(), before=now - timedelta(days=days))
    return PurgeReport(rounds=rounds, answers=answers, comments=comments)
