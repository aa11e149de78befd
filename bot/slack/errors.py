"""One error handler: domain errors become a polite ephemeral message, the rest get a reference."""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import SQLAlchemyError

from bot.errors import CxError
from bot.prompts import Copy, Prompts
from bot.render.escape import echo_text
from bot.render.timefmt import local_time
from bot.services.context import Deps

if TYPE_CHECKING:
    # Types only: `cxpulse digest` words its errors here without loading Bolt.
    from slack_bolt import App, BoltContext
    from slack_bolt.context.respond import Respond
from bot.services.language import prompts_for_member

log = logging.getLogger(__name__)


# Details that are copy from prompts/ or ids from the question bank, filled in by the code
# (`/cx trend`'s usage line, the list of known dimensions, who may run a command, mentions of
# people and channels built from validated IDs): they carry mrkdwn on purpose and are put in
# as they are. Every other detail may hold what someone typed.
WRITTEN_BY_US = frozenset({"usage", "known", "who", "mentions"})


def _detail(deps: Deps, copy: Copy, key: str, value: object) -> object:
    if isinstance(value, datetime):
        return local_time(value, deps.settings.timezone, copy)
    if isinstance(value, bool | int | float) or key in WRITTEN_BY_US:
        return value
    # Raisers keep 40 characters of what was typed; echo_text's shorter cut shows an ellipsis.
    return echo_text(str(value))


def error_text(deps: Deps, error: CxError, prompts: Prompts | None = None) -> str:
    """The polite words for a domain error, in `prompts`' language (the organisation's if None).

    This is the one place error copy is filled in: the template is trusted copy, and every
    detail but those WRITTEN_BY_US is clipped and escaped, so `/cx <!channel>` echoes the text
    `<!channel>` and never notifies anyone."""
    copy = (prompts or deps.prompts).copy
    values = {key: _detail(deps, copy, key, value) for key, value in error.details.items()}
    return copy.t(error.copy_key, **values)


def requester_prompts(deps: Deps, payload: Mapping[str, Any] | None) -> Prompts:
    """The language of whoever sent a command or clicked (by their stored Slack locale)."""
    user = (payload or {}).get("user")
    user_id = user.get("id") if isinstance(user, Mapping) else (payload or {}).get("user_id")
    if not isinstance(user_id, str) or not user_id:
        return deps.prompts
    return prompts_for_member(deps, slack_user_id=user_id)


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
                payload = kwargs.get("command") or kwargs.get("body") or {}
                prompts = _prompts_or_default(deps, payload)
                context.respond(
                    text=error_text(deps, error, prompts),
                    response_type="ephemeral",
                    replace_original=False,
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
        text = error_text(deps, error, _prompts_or_default(deps, body))
    else:
        reference = uuid.uuid4().hex[:8]
        logger.exception("unexpected error, reference %s", reference, exc_info=error)
        text = _prompts_or_default(deps, body).copy.t("errors.unexpected", ref=reference)
    if respond is not None and _has_response_url(body):
        respond(text=text, response_type="ephemeral", replace_original=False)


def _prompts_or_default(deps: Deps, body: Mapping[str, Any]) -> Prompts:
    try:
        return requester_prompts(deps, body)
    except SQLAlchemyError:  # the database may be what failed; answer in the default language
        return deps.prompts


def _has_response_url(body: dict[str, Any]) -> bool:
    return bool(body.get("response_url") or body.get("response_urls"))


def register(app: App) -> None:
    app.error(handle_error)
