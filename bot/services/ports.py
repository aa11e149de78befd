"""What services need from Slack, as a small interface the Slack layer implements."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from slack_sdk.models.blocks import Block


@dataclass(frozen=True, slots=True)
class DirectoryUser:
    user_id: str
    is_bot: bool
    deleted: bool
    tz: str | None
    locale: str | None
    # How people find each other (kudos to a plain `@name`): handle, display and real name.
    name: str = ""
    display_name: str = ""
    real_name: str = ""


@dataclass(frozen=True, slots=True)
class UserGroup:
    group_id: str
    handle: str
    name: str
    user_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PostedMessage:
    channel: str
    ts: str


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """A message as built by bot.render: plain-text fallback plus Block Kit blocks."""

    text: str
    blocks: Sequence[Block]


class DeliveryFailed(Exception):
    """Slack refused a message for a reason retrying won't fix (unknown user, blocked app...)."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


class SlackGateway(Protocol):
    def list_users(self) -> list[DirectoryUser]: ...

    def user_info(self, user_id: str) -> DirectoryUser | None:
        """One person as Slack knows them now (users.info); None when Slack knows nobody by
        that ID."""
        ...

    def list_usergroups(self) -> list[UserGroup]: ...

    def channel_members(self, channel: str) -> list[str]: ...

    def post_message(self, channel: str, message: OutgoingMessage) -> PostedMessage: ...

    def deliver_dm(
        self, user_id: str, message: OutgoingMessage, *, key: str, maybe_sent: bool
    ) -> PostedMessage:
        """Post a DM at most once per `key`, even across crashes and dropped connections."""
        ...

    def relay_post(
        self,
        channel: str,
        message: OutgoingMessage,
        *,
        key: str,
        thread_ts: str | None = None,
        maybe_sent: bool = False,
    ) -> PostedMessage:
        """Post a message of the reply relay (in a thread, with `thread_ts`) at most once per
        `key`: with `maybe_sent`, Slack's history is searched for it first. `channel` may be
        a user ID (their DM). Paced like pulse DMs."""
        ...

    def update_message(self, channel: str, ts: str, message: OutgoingMessage) -> None: ...

    def post_ephemeral(
        self, channel: str, user_id: str, message: OutgoingMessage, *, thread_ts: str | None = None
    ) -> None:
        """Show a message to one person in a channel (their DM with the bot included), in a
        thread with `thread_ts`. Slack does not store it: it is not in the channel's history
        or in any export."""
        ...

    def upload_file(
        self, channel: str, *, content: bytes, filename: str, title: str, alt_text: str
    ) -> None:
        """Share a file in a channel (Slack's external upload flow)."""
        ...
