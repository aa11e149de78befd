"""How many pulse DMs are still to go: the gauge cxpulse_pending_deliveries (bot.metrics)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Engine, case, func
from sqlalchemy import select as sa_select
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col

from bot.db.models import Delivery, DeliveryStatus, PulseRound

log = logging.getLogger(__name__)


def queue_depth(engines: Iterable[Engine], *, now: datetime) -> dict[str, int] | None:
    """The deliveries of open rounds not yet sent or failed, summed over `engines` (one per
    workspace), by state: `due` (pending and due by `now`), `waiting` (pending until the
    person's local pulse time) and `sending` (claimed by a worker). None when a database
    cannot be read: the gauge is then left out of the scrape rather than shown as zero.

    One indexed GROUP BY per database (status is indexed); bot.metrics runs it at most once
    every few seconds however often Prometheus scrapes."""
    query = (
        sa_select(
            col(Delivery.status),
            func.count(),
            func.sum(case((col(Delivery.due_at) <= now, 1), else_=0)),
        )
        .join(PulseRound, col(PulseRound.id) == col(Delivery.round_id))
        .where(
            col(Delivery.status).in_([DeliveryStatus.PENDING, DeliveryStatus.SENDING]),
            col(PulseRound.closes_at) > now,
        )
        .group_by(col(Delivery.status))
    )
    depth = {"due": 0, "waiting": 0, "sending": 0}
    try:
        for engine in engines:
            with engine.connect() as connection:
                for status, count, due in connection.execute(query):
                    if status == DeliveryStatus.SENDING:
                        depth["sending"] += int(count)
                    else:
                        depth["due"] += int(due or 0)
                        depth["waiting"] += int(count) - int(due or 0)
    except SQLAlchemyError as error:
        log.warning("could not count the pending deliveries: %s", type(error).__name__)
        return None
    return depth
