"""Entry points the scheduler stores by reference; each builds its dependencies from settings
and runs once for the deployment's workspace, or for every installed one (SLACK_CLIENT_ID).

Each takes the scheduler process's `metrics` (bot.scheduling.MetricsExecutor passes them), so
what a scheduled run sends is counted on that process's GET /metrics."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.clock import Clock, SystemClock
from bot.db.delivery_queue import queue_depth
from bot.db.engine import make_engine
from bot.metrics import Metrics
from bot.runtime import build_deps
from bot.services.alerts import deliver_alerts
from bot.services.context import Deps
from bot.services.ports import SlackGateway
from bot.services.privacy import purge_old_answers
from bot.services.publication import publish_and_settle
from bot.services.publishing import post_due_digest
from bot.services.reminders import send_reminders
from bot.services.replies import run_relay
from bot.services.rounds import run_pulse_schedule
from bot.settings import Settings
from bot.slack.gateway import make_gateway, make_web_client

log = logging.getLogger(__name__)
Job = Callable[[Deps, SlackGateway], object]


class SomeWorkspacesFailed(RuntimeError):
    """A job failed in at least one workspace; the others still ran."""


def for_each_workspace(
    settings: Settings, job: Job, *, clock: Clock | None = None, metrics: Metrics | None = None
) -> int:
    """Run `job` for each workspace; returns how many it ran for.

    One workspace's failure (a revoked token, Slack down for it) is logged and does not stop
    the others; the run as a whole then fails so the scheduler records it.
    """
    if not settings.distributed:
        deps = build_deps(settings, clock=clock, metrics=metrics)
        try:
            job(deps, make_gateway(settings, metrics=metrics))
        finally:
            deps.engine.dispose()
        return 1
    from bot.slack.installations import installation_store
    from bot.tenancy import Workspaces

    main = make_engine(settings.database_url)
    try:
        installed = installation_store(settings, main).workspaces()
    finally:
        main.dispose()
    workspaces = Workspaces(settings, clock=clock, metrics=metrics)
    failed: list[str] = []
    try:
        for workspace in installed:
            client = make_web_client(settings, token=workspace.bot_token, metrics=metrics)
            try:
                gateway = make_gateway(settings, client, metrics=metrics)
                job(workspaces.deps_for(workspace.team_id), gateway)
            except Exception:
                log.exception("scheduled job failed for workspace %s", workspace.team_id)
                failed.append(workspace.team_id)
    finally:
        workspaces.close()
    if failed:
        raise SomeWorkspacesFailed(f"failed for {len(failed)} of {len(installed)} workspaces")
    return len(installed)


class DeliveryQueue:
    """The scheduler process's cxpulse_pending_deliveries: the DMs still to go in the
    deployment's database, or in every installed workspace's (SLACK_CLIENT_ID)."""

    def __init__(self, settings: Settings, *, clock: Clock | None = None) -> None:
        self._settings = settings
        self._clock = clock or SystemClock()
        self._main = make_engine(settings.database_url)
        self._workspaces = None
        if settings.distributed:
            from bot.tenancy import Workspaces

            self._workspaces = Workspaces(settings, clock=self._clock)

    def _engines(self) -> list[Engine]:
        if self._workspaces is None:
            return [self._main]
        from bot.slack.installations import installation_store

        installed = installation_store(self._settings, self._main).workspaces()
        return [self._workspaces.deps_for(found.team_id).engine for found in installed]

    def depth(self) -> dict[str, int] | None:
        """Counts by state (bot.db.delivery_queue), None while a database cannot be read."""
        try:
            engines = self._engines()
        except SQLAlchemyError as error:
            log.warning("could not list the installed workspaces: %s", type(error).__name__)
            return None
        return queue_depth(engines, now=self._clock.now())

    def close(self) -> None:
        if self._workspaces is not None:
            self._workspaces.close()
        self._main.dispose()


def _unless_paused(job: Job, *, quietly: bool = False) -> Job:
    def run(deps: Deps, gateway: SlackGateway) -> object:
        if not deps.settings.paused:
            return job(deps, gateway)
        # The pulse job runs every few minutes: a line each time would drown the log.
        log.log(
            logging.DEBUG if quietly else logging.INFO,
            "cx-pulse is paused (App Home or CX_PAUSED): skipping this scheduled run",
        )
        return None

    return run


def scheduled_pulse(clock: Clock | None = None, metrics: Metrics | None = None) -> None:
    """Every few minutes: open a period's round once the first person's local pulse time has
    come, and send every DM that is due (`clock` is for tests and the sandbox)."""
    job = _unless_paused(run_pulse_schedule, quietly=True)
    for_each_workspace(Settings(), job, clock=clock, metrics=metrics)


def scheduled_digest(metrics: Metrics | None = None) -> None:
    for_each_workspace(Settings(), _unless_paused(post_due_digest), metrics=metrics)


def scheduled_publish(metrics: Metrics | None = None) -> None:
    for_each_workspace(Settings(), lambda deps, _gateway: publish_and_settle(deps), metrics=metrics)


def scheduled_purge(metrics: Metrics | None = None) -> None:
    for_each_workspace(Settings(), lambda deps, _gateway: purge_old_answers(deps), metrics=metrics)


def scheduled_reminders(metrics: Metrics | None = None) -> None:
    for_each_workspace(Settings(), _unless_paused(send_reminders), metrics=metrics)


def scheduled_relay(clock: Clock | None = None, metrics: Metrics | None = None) -> None:
    """Every minute, paused or not (people are talking): pass on the confidential replies
    that are due and delete the reply links CX_REPLY_DAYS old (bot.services.replies)."""
    for_each_workspace(Settings(), run_relay, clock=clock, metrics=metrics)


def scheduled_alerts(clock: Clock | None = None, metrics: Metrics | None = None) -> None:
    """Every 20 seconds, paused or not: send the comments passed to admins that are still
    queued (bot.services.alerts)."""
    for_each_workspace(Settings(), deliver_alerts, clock=clock, metrics=metrics)
