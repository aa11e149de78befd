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


class RoundAlreadyThisWeek(CxError):
    """An ad hoc round asked for in a week that already has its round: one a week, so nobody
    is asked twice (`period`, and when the week's round `opened` and for how many `invited`)."""

    copy_key = "scheduling.already_this_week"


class NobodyToAsk(CxError):
    """An ad hoc round with nobody to send it to: it would use up the week's round for nothing."""

    copy_key = "scheduling.nobody_to_ask"


class PulseConfirmationExpired(CxError):
    """A confirmed ad hoc round of a week (`period`) that is over by the time of the click."""

    copy_key = "scheduling.confirmation_expired"


class CommitmentDueInPast(CxError):
    """A commitment's due date that no follow-up could measure (past, or too far out)."""

    copy_key = "errors.commitment_due"


class CommitLeadersOnly(CxError):
    """Someone who is neither a leader nor an admin pressed "I'll take this on"."""

    copy_key = "commitments.not_allowed"


class CommentsLeadersOnly(CxError):
    """Someone who is neither a leader nor an admin asked to read all comments."""

    copy_key = "comments.not_allowed"
