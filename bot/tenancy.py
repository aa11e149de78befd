"""Many workspaces, one deployment: each installed workspace keeps its data in a database of
its own (a PostgreSQL schema, or a SQLite file beside the main one).

Isolation is structural rather than a `WHERE team_id = ...` on every query: a workspace's
dependencies hold an engine that can only reach that workspace's tables, so no query, however
written, can read or change another workspace's members, answers, digests or settings. The
main database (DATABASE_URL) keeps what spans workspaces: installations, OAuth states and the
scheduler's jobs.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, make_url, text

from bot.clock import Clock, SystemClock
from bot.db.engine import make_engine
from bot.metrics import Metrics
from bot.runtime import build_deps
from bot.services.context import Deps
from bot.settings import Settings

TEAM_ID = re.compile(r"^[TE][A-Z0-9]{2,20}$")


class UnknownWorkspace(ValueError):
    """A team id that is not of Slack's form, so it names no database."""


def _checked(team_id: str) -> str:
    if not TEAM_ID.match(team_id or ""):
        raise UnknownWorkspace(f"not a Slack team id: {team_id!r}")
    return team_id


def workspace_schema(team_id: str) -> str:
    """The PostgreSQL schema that holds one workspace's tables."""
    return f"ws_{_checked(team_id).lower()}"


def workspace_database_url(database_url: str, team_id: str) -> str:
    """Where one workspace's data lives, given the main DATABASE_URL.

    SQLite: `cxpulse.db` becomes `cxpulse.T0123.db` beside it. PostgreSQL: the same database,
    reached through the workspace's own schema (see `make_workspace_engine`).
    """
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return database_url
    if not url.database or url.database == ":memory:":
        raise ValueError("several workspaces need DATABASE_URL to name a database file")
    path = Path(url.database)
    return str(url.set(database=str(path.with_name(f"{path.stem}.{_checked(team_id)}.db"))))


def make_workspace_engine(settings: Settings, team_id: str, **kwargs: object) -> Engine:
    """An engine that sees only this workspace's tables (created on first use)."""
    url = workspace_database_url(settings.database_url, team_id)
    if make_url(url).get_backend_name() == "sqlite":
        return make_engine(url, **kwargs)
    schema = workspace_schema(team_id)
    bootstrap = make_engine(url)
    with bootstrap.begin() as connection:
        # The schema name is built from a checked team id, so quoting it is enough.
        connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    bootstrap.dispose()
    # Only the workspace's schema is on the search path: unqualified names cannot fall
    # through to the main database's tables.
    return make_engine(url, connect_args={"options": f"-csearch_path={schema}"}, **kwargs)


class Workspaces:
    """One set of dependencies per installed workspace, built (and migrated) on first use."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        build: Callable[[Settings, Clock, Engine], Deps] | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self._settings = settings
        self._clock = clock or SystemClock()
        # Every workspace counts into the process's metrics (one GET /metrics for them all).
        self._build = build or (lambda s, c, e: build_deps(s, clock=c, engine=e, metrics=metrics))
        self._lock = threading.Lock()
        self._deps: dict[str, Deps] = {}

    def deps_for(self, team_id: str) -> Deps:
        with self._lock:
            found = self._deps.get(team_id)
            if found is None:
                engine = make_workspace_engine(
                    self._settings,
                    team_id,
                    pool_size=self._settings.send_workers + 5,
                    max_overflow=20,
                )
                found = self._build(self._settings, self._clock, engine)
                self._deps[team_id] = found
            return found

    def known(self) -> set[str]:
        """The workspaces whose dependencies this process has built."""
        with self._lock:
            return set(self._deps)

    def close(self) -> None:
        with self._lock:
            for deps in self._deps.values():
                deps.engine.dispose()
            self._deps.clear()
