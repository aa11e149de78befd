"""Migration 0011: the database records which CX_PSEUDONYM_KEY it is under, and imported rounds
the key generation their respondents were pseudonymised under."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import Engine, text

from bot.db.engine import make_engine
from bot.db.migrate import alembic_config, upgrade_to_head
from bot.pseudonym import PseudonymKeyMismatch, key_check
from bot.runtime import build_deps
from bot.settings import Settings

KEY = "a-key-of-sixteen-chars"


def _upgrade_to(engine: Engine, revision: str) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        config.attributes["pseudonym_key"] = None
        command.upgrade(config, revision)


def _downgrade_to(engine: Engine, revision: str) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def test_0011_marks_rounds_imported_before_it_and_records_the_key_it_is_given(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    _upgrade_to(engine, "0010")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO pulse_round (id, kind, schedule_key, period, sequence, opened_at,"
                " closes_at) VALUES"
                " (1, 'imported', 'import:2026-W41', '2026-W41', 1, :at, :at),"
                " (2, 'scheduled', '2026-W47', '2026-W47', 2, :at, :at)"
            ),
            {"at": "2026-11-17 10:00:00"},
        )
    upgrade_to_head(engine, pseudonym_key=KEY)
    with engine.connect() as connection:
        marks = dict(connection.execute(text("SELECT id, key_generation FROM pulse_round")).all())
        state = connection.execute(
            text("SELECT id, generation, key_check FROM pseudonym_key")
        ).one()
    assert marks == {1: 1, 2: None}
    assert tuple(state) == (1, 1, key_check(KEY.encode()))
    assert KEY not in repr(tuple(state))  # a keyed hash, never the key

    _downgrade_to(engine, "0010")
    upgrade_to_head(engine)  # and back up, this time without the key
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM pseudonym_key")).scalar() == 0
    engine.dispose()


def test_the_first_key_given_is_kept_and_another_is_refused(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade_to_head(engine)  # `cxpulse migrate` with no key set: nothing recorded yet
    engine.dispose()

    def settings(key: str) -> Settings:
        return Settings.model_validate({"DATABASE_URL": database_url, "CX_PSEUDONYM_KEY": key})

    build_deps(settings(KEY)).engine.dispose()  # the first command with a key records it
    build_deps(settings(KEY)).engine.dispose()
    with pytest.raises(PseudonymKeyMismatch, match="key generation 1"):
        build_deps(settings("another-key-of-sixteen"))
