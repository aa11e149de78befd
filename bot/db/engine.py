"""Engine and session factory."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from sqlalchemy import Connection, Engine, event
from sqlmodel import Session, create_engine


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and a busy timeout for threads."""
    if url.startswith("sqlite"):
        connect_args = {"check_same_thread": False, "timeout": 30}
        engine = create_engine(url, connect_args=connect_args, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            if ":memory:" not in url and url not in {"sqlite://", "sqlite:///"}:
                cursor.execute("PRAGMA journal_mode=WAL")
                # WAL with NORMAL syncs at checkpoints, not at every commit: a killed process
                # loses nothing; only a power cut may lose the last commits (PostgreSQL is the
                # production database). Every click commits, and an fsync each held the lock.
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            # Deleted rows (forget-me, the retention purge) are overwritten with zeros, not
            # left readable in free pages of the file.
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A unit of work: commits on success, rolls back on error, always closes."""
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


class WriteLock:
    """Short write transactions that take turns on a Python lock when the database is SQLite.

    SQLite allows one writer at a time, and a thread that finds the write lock taken waits in
    SQLite's busy handler, which sleeps in steps of 1 to 100 ms, and under a burst of clicks
    those sleeps piled up on a click's latency. A Python lock hands the turn over at once.
    PostgreSQL has row locks, so there the lock is not taken.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = threading.Lock() if engine.dialect.name == "sqlite" else None

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A connection in a transaction, committed on success and rolled back on error."""
        with self._lock or nullcontext(), self._engine.begin() as connection:
            yield connection
