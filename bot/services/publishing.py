"""Posting the digest to the leadership channel, at most once per round when scheduled."""

from __future__ import annotations

import logging

from bot.db import repositories as repo
from bot.db.engine import session_scope
from bot.errors import NoLeadershipChannel
from bot.render.digest import digest_message
from bot.services.context import Deps
from bot.services.digest import Digest, build_digest
from bot.services.ports import PostedMessage, SlackGateway

log = logging.getLogger(__name__)


def post_digest(
    deps: Deps, gateway: SlackGateway, *, round_id: int | None = None
) -> tuple[Digest, PostedMessage]:
    """Post the digest for a round (default: the latest) to the leadership channel."""
    channel = deps.settings.leadership_channel
    if not channel:
        raise NoLeadershipChannel()
    digest = build_digest(deps, round_id=round_id)
    message = digest_message(digest, deps.prompts, zone_name=deps.settings.timezone)
    posted = gateway.post_message(channel, message)
    if not digest.provisional:
        with session_scope(deps.engine) as session:
            # A manual post of a closed round counts, so the scheduled one won't repeat it.
            repo.claim_digest(session=session, round_id=digest.round_id, now=deps.clock.now())
    log.info("digest for %s posted to %s", digest.period, channel)
    return digest, posted


def post_due_digest(deps: Deps, gateway: SlackGateway) -> Digest | None:
    """The scheduled job: the newest closed round without a digest gets one, exactly once."""
    if not deps.settings.leadership_channel:
        raise NoLeadershipChannel()
    now = deps.clock.now()
    with session_scope(deps.engine) as session:
        due = repo.latest_closed_round_without_digest(session=session, now=now)
        if due is None or due.id is None:
            log.info("no closed round is waiting for a digest")
            return None
        claimed = repo.claim_digest(session=session, round_id=due.id, now=now)
    if not claimed:
        return None
    try:
        digest, _ = post_digest(deps, gateway, round_id=due.id)
    except BaseException:
        with session_scope(deps.engine) as session:
            repo.release_digest(session=session, round_id=due.id)
        raise
    return digest
