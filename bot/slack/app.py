"""The app factory: every call builds a fresh Bolt App wired to explicit dependencies."""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.services.context import Deps
from bot.slack import actions, commands, errors, views
from bot.slack.gateway import WebClientGateway


def create_app(deps: Deps, *, client: WebClient, logger: logging.Logger | None = None) -> App:
    """A Bolt App whose listeners find `deps` and a `gateway` in their context."""
    gateway = WebClientGateway(client)
    app = App(
        client=client,
        signing_secret=deps.settings.slack_signing_secret or "",
        token_verification_enabled=False,
        logger=logger or logging.getLogger("bot.slack"),
    )

    @app.middleware
    def inject_dependencies(context: BoltContext, next: Callable[[], None]) -> None:
        context["deps"] = deps
        context["gateway"] = gateway
        next()

    for surface in (commands, actions, views, errors):
        surface.register(app)
    return app
