"""Apply Alembic migrations programmatically; every command calls this on start."""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# The newest migration shipped (tests/db/test_migrations.py checks it against Alembic's own
# head). A database already there is left alone without importing Alembic or reading the
# migration scripts, which was a third of every command's start-up.
HEAD_REVISION = "0014"

# Alembic keeps the running migration's context in one module-level proxy (`alembic.context`),
# so two runs at once in one process pull it from under each other (`KeyError: 'config'`):
# every run in this process takes its turn on this lock, whichever database it is for.
_TURN = threading.RLock()
_UPGRADED: set[str] = set()  # the databases this process has brought to head


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def upgrade_to_head(engine: Engine, *, pseudonym_key: str | None = None) -> None:
    """Idempotent: a database already at head is left as it is.

    `pseudonym_key` is needed only to move answers stored before pseudonyms existed (0004).
    """
    from alembic import command

    config = alembic_config()
    with _TURN, engine.begin() as connection:
        config.attributes["connection"] = connection
        config.attributes["pseudonym_key"] = pseudonym_key
        command.upgrade(config, "head")


def database_identity(engine: Engine) -> str | None:
    """What names one database for `upgrade_once`: a SQLite file by its absolute path, a
    PostgreSQL database with the schema its connections use (each workspace has its own).
    None for an in-memory database, which is a new one for every engine."""
    url = engine.url
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if not database or database == ":memory:" or url.query.get("mode") == "memory":
            return None
        return f"sqlite:{os.path.abspath(database)}"
    with engine.connect() as connection:
        schema = connection.execute(text("SELECT current_schema()")).scalar()
    return f"{url.render_as_string(hide_password=True)}#{schema}"


def _at_revision(engine: Engine, revision: str | None) -> bool:
    """Whether the database still says it is at `revision` (read quietly: no Alembic)."""
    try:
        with engine.connect() as connection:
            found = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    except SQLAlchemyError:  # no version table: never migrated, or replaced by an empty one
        return False
    return [row[0] for row in found] == [revision]


def upgrade_once(
    engine: Engine, *, pseudonym_key: str | None = None, then: Callable[[], None] | None = None
) -> bool:
    """Bring the database to head once per process, however many callers ask at once.

    Start-up calls this before the scheduler starts, and each scheduled job again when it
    builds its dependencies; jobs that fire at the same moment (the default digest time falls
    on the pulse job's five-minute mark every Monday) take turns on one lock, and all but the
    first find the work done and go on without running Alembic. A database that no longer
    says it is at head (replaced, or moved back by hand) is upgraded again. `then` runs in the
    same turn on every call (the question bank's mirror), so callers never write it at once
    either. Returns whether this call ran the migrations.
    """
    identity = database_identity(engine)
    with _TURN:
        # A process's first look needs no Alembic: the version table says head, or it does not.
        done = (
            _at_revision(engine, HEAD_REVISION)
            if identity not in _UPGRADED
            else (_at_revision(engine, _head()))
        )
        if not done:
            upgrade_to_head(engine, pseudonym_key=pseudonym_key)
            if identity is not None:
                _UPGRADED.add(identity)
        if then is not None:
            then()
        return not done


@functools.cache
def _head() -> str | None:
    return head_revision()


def head_revision() -> str | None:
    """The newest migration this version of cx-pulse ships."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def known_revisions() -> set[str]:
    """Every migration this version of cx-pulse ships."""
    from alembic.script import ScriptDirectory

    return {
        script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()
    }


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at (None when it was never migrated); changes nothing."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
