"""Apply Alembic migrations programmatically; every command calls this on start."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def upgrade_to_head(engine: Engine, *, pseudonym_key: str | None = None) -> None:
    """Idempotent: a database already at head is left as it is.

    `pseudonym_key` is needed only to move answers stored before pseudonyms existed (0004).
    """
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        config.attributes["pseudonym_key"] = pseudonym_key
        command.upgrade(config, "head")


def head_revision() -> str | None:
    """The newest migration this version of cx-pulse ships."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def known_revisions() -> set[str]:
    """Every migration this version of cx-pulse ships."""
    return {
        script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()
    }


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at (None when it was never migrated); changes nothing."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
