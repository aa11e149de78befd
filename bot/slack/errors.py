"""One error handler: domain errors become a polite ephemeral message, the rest get a reference."""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from slack_bolt import App, BoltContext
from slack_bolt.context.respond import Respond

from bot.errors import CxError
from bot.render.timefmt import local_time
from bot.services.context import Deps

log = logging.getLogger(__name__)


def error_text(deps: Deps, error: CxError) -> str:
    values = {
        key: local_time(value, deps.settings.timezone) if isinstance(value, datetime) else value
        for key, value in error.details.items()
    }
    return deps.prompts.copy.t(error.copy_key, **values)


def politely(handler: Callable[..., None]) -> Callable[..., None]:
    """Turn domain errors from a listener into a polite ephemeral reply.

    Bolt runs listeners after the ack in another thread; an exception raised there very soon
    after ack() can race Bolt's bookkeeping and turn the ack into a 404, so expected failures
    are answered here and only unexpected ones reach the app-wide error handler.
    """

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            handler(*args, **kwargs)
        except CxError as error:
            context: BoltContext = kwargs["context"]
            deps: Deps = context["deps"]
            log.info("refused %s: %s", handler.__name__, type(error).__name__)
            if context.respond is not None:
                context.respond(
                    text=error_text(deps, error), response_type="ephemeral", replace_original=False
                )

    return wrapper


def handle_error(
    error: Exception,
    respond: Respond | None,
    context: BoltContext,
    logger: logging.Logger,
    body: dict[str, Any],
) -> None:
    deps: Deps | None = context.get("deps")
    if deps is None:  # failed before our middleware ran; nothing we can say politely
        logger.error("request failed before dispatch: %s", type(error).__name__)
        return
    if isinstance(error, CxError):
        logger.info("refused %s: %s", body.get("type") or body.get("command"), type(error).__name__)
        text = error_text(deps, error)
    else:
        reference = uuid.uuid4().hex[:8]
        logger.exception("unexpected error, reference %s", reference, exc_info=error)
        text = deps.prompts.copy.t("errors.unexpected", ref=reference)
    if respond is not None and _has_response_url(body):
        respond(text=text, response_type="ephemeral", replace_original=False)


def _has_response_url(body: dict[str, Any]) -> bool:
    return bool(body.get("response_url") or body.get("response_urls"))


def register(app: App) -> None:
    app.error(handle_error)
