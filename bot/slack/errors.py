"""One error handler: domain errors become a polite ephemeral message, the rest get a reference."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

from slack_bolt import App, BoltContext
from slack_bolt.context.respond import Respond

from bot.errors import CxError
from bot.render.timefmt import local_time
from bot.services.context import Deps


def error_text(deps: Deps, error: CxError) -> str:
    values = {
        key: local_time(value, deps.settings.timezone) if isinstance(value, datetime) else value
        for key, value in error.details.items()
    }
    return deps.prompts.copy.t(error.copy_key, **values)


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
