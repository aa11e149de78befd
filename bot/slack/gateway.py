"""SlackGateway over a real WebClient: retries, Retry-After, and pagination of every list call."""

from __future__ import annotations

import http.client
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.metrics import Metrics
from bot.services.ports import (
    DeliveryFailed,
    DirectoryUser,
    OutgoingMessage,
    PostedMessage,
    SlackGateway,
    UserGroup,
)
from bot.settings import Settings
from bot.slack.pacing import RateLimiter

log = logging.getLogger(__name__)
PAGE_SIZE = 200
DELIVERY_EVENT = "cx_pulse_delivery"
RELAY_EVENT = "cx_pulse_relay"  # a reply relay message (bot.services.replies), by queue id
HISTORY_LOOKBACK = 50  # our DM is among the newest messages of a bot DM
POST_ATTEMPTS = 4
# How long one DM keeps waiting out 429s once the client's own retries are spent. A 429 means
# Slack posted nothing, so waiting on is safe; a 50,000-person round at the workspace's budget
# saw one DM refused 9 times in a row, which used to fail the whole round.
RATE_LIMIT_PATIENCE_S = 15 * 60
# A connection that breaks mid-call leaves us not knowing whether Slack acted on it.
UNKNOWN_OUTCOME = (OSError, http.client.HTTPException)


class CountedRateLimitRetryHandler(RateLimitErrorRetryHandler):
    """slack_sdk's 429 handler (it sleeps for Retry-After), telling `metrics` of each wait."""

    def __init__(self, metrics: Metrics, *, max_retry_count: int) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.metrics = metrics

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        started = time.monotonic()
        super().prepare_for_next_attempt(
            state=state, request=request, response=response, error=error
        )
        method = request.url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
        self.metrics.rate_limited(method, time.monotonic() - started)


def make_web_client(
    settings: Settings,
    *,
    token: str | None = None,
    retry_connection_errors: bool = True,
    metrics: Metrics | None = None,
) -> WebClient:
    """A WebClient that waits out 429s (honouring Retry-After) and retries 5xx and dropped links;
    each 429 waited out is counted in `metrics`.

    Posting clients leave dropped connections to the caller: blindly re-sending a message whose
    first attempt may have arrived would send it twice.
    """
    handlers: list[Any] = [
        CountedRateLimitRetryHandler(metrics or Metrics(), max_retry_count=8),
        ServerErrorRetryHandler(max_retry_count=5),
    ]
    if retry_connection_errors:
        handlers.insert(0, ConnectionErrorRetryHandler(max_retry_count=3))
    return WebClient(
        token=token or settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=30,
        retry_handlers=handlers,
    )


def make_gateway(
    settings: Settings, client: WebClient | None = None, *, metrics: Metrics | None = None
) -> WebClientGateway:
    """The gateway the app uses: one client, DMs paced to `CX_SEND_RATE` per second."""
    return WebClientGateway(
        client or make_web_client(settings, metrics=metrics),
        limiter=RateLimiter(settings.send_rate, burst=max(1, int(settings.send_rate))),
        metrics=metrics,
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


def _directory_user(member: dict[str, Any]) -> DirectoryUser:
    profile = member.get("profile") or {}
    return DirectoryUser(
        user_id=member["id"],
        is_bot=bool(member.get("is_bot")) or bool(member.get("is_app_user")),
        deleted=bool(member.get("deleted")),
        tz=member.get("tz"),
        locale=member.get("locale"),
        name=str(member.get("name") or ""),
        display_name=str(profile.get("display_name") or ""),
        real_name=str(member.get("real_name") or profile.get("real_name") or ""),
    )


def _retry_after(error: SlackApiError) -> float:
    """The seconds a 429 asks to wait (Retry-After), between 1 and 60."""
    headers = error.response.headers or {}
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return min(max(float(value), 1.0), 60.0) if value is not None else 1.0
    except (TypeError, ValueError):
        return 1.0


def _blocks(message: OutgoingMessage) -> list[dict[str, Any]]:
    return [block.to_dict() for block in message.blocks]


class WebClientGateway:
    def __init__(
        self,
        client: WebClient,
        *,
        limiter: RateLimiter | None = None,
        retry_pause: Callable[[int], None] | None = None,
        rate_limit_pause: Callable[[float], None] = time.sleep,
        metrics: Metrics | None = None,
    ) -> None:
        self.client = client
        self._rate_limit_pause = rate_limit_pause
        self.limiter = limiter
        self.metrics = metrics or Metrics()
        # The same endpoint and token, minus automatic retries of dropped connections.
        self._poster = WebClient(
            token=client.token,
            base_url=client.base_url,
            timeout=client.timeout,
            retry_handlers=[
                h for h in client.retry_handlers if not isinstance(h, ConnectionErrorRetryHandler)
            ],
        )
        self._retry_pause = retry_pause or (lambda attempt: time.sleep(0.2 * 2**attempt))

    def list_users(self) -> list[DirectoryUser]:
        return [
            _directory_user(member)
            # Slack leaves the locale out unless asked; it picks each person's language.
            for member in _pages(self.client.users_list, "members", include_locale=True)
        ]

    def user_info(self, user_id: str) -> DirectoryUser | None:
        try:
            response = self.client.users_info(user=user_id, include_locale=True)
        except SlackApiError as exc:
            if exc.response.get("error") in {"user_not_found", "user_not_visible"}:
                return None
            raise
        member = response.get("user")
        return _directory_user(member) if isinstance(member, dict) else None

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

    def upload_file(
        self, channel: str, *, content: bytes, filename: str, title: str, alt_text: str
    ) -> None:
        # files_upload_v2 runs files.getUploadURLExternal, the upload, then
        # files.completeUploadExternal sharing it in the channel.
        self.client.files_upload_v2(
            channel=channel, content=content, filename=filename, title=title, alt_txt=alt_text
        )

    def find_delivered(self, user_id: str, key: str) -> PostedMessage | None:
        """The DM we already posted for `key`, found by its message metadata."""
        try:
            channel = self.client.conversations_open(users=user_id)["channel"]["id"]
            history = self.client.conversations_history(
                channel=channel, limit=HISTORY_LOOKBACK, include_all_metadata=True
            )
        except SlackApiError as exc:
            # No DM to look in (a deactivated user, say): as final as a refused post.
            if exc.response.status_code == 200:
                raise DeliveryFailed(str(exc.response.get("error"))) from exc
            raise
        for found in history.get("messages") or []:
            metadata = found.get("metadata") or {}
            payload = metadata.get("event_payload") or {}
            if metadata.get("event_type") == DELIVERY_EVENT and payload.get("key") == key:
                return PostedMessage(channel=channel, ts=found["ts"])
        return None

    def deliver_dm(
        self, user_id: str, message: OutgoingMessage, *, key: str, maybe_sent: bool
    ) -> PostedMessage:
        """Post a DM tagged with `key`, never twice.

        Guarantee: a message is re-posted only after Slack's history of that DM shows no message
        tagged with the key, so a crash or a dropped connection after Slack accepted the post
        cannot produce a second DM (assuming Slack's history reflects an accepted post, which it
        does once chat.postMessage has returned on Slack's side).
        """
        if maybe_sent:
            found = self.find_delivered(user_id, key)
            if found is not None:
                return found
        metadata = {"event_type": DELIVERY_EVENT, "event_payload": {"key": key}}
        patience = time.monotonic() + RATE_LIMIT_PATIENCE_S
        attempt = 0
        while attempt < POST_ATTEMPTS:
            if self.limiter is not None:
                self.limiter.acquire()
            try:
                response = self._poster.chat_postMessage(
                    channel=user_id, text=message.text, blocks=_blocks(message), metadata=metadata
                )
            except SlackApiError as exc:
                if exc.response.status_code == 200:
                    raise DeliveryFailed(str(exc.response.get("error"))) from exc
                if exc.response.status_code == 429 and time.monotonic() < patience:
                    # Refused, not posted: wait as asked and try again; no attempt is spent.
                    pause = _retry_after(exc)
                    self._rate_limit_pause(pause)
                    self.metrics.rate_limited("chat.postMessage", pause)
                    continue
                if exc.response.status_code < 500 or attempt == POST_ATTEMPTS - 1:
                    raise
                # Server errors outlasted the client's own retries; Slack may or may not have
                # posted, so look before trying again.
                self.metrics.dm_retried("server_error")
                self._retry_pause(attempt)
                attempt += 1
                found = self.find_delivered(user_id, key)
                if found is not None:
                    return found
                continue
            except UNKNOWN_OUTCOME:
                if attempt == POST_ATTEMPTS - 1:
                    raise
                self.metrics.dm_retried("connection")
                self._retry_pause(attempt)
                attempt += 1
                found = self.find_delivered(user_id, key)
                if found is not None:
                    return found
                continue
            return PostedMessage(channel=response["channel"], ts=response["ts"])
        raise AssertionError("unreachable")

    def _find_relayed(self, channel: str, key: str, thread_ts: str | None) -> PostedMessage | None:
        """The relay message already posted for `key`, found by its message metadata."""
        try:
            if channel[:1] in {"U", "W"}:
                channel = self.client.conversations_open(users=channel)["channel"]["id"]
            if thread_ts:
                found = _pages(
                    self.client.conversations_replies,
                    "messages",
                    channel=channel,
                    ts=thread_ts,
                    include_all_metadata=True,
                )
            else:
                history = self.client.conversations_history(
                    channel=channel, limit=HISTORY_LOOKBACK, include_all_metadata=True
                )
                found = iter(history.get("messages") or [])
            for posted in found:
                metadata = posted.get("metadata") or {}
                payload = metadata.get("event_payload") or {}
                if metadata.get("event_type") == RELAY_EVENT and payload.get("key") == key:
                    return PostedMessage(channel=channel, ts=posted["ts"])
        except SlackApiError as exc:
            if exc.response.status_code == 200:
                raise DeliveryFailed(str(exc.response.get("error"))) from exc
            raise
        return None

    def relay_post(
        self,
        channel: str,
        message: OutgoingMessage,
        *,
        key: str,
        thread_ts: str | None = None,
        maybe_sent: bool = False,
    ) -> PostedMessage:
        """Post once per `key`: a failure that leaves the outcome unknown (a dropped
        connection, 5xx outlasting the client's retries) is raised, and the relay's next try
        passes `maybe_sent`, which looks in Slack's history before posting again."""
        if maybe_sent:
            found = self._find_relayed(channel, key, thread_ts)
            if found is not None:
                return found
        if self.limiter is not None:
            self.limiter.acquire()
        metadata = {"event_type": RELAY_EVENT, "event_payload": {"key": key}}
        extra: dict[str, Any] = {"thread_ts": thread_ts} if thread_ts else {}
        try:
            response = self._poster.chat_postMessage(
                channel=channel,
                text=message.text,
                blocks=_blocks(message),
                metadata=metadata,
                unfurl_links=False,
                unfurl_media=False,
                **extra,
            )
        except SlackApiError as exc:
            if exc.response.status_code == 200:
                raise DeliveryFailed(str(exc.response.get("error"))) from exc
            raise
        return PostedMessage(channel=response["channel"], ts=response["ts"])

    def update_message(self, channel: str, ts: str, message: OutgoingMessage) -> None:
        try:
            self.client.chat_update(
                channel=channel, ts=ts, text=message.text, blocks=_blocks(message)
            )
        except SlackApiError as exc:
            # A message deleted meanwhile, a channel the bot left: final, like a refused post.
            if exc.response.status_code == 200:
                raise DeliveryFailed(str(exc.response.get("error"))) from exc
            raise

    def post_ephemeral(
        self, channel: str, user_id: str, message: OutgoingMessage, *, thread_ts: str | None = None
    ) -> None:
        # The client waits out 429s (Retry-After) and retries 5xx and dropped connections: a
        # confirmation shown twice is harmless, one never shown leaves the person guessing.
        extra: dict[str, Any] = {"thread_ts": thread_ts} if thread_ts else {}
        try:
            self.client.chat_postEphemeral(
                channel=channel, user=user_id, text=message.text, blocks=_blocks(message), **extra
            )
        except SlackApiError as exc:
            if exc.response.status_code == 200:
                raise DeliveryFailed(str(exc.response.get("error"))) from exc
            raise


class WorkspaceGateways:
    """One gateway per installed workspace and token, so each keeps its own DM pacing."""

    def __init__(self, settings: Settings, *, metrics: Metrics | None = None) -> None:
        self._settings = settings
        self._metrics = metrics
        self._lock = threading.Lock()
        self._gateways: dict[tuple[str, str], SlackGateway] = {}

    def for_workspace(self, team_id: str, token: str) -> SlackGateway:
        with self._lock:
            found = self._gateways.get((team_id, token))
            if found is None:
                client = make_web_client(self._settings, token=token, metrics=self._metrics)
                found = self._gateways[(team_id, token)] = make_gateway(
                    self._settings, client, metrics=self._metrics
                )
            return found
