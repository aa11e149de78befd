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

    def list_usergroups(self) -> list[UserGroup]: ...

    def channel_members(self, channel: str) -> list[str]: ...

    def post_message(self, channel: str, message: OutgoingMessage) -> PostedMessage: ...

    def deliver_dm(
        self, user_id: str, message: OutgoingMessage, *, key: str, maybe_sent: bool
    ) -> PostedMessage:
        """Post a DM at most once per `key`, even across crashes and dropped connections."""
        ...

    def update_message(self, channel: str, ts: str, message: OutgoingMessage) -> None: ...

    def post_ephemeral(self, channel: str, user_id: str, message: OutgoingMessage) -> None:
        """Show a message to one person in a channel (their DM with the bot included). Slack
        does not store it: it is not in the channel's history or in any export."""
        ...

    def upload_file(
        self, channel: str, *, content: bytes, filename: str, title: str, alt_text: str
    ) -> None:
        """Share a file in a channel (Slack's external upload flow)."""
        ...
