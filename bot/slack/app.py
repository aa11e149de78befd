"""The app factory: every call builds a fresh Bolt App wired to explicit dependencies."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from sqlalchemy import Engine

from bot.db.delivery_queue import queue_depth
from bot.render.ids import ActionId
from bot.services.context import Deps
from bot.slack import actions, commands, commitments, errors, home, kudos, replies, views
from bot.slack.dm_refresh import DmRefresher, ThreadRefresher, workspace_resolver
from bot.slack.gateway import WorkspaceGateways, make_gateway
from bot.tenancy import Workspaces

LISTENER_THREADS = 10
# One thread re-renders DMs in-process: refreshes then coalesce under a burst instead of taking
# CPU from storing and acking clicks (benchmark 2, two runs each: 4 refresh threads 28%, 2
# threads 36-45%, 1 thread 53-55% of bare Bolt). `cxpulse serve` moves them to a child process
# (bot.slack.refresh_process).
REFRESH_THREADS = 1


class RedactAnswerIds(logging.Filter):
    """Bolt's own warnings name the action id, and an answer button's id carries its score."""

    pattern = re.compile(rf"{re.escape(ActionId.ANSWER_PREFIX)}\d")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.pattern.search(message):
            record.msg = self.pattern.sub(f"{ActionId.ANSWER_PREFIX}*", message)
            record.args = None
        return True


def create_app(
    deps: Deps,
    *,
    client: WebClient,
    logger: logging.Logger | None = None,
    workspaces: Workspaces | None = None,
    dm_refresher: DmRefresher | None = None,
) -> App:
    """A Bolt App whose listeners find `deps`, a `gateway` and a `dm_refresher` in their context.

    With `workspaces` (SLACK_CLIENT_ID set), it serves every workspace that installed it
    through OAuth: each request gets the dependencies and gateway of its own workspace, and
    `deps` is only the deployment's main database (installations, health checks). Without a
    `dm_refresher`, pulse DMs are re-rendered on a thread of this process.
    """
    logger = logger or logging.getLogger("bot.slack")
    if not any(isinstance(f, RedactAnswerIds) for f in logger.filters):
        logger.addFilter(RedactAnswerIds())
    # Listeners ack first, then work (database, chat.update). Bolt's default pool of 10
    # lets a burst of clicks queue behind that work, and a queued listener acks late.
    executor = ThreadPoolExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="cx-listener")
    signing_secret = deps.settings.slack_signing_secret or ""
    if workspaces is None:
        app = App(
            client=client,
            signing_secret=signing_secret,
            token_verification_enabled=False,
            logger=logger,
            listener_executor=executor,
        )
    else:
        # Only OAuth installs need the installation stores and Fernet (about 9 MB resident).
        from bot.slack.installations import oauth_settings

        app = App(
            client=client,
            signing_secret=signing_secret,
            oauth_settings=oauth_settings(deps.env, deps.engine),
            logger=logger,
            listener_executor=executor,
        )
    single = (
        make_gateway(deps.settings, client, metrics=deps.metrics) if workspaces is None else None
    )
    gateways = WorkspaceGateways(deps.env, metrics=deps.metrics)

    def engines() -> list[Engine]:
        if workspaces is None:
            return [deps.engine]
        return [workspaces.deps_for(team_id).engine for team_id in sorted(workspaces.known())]

    # GET /metrics counts the DMs still to go in the databases this app serves.
    deps.metrics.watch_queue(lambda: queue_depth(engines(), now=deps.clock.now()))

    if dm_refresher is None:
        # Re-rendering DMs after clicks waits on Slack; it gets a thread of its own so the
        # listener threads stay free to store and ack the next clicks (see REFRESH_THREADS).
        dm_refresher = ThreadRefresher(
            workspace_resolver(None if single is None else (deps, single), workspaces, gateways),
            ThreadPoolExecutor(max_workers=REFRESH_THREADS, thread_name_prefix="cx-refresh"),
        )

    @app.middleware
    def inject_dependencies(context: BoltContext, next: Callable[[], None]) -> None:
        if single is not None:
            context["deps"], context["gateway"] = deps, single
        else:
            assert workspaces is not None
            # Bolt has already authorized the request against the installation store, so
            # the team id and its bot token are the installation's, not the payload's word.
            team_id, token = context.team_id, context.bot_token
            if not team_id or not token:
                return  # no installation for this workspace: Bolt answers it as unhandled
            context["deps"] = workspaces.deps_for(team_id)
            context["gateway"] = gateways.for_workspace(team_id, token)
        context["dm_refresher"] = dm_refresher
        next()

    for surface in (commands, actions, commitments, views, home, replies, kudos, errors):
        surface.register(app)
    return app
