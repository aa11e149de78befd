"""SlackGateway over a real WebClient: retries, Retry-After, and pagination of every list call."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.services.ports import (
    DeliveryFailed,
    DirectoryUser,
    OutgoingMessage,
    PostedMessage,
    UserGroup,
)
from bot.settings import Settings

log = logging.getLogger(__name__)
PAGE_SIZE = 200


def make_web_client(settings: Settings, *, token: str | None = None) -> WebClient:
    """A WebClient that waits out 429s (honouring Retry-After) and retries 5xx and dropped links."""
    return WebClient(
        token=token or settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=30,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=3),
            RateLimitErrorRetryHandler(max_retry_count=5),
            ServerErrorRetryHandler(max_retry_count=3),
        ],
    )


def _pages(call: Any, key: str, **params: Any) -> Iterator[Any]:
    """Follow response_metadata.next_cursor until Slack says there is no more."""
    cursor: str | None = None
    while True:
        response = (
            call(limit=PAGE_SIZE, cursor=cursor, **params)
            if cursor
            else call(limit=PAGE_SIZE, **params)
        )
        yield from response.get(key) or []
        cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor:
            return


def _blocks(message: OutgoingMessage) -> list[dict[str, Any]]:
    return [block.to_dict() for block in message.blocks]


class WebClientGateway:
    def __init__(self, client: WebClient) -> None:
        self.client = client

    def list_users(self) -> list[DirectoryUser]:
        return [
            DirectoryUser(
                user_id=member["id"],
                is_bot=bool(member.get("is_bot")) or bool(member.get("is_app_user")),
                deleted=bool(member.get("deleted")),
                tz=member.get("tz"),
                locale=member.get("locale"),
            )
            for member in _pages(self.client.users_list, "members")
        ]

    def list_usergroups(self) -> list[UserGroup]:
        try:
            response = self.client.usergroups_list(include_users=True)
        except SlackApiError as exc:
            # Free workspaces have no user groups; everyone is then simply in no team.
            if exc.response.get("error") in {"paid_teams_only", "not_allowed_token_type"}:
                return []
            raise
        groups = []
        for group in response.get("usergroups") or []:
            users = group.get("users")
            if users is None:
                users = self.client.usergroups_users_list(usergroup=group["id"]).get("users") or []
            groups.append(
                UserGroup(
                    group_id=group["id"],
                    handle=group.get("handle") or group["id"],
                    name=group.get("name") or "",
                    user_ids=tuple(users),
                )
            )
        return groups

    def channel_members(self, channel: str) -> list[str]:
        return list(_pages(self.client.conversations_members, "members", channel=channel))

    def post_message(self, channel: str, message: OutgoingMessage) -> PostedMessage:
        try:
            response = self.client.chat_postMessage(
                channel=channel, text=message.text, blocks=_blocks(message)
            )
        except SlackApiError as exc:
            # Retry handlers already waited out 429s and 5xx; an `ok: false` left here is final.
            if exc.response.status_code == 200:
                raise DeliveryFailed(str(exc.response.get("error"))) from exc
            raise
        return PostedMessage(channel=response["channel"], ts=response["ts"])

    def update_message(self, channel: str, ts: str, message: OutgoingMessage) -> None:
        self.client.chat_update(channel=channel, ts=ts, text=message.text, blocks=_blocks(message))
