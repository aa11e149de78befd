"""Sensitive-comment alerts (issue 14): PLACEHOLDER until its author fills it in."""

from __future__ import annotations

from sqlalchemy import Connection

from bot.services.context import Deps


def screen_comment(deps: Deps, connection: Connection, *, text: str, language: str) -> bool:
    """Queue an alert to the admins, in the caller's transaction, when `text` reports harm.

    True when it did: the comment is then never shown in a digest, only counted."""
    del deps, connection, text, language
    return False
