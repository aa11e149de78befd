"""Domain errors. Each names the copy key that explains it politely to the person."""

from __future__ import annotations

from typing import Any


class CxError(Exception):
    """An expected failure with a message for the person who caused it."""

    copy_key = "errors.unexpected"

    def __init__(self, **details: Any) -> None:
        super().__init__(self.copy_key, details)
        self.details = details


class RoundClosed(CxError):
    copy_key = "errors.round_closed"


class NotInvited(CxError):
    copy_key = "errors.not_invited"


class UnknownQuestion(CxError):
    copy_key = "errors.unknown_question"


class BadPayload(CxError):
    copy_key = "errors.bad_payload"


class NotAllowed(CxError):
    copy_key = "errors.not_allowed"


class UnknownCommand(CxError):
    copy_key = "errors.unknown_command"


class UnknownDimension(CxError):
    copy_key = "errors.unknown_dimension"


class NoLeadershipChannel(CxError):
    copy_key = "errors.no_leadership_channel"


class NothingToReport(CxError):
    copy_key = "errors.nothing_to_report"


class ActionUsage(CxError):
    copy_key = "errors.action_usage"


class ActionTooLong(CxError):
    copy_key = "errors.action_too_long"


class UnknownPeriod(CxError):
    copy_key = "errors.unknown_period"


class CommandUsage(CxError):
    """A command used the wrong way; `usage` is already-written copy saying how."""

    copy_key = "errors.usage"


class AdminsOnly(CxError):
    """Someone who is not in CX_ADMINS tried to change settings (from App Home or a stale view)."""

    copy_key = "errors.admins_only"


class NotYetPublished(CxError):
    """A week whose round is still open: nothing of it is shown until it closes."""

    copy_key = "errors.not_yet_published"


class WeekAlreadyPublished(CxError):
    """A round asked for in a week whose results are already published (and so frozen)."""

    copy_key = "errors.week_already_published"
