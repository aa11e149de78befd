"""Alembic environment: runs against a connection handed in by `bot.db.migrate`, or DATABASE_URL."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection
from sqlmodel import SQLModel

import bot.db.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from bot.db.engine import make_engine

config = context.config
target_metadata = SQLModel.metadata

# Tables owned by other libraries (APScheduler's job store, slack_sdk's OAuth stores) are not
# ours to migrate: each library creates its own.
FOREIGN_TABLES = {"apscheduler_jobs", "slack_installations", "slack_bots", "slack_oauth_states"}


def _include_name(name: str | None, type_: Any, _parents: Any) -> bool:
    return not (type_ == "table" and name in FOREIGN_TABLES)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_name=_include_name,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from bot.settings import Settings

    engine = make_engine(Settings().database_url)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("cx-pulse migrations run online only: use `cxpulse migrate`.")
run_migrations_online()
