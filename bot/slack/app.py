"""The app factory: every call builds a fresh Bolt App wired to explicit dependencies."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.render.ids import ActionId
from bot.services.context import Deps
from bot.slack import actions, commands, errors, views
from bot.slack.gateway import make_gateway

LISTENER_THREADS = 10
UPDATE_THREADS = 16


class RedactAnswerIds(logging.Filter):
    """Bolt's own warnings name the action id, and an answer button's id carries its score."""

    pattern = re.compile(rf"{re.escape(ActionId.ANSWER_PREFIX)}\d")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.pattern.search(message):
            record.msg = self.pattern.sub(f"{ActionId.ANSWER_PREFIX}*", message)
            record.args = None
        return True


def create_app(deps: Deps, *, client: WebClient, logger: logging.Logger | None = None) -> App:
    """A Bolt App whose listeners find `deps` and a `gateway` in their context."""
    gateway = make_gateway(deps.settings, client)
    logger = logger or logging.getLogger("bot.slack")
    if not any(isinstance(f, RedactAnswerIds) for f in logger.filters):
        logger.addFilter(RedactAnswerIds())
    app = App(
        client=client,
        signing_secret=deps.settings.slack_signing_secret or "",
        token_verification_enabled=False,
        logger=logger,
        # Listeners ack first, then work (database, chat.update). Bolt's default pool of 10
        # lets a burst of clicks queue behind that work, and a queued listener acks late.
        listener_executor=ThreadPoolExecutor(
            max_workers=LISTENER_THREADS, thread_name_prefix="cx-listener"
        ),
    )

    # Updating a DM after a click waits on Slack; those waits get threads of their own so the
    # listener threads stay free to store and ack the next clicks.
    updates = ThreadPoolExecutor(max_workers=UPDATE_THREADS, thread_name_prefix="cx-update")

    @app.middleware
    def inject_dependencies(context: BoltContext, next: Callable[[], None]) -> None:
        context["deps"] = deps
        context["gateway"] = gateway
        context["updates"] = updates
        next()

    for surface in (commands, actions, views, errors):
        surface.register(app)
    return app
