"""A round and its deliveries commit together, on SQLite as on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from bot.db import repositories as repo
from bot.db.engine import make_engine
from bot.db.migrate import upgrade_to_head
from bot.db.models import PulseRound, RoundKind

OPENED = datetime(2026, 12, 1, 10, tzinfo=UTC)


def _rounds_seen_elsewhere(url: str) -> int:
    other = make_engine(url)
    try:
        with Session(other) as session:
            return int(session.exec(select(func.count()).select_from(PulseRound)).one())
    finally:
        other.dispose()


def test_a_new_round_stays_uncommitted_until_its_transaction_ends(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade_to_head(engine, pseudonym_key="test-key-0123456789")
    try:
        with Session(engine) as session:
            created = repo.create_round(
                session=session,
                kind=RoundKind.SCHEDULED,
                schedule_key="2026-W49",
                period="2026-W49",
                opened_at=OPENED,
                closes_at=OPENED + timedelta(days=5),
                question_ids=[],
            )
            assert created is not None
            # A process killed here must leave no round behind (its deliveries come next).
            assert _rounds_seen_elsewhere(database_url) == 0
            session.rollback()
        assert _rounds_seen_elsewhere(database_url) == 0
    finally:
        engine.dispose()


def test_a_second_round_for_one_period_is_refused_and_rolled_back(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade_to_head(engine, pseudonym_key="test-key-0123456789")
    fields = {
        "kind": RoundKind.SCHEDULED,
        "schedule_key": "2026-W49",
        "period": "2026-W49",
        "opened_at": OPENED,
        "closes_at": OPENED + timedelta(days=5),
        "question_ids": [],
    }
    try:
        with Session(engine) as session:
            assert repo.create_round(session=session, **fields) is not None  # type: ignore[arg-type]
            session.commit()
        with Session(engine) as session:
            assert repo.create_round(session=session, **fields) is None  # type: ignore[arg-type]
            assert repo.round_by_schedule_key(session=session, schedule_key="2026-W49") is not None
        assert _rounds_seen_elsewhere(database_url) == 1
    finally:
        engine.dispose()
