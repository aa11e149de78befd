"""cxpulse_pending_deliveries' count: the DMs of open rounds still to go, by state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session

from bot.db.delivery_queue import queue_depth
from bot.db.engine import make_engine
from bot.db.migrate import upgrade_to_head
from bot.db.models import Delivery, DeliveryStatus, Member, PulseRound

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def _round(session: Session, *, sequence: int, closes_at: datetime) -> int:
    pulse_round = PulseRound(
        kind="adhoc",
        schedule_key=f"2026-W{40 + sequence}",
        period=f"2026-W{40 + sequence}",
        sequence=sequence,
        opened_at=NOW - timedelta(days=1),
        closes_at=closes_at,
    )
    session.add(pulse_round)
    session.flush()
    assert pulse_round.id is not None
    return pulse_round.id


def _fill(engine: Engine) -> None:
    upgrade_to_head(engine)
    with Session(engine) as session:
        people = [Member(slack_user_id=f"UQUEUE{i}", updated_at=NOW) for i in range(7)]
        session.add_all(people)
        session.flush()
        open_round = _round(session, sequence=1, closes_at=NOW + timedelta(days=4))
        closed_round = _round(session, sequence=2, closes_at=NOW - timedelta(minutes=1))
        soon, later = NOW - timedelta(minutes=5), NOW + timedelta(hours=3)
        outbox = [
            (open_round, DeliveryStatus.PENDING, soon),
            (open_round, DeliveryStatus.PENDING, NOW),  # due exactly now: due
            (open_round, DeliveryStatus.PENDING, later),  # a later time zone: waiting
            (open_round, DeliveryStatus.SENDING, soon),
            (open_round, DeliveryStatus.SENT, soon),
            (open_round, DeliveryStatus.FAILED, soon),
            (closed_round, DeliveryStatus.PENDING, soon),  # never to go: its round closed
        ]
        for person, (round_id, status, due_at) in zip(people, outbox, strict=True):
            assert person.id is not None
            session.add(
                Delivery(round_id=round_id, member_id=person.id, status=status, due_at=due_at)
            )
        session.commit()


def test_counts_the_open_rounds_deliveries_by_state(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        _fill(engine)
        assert queue_depth([engine], now=NOW) == {"due": 2, "waiting": 1, "sending": 1}
        # Summed over every workspace's database.
        assert queue_depth([engine, engine], now=NOW) == {"due": 4, "waiting": 2, "sending": 2}
        # Hours later everything pending is due, and a week later no round is open.
        later = NOW + timedelta(hours=4)
        assert queue_depth([engine], now=later) == {"due": 3, "waiting": 0, "sending": 1}
        assert queue_depth([engine], now=NOW + timedelta(weeks=1)) == {
            "due": 0,
            "waiting": 0,
            "sending": 0,
        }
    finally:
        engine.dispose()


def test_a_database_that_cannot_be_read_gives_no_count(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'missing' / 'cx.db'}")
    try:
        assert queue_depth([engine], now=NOW) is None
    finally:
        engine.dispose()
