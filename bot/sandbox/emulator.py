"""A Slack Web API emulator: a real HTTP server on loopback that answers like Slack.

It serves the Web API methods cx-pulse calls (paginated, with Slack's shapes, errors and Block
Kit limits), records every call, keeps users, channels, messages, views and files, and plays
Slack's other role too: it sends correctly signed slash commands, clicks, modal submissions and
events to the app's /slack/events URL, and records what the app posts to response URLs.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import hashlib
import itertools
import json
import logging
import mimetypes
import random
import socket
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, TypeVar

from bot.manifest import bot_scopes, socket_manifest
from bot.sandbox import actors, composer, shortcuts, threads
from bot.sandbox.actors import APP_ID, SentRequest
from bot.sandbox.openid import METHODS as OPENID_METHODS
from bot.sandbox.openid import OpenIDProvider

__all__ = [
    "APP_ID",
    "BOT_ID",
    "BOT_USER_ID",
    "SLACKBOT_ID",
    "RecordedCall",
    "SentRequest",
    "SlackEmulator",
    "SlackError",
]

log = logging.getLogger(__name__)

T = TypeVar("T")
BLOCK_CHECKS_KEPT = 4096
BOT_USER_ID = "UBOTSANDBOX"
BOT_ID = "BBOTSANDBOX"
BOT_NAME = "cx-pulse"
SLACKBOT_ID = "USLACKBOT"
TRIGGER_LIFETIME_S = 3.0
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
TS_START_US = 1_700_000_000_000_100  # the first message ts is "1700000000.000100"
TS_STEP_US = 100
# Fields slack_sdk form-encodes as JSON strings; they are decoded back to lists and objects.
JSON_FIELDS = frozenset({"blocks", "attachments", "view", "files", "metadata"})
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100


@dataclass(frozen=True, slots=True)
class RecordedCall:
    """One Web API call as the emulator received and answered it."""

    method: str
    params: dict[str, Any]
    response: dict[str, Any]
    status: int
    at: float


class SlackError(Exception):
    """An `ok: false` answer, with Slack's error code and optional detail messages."""

    def __init__(self, error: str, *, status: int = 200, messages: list[str] | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.messages = messages or []


@dataclass(frozen=True, slots=True)
class ApiAnswer:
    """An HTTP answer to a Web API call."""

    status: int
    body: dict[str, Any]
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class _Fault:
    """A failure injected for the next call(s) of a method, e.g. a 429 with Retry-After."""

    error: str
    status: int
    retry_after: int | None


@dataclass(frozen=True, slots=True)
class Chaos:
    """Random failures for one method, as shares of calls (0-1): what a bad day at Slack is like.

    `dropped_before` closes the connection without doing anything; `dropped_after` does the work
    and then closes it, so the client cannot know the call succeeded.
    """

    rate_limited: float = 0.0
    retry_after: int = 0
    server_errors: float = 0.0
    dropped_before: float = 0.0
    dropped_after: float = 0.0
    delay_s: float = 0.0


DROP = "drop"


@dataclass
class _Budget:
    """A token bucket: `rate` calls a second, refilled continuously."""

    rate: float
    tokens: float
    stamp: float


@dataclass(frozen=True, slots=True)
class _Trigger:
    """A trigger id handed to the app, and the view it was exchanged for, once it is."""

    issued_at: float
    view_id: str | None = None


@dataclass(frozen=True, slots=True)
class _ResponseTarget:
    """Where a response URL's answers land: who it was issued to and which message it came from."""

    user_id: str
    channel_id: str
    message_ts: str | None


@dataclass
class _Workspace:
    """Everything the emulator knows; only touched with the emulator's lock held."""

    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    dms: dict[str, str] = field(default_factory=dict)  # DM channel id -> user id
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # What Slack keeps besides the messages as they are now (a compliance export holds it):
    # each edited message's earlier versions, by (channel, ts), and deleted messages.
    earlier_versions: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    deleted: list[dict[str, Any]] = field(default_factory=list)
    ephemerals: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    responses: list[dict[str, Any]] = field(default_factory=list)
    response_targets: dict[str, _ResponseTarget] = field(default_factory=dict)
    views: dict[str, dict[str, Any]] = field(default_factory=dict)
    homes: dict[str, str] = field(default_factory=dict)  # user id -> published Home view id
    triggers: dict[str, _Trigger] = field(default_factory=dict)
    uploads: dict[str, dict[str, Any]] = field(default_factory=dict)
    faults: dict[str, list[_Fault]] = field(default_factory=dict)
    calls: list[RecordedCall] = field(default_factory=list)


# --- small pure helpers ----------------------------------------------------------------------


def _copied(value: T) -> T:
    """A deep copy of JSON data (everything the emulator stores but file bytes).

    A JSON round trip is several times cheaper than copy.deepcopy, which took most of the
    emulator's CPU per chat.update; the emulator shares its machine with the app under test.
    """
    copied: T = json.loads(json.dumps(value))
    return copied


def _shown_user(user: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """A user as users.list / users.info show it: like Slack, the locale only when the
    caller passed include_locale=true."""
    shown = _copied(user)
    if not _truthy(params.get("include_locale")):
        shown.pop("locale", None)
    return shown


def _truthy(value: Any) -> bool:
    """Slack's booleans arrive as true, 1, "1" or "true" depending on the encoding."""
    return value is True or str(value).lower() in {"1", "true"}


def _encode_cursor(scope: str, offset: int) -> str:
    return base64.urlsafe_b64encode(f"{scope}:{offset}".encode()).decode()


def _decode_cursor(scope: str, cursor: str) -> int:
    """The offset behind an opaque cursor; a cursor from another list is as bad as garbage."""
    try:
        decoded = base64.urlsafe_b64decode(cursor.encode()).decode()
    except ValueError as exc:  # binascii.Error and UnicodeDecodeError are ValueErrors
        raise SlackError("invalid_cursor") from exc
    prefix, _, number = decoded.rpartition(":")
    if prefix != scope or not number.isdigit():
        raise SlackError("invalid_cursor")
    return int(number)


def _limit(params: Mapping[str, Any]) -> int:
    raw = params.get("limit")
    if raw in (None, ""):
        return DEFAULT_LIMIT
    try:
        limit = int(raw)
    except (TypeError, ValueError) as exc:
        raise SlackError("invalid_limit") from exc
    if limit < 0:
        raise SlackError("invalid_limit")
    # Slack treats 0 as "use the default" and silently caps large limits.
    return min(limit or DEFAULT_LIMIT, MAX_LIMIT)


def _page(
    items: list[Any], params: Mapping[str, Any], scope: str
) -> tuple[list[Any], dict[str, str]]:
    """One page of a list and its response_metadata ("" as next_cursor on the last page)."""
    limit = _limit(params)
    cursor = str(params.get("cursor") or "")
    start = _decode_cursor(scope, cursor) if cursor else 0
    if start > len(items):
        raise SlackError("invalid_cursor")
    end = start + limit
    next_cursor = _encode_cursor(scope, end) if end < len(items) else ""
    return items[start:end], {"next_cursor": next_cursor}


def _ts_key(ts: str) -> tuple[int, int]:
    seconds, _, micros = ts.partition(".")
    return int(seconds), int(micros or 0)


def _text_length(obj: Any) -> int:
    return len(str(obj.get("text", ""))) if isinstance(obj, Mapping) else len(str(obj or ""))


def _too_long(obj: Any, limit: int, pointer: str) -> list[str]:
    if _text_length(obj) > limit:
        return [f"[ERROR] must be less than {limit + 1} characters [json-pointer:{pointer}]"]
    return []


def _too_many(items: Any, limit: int, pointer: str) -> list[str]:
    if isinstance(items, list) and len(items) > limit:
        return [f"[ERROR] no more than {limit} items allowed [json-pointer:{pointer}]"]
    return []


def _element_errors(element: Any, pointer: str) -> list[str]:
    if not isinstance(element, Mapping) or element.get("type") != "button":
        return []
    return [
        *_too_long(element.get("text"), 75, f"{pointer}/text/text"),
        *_too_long(element.get("value"), 2000, f"{pointer}/value"),
        *_too_long(element.get("action_id"), 255, f"{pointer}/action_id"),
    ]


def _section_errors(block: Mapping[str, Any], pointer: str) -> list[str]:
    if not block.get("text") and not block.get("fields"):
        return [f"[ERROR] must provide either text or fields [json-pointer:{pointer}]"]
    errors = _too_long(block.get("text"), 3000, f"{pointer}/text/text")
    fields = block.get("fields") or []
    errors += _too_many(fields, 10, f"{pointer}/fields")
    for index, item in enumerate(fields):
        errors += _too_long(item, 2000, f"{pointer}/fields/{index}/text")
    return errors + _element_errors(block.get("accessory"), f"{pointer}/accessory")


def _one_block_errors(block: Mapping[str, Any], pointer: str) -> list[str]:
    """Slack's documented per-block limits, for the block types messages and modals use."""
    kind = block["type"]
    elements = block.get("elements") or []
    if kind == "section":
        return _section_errors(block, pointer)
    if kind == "header":
        text = block.get("text")
        if not isinstance(text, Mapping) or text.get("type") != "plain_text":
            return [f"[ERROR] must be a plain_text object [json-pointer:{pointer}/text]"]
        return _too_long(text, 150, f"{pointer}/text/text")
    if kind == "context":
        return _too_many(elements, 10, f"{pointer}/elements")
    if kind == "actions":
        errors = _too_many(elements, 25, f"{pointer}/elements")
        for index, element in enumerate(elements):
            errors += _element_errors(element, f"{pointer}/elements/{index}")
        return errors
    if kind == "input":
        return _too_long(block.get("label"), 2000, f"{pointer}/label/text")
    return []


def block_errors(blocks: Any, *, max_blocks: int, root: str = "/blocks") -> list[str]:
    """What Slack would reject in these blocks, in its `response_metadata.messages` style."""
    if not isinstance(blocks, list):
        return [f"[ERROR] must be an array [json-pointer:{root}]"]
    errors = _too_many(blocks, max_blocks, root)
    seen: set[str] = set()
    for index, block in enumerate(blocks):
        pointer = f"{root}/{index}"
        if not isinstance(block, Mapping) or not isinstance(block.get("type"), str):
            errors.append(f"[ERROR] missing required field: type [json-pointer:{pointer}]")
            continue
        block_id = block.get("block_id")
        if block_id is not None:
            errors += _too_long(block_id, 255, f"{pointer}/block_id")
            if block_id in seen:
                errors.append(f"[ERROR] duplicate block_id [json-pointer:{pointer}/block_id]")
            seen.add(str(block_id))
        errors += _one_block_errors(block, pointer)
    return errors


def view_errors(view: Any) -> list[str]:
    """What Slack would reject in a modal or Home tab view."""
    if not isinstance(view, Mapping):
        return ["[ERROR] must be an object [json-pointer:/view]"]
    kind = view.get("type")
    if kind not in {"modal", "home"}:
        return ["[ERROR] must be one of modal, home [json-pointer:/view/type]"]
    errors: list[str] = []
    if kind == "modal":
        if not view.get("title"):
            errors.append("[ERROR] missing required field: title [json-pointer:/view]")
        for name in ("title", "submit", "close"):
            errors += _too_long(view.get(name), 24, f"/view/{name}/text")
    errors += _too_long(view.get("private_metadata"), 3000, "/view/private_metadata")
    errors += _too_long(view.get("callback_id"), 255, "/view/callback_id")
    return errors + block_errors(
        view.get("blocks", []), max_blocks=MAX_VIEW_BLOCKS, root="/view/blocks"
    )


def _decode_json_fields(params: dict[str, Any]) -> dict[str, Any]:
    """Form-encoded calls carry blocks, views and files as JSON strings: decode them."""
    for name in JSON_FIELDS & params.keys():
        value = params[name]
        if isinstance(value, str) and value.strip()[:1] in {"[", "{"}:
            # Bad JSON stays a string, so the method reports it as invalid like Slack does.
            with contextlib.suppress(ValueError):
                params[name] = json.loads(value)
    return params


def parse_api_params(query: str, body: bytes, content_type: str) -> dict[str, Any]:
    """Query string plus a form or JSON body, as one dict (raises ValueError on bad JSON)."""
    params: dict[str, Any] = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
    if content_type.startswith("application/json"):
        if body.strip():
            decoded = json.loads(body)
            if not isinstance(decoded, dict):
                raise ValueError("a JSON body must be an object")
            params.update(decoded)
    elif body:
        params.update(urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    return _decode_json_fields(params)


# --- the emulator ----------------------------------------------------------------------------


class SlackEmulator:
    """A fake Slack workspace served over real HTTP on 127.0.0.1."""

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-sandbox-token",  # noqa: S107 - a fake token for a fake Slack
        signing_secret: str = "sandbox-signing-secret",  # noqa: S107
        team_id: str = "T0SANDBOX",
        team_name: str = "Sandbox Inc",
        trigger_lifetime: float = TRIGGER_LIFETIME_S,
        scopes: Iterable[str] | None = None,
    ) -> None:
        self.bot_token = bot_token
        # What the token was granted, sent back as Slack does in x-oauth-scopes.
        self.scopes = frozenset(bot_scopes() if scopes is None else scopes)
        self.signing_secret = signing_secret
        self.team_id = team_id
        self.team_name = team_name
        self.team_domain = "".join(c for c in team_name.lower() if c.isalnum()) or "sandbox"
        self.trigger_lifetime = trigger_lifetime
        self._app_url: str | None = None
        self._base_url: str | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.RLock()
        self._state = _Workspace()
        self._chaos: dict[str, Chaos] = {}
        self._block_checks: dict[str, list[str]] = {}  # serialized blocks -> their errors
        self._budgets: dict[str, _Budget] = {}
        self._random = random.Random(0)
        self._ts = itertools.count(TS_START_US, TS_STEP_US)
        self._serial = itertools.count(1)
        self._methods: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "auth.test": self._auth_test,
            "users.list": self._users_list,
            "users.info": self._users_info,
            "usergroups.list": self._usergroups_list,
            "usergroups.users.list": self._usergroups_users_list,
            "conversations.members": self._conversations_members,
            "conversations.info": self._conversations_info,
            "conversations.open": self._conversations_open,
            "chat.postMessage": self._chat_post_message,
            "conversations.history": self._conversations_history,
            "conversations.replies": lambda params: threads.conversations_replies(self, params),
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "views.open": self._views_open,
            # A modal pushed over another (the Read-all modal's Reply): a new view, like open.
            "views.push": self._views_open,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
        }
        self.add_user(BOT_USER_ID, BOT_NAME, is_bot=True)
        self.add_user(SLACKBOT_ID, "slackbot", real_name="Slackbot")
        # OAuth installs (oauth.v2.access): the app's credentials, and codes not yet exchanged.
        self._oauth_client: tuple[str, str] | None = None
        self._install_codes: dict[str, str] = {}
        # Sign in with Slack (bot.sandbox.openid): the authorize page and openid.connect.*.
        self.openid = OpenIDProvider(self)

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> SlackEmulator:
        """Bind a free loopback port and serve in a daemon thread."""
        if self._server is not None:
            raise RuntimeError("the emulator is already running")
        server = _Server(self)
        self._base_url = f"http://127.0.0.1:{server.server_address[1]}"
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="slack-emulator",
            daemon=True,
        )
        self._server = server
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket; state stays readable afterwards."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> SlackEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """e.g. "http://127.0.0.1:PORT" (no trailing slash)."""
        if self._base_url is None:
            raise RuntimeError("start the emulator first")
        return self._base_url

    @property
    def api_url(self) -> str:
        """What `WebClient(base_url=...)` expects, trailing slash included."""
        return f"{self.base_url}/api/"

    @property
    def app_url(self) -> str | None:
        """The app's events URL, where the emulator sends what Slack would send."""
        return self._app_url

    # --- organisation set-up -------------------------------------------------------------------

    def add_user(
        self,
        user_id: str,
        name: str,
        *,
        real_name: str | None = None,
        tz: str = "Europe/London",
        tz_offset: int = 0,
        locale: str = "en-US",
        is_bot: bool = False,
        deleted: bool = False,
    ) -> dict[str, Any]:
        """Add (or replace) a workspace member; returns the users.list shape of it."""
        shown_name = real_name or name
        user = {
            "id": user_id,
            "team_id": self.team_id,
            "name": name,
            "real_name": shown_name,
            "deleted": deleted,
            "is_bot": is_bot,
            "is_app_user": False,
            "tz": tz,
            "tz_label": tz,
            "tz_offset": tz_offset,
            "locale": locale,
            "profile": {"real_name": shown_name, "display_name": name},
        }
        with self._lock:
            self._state.users[user_id] = user
            self._state.dms[self.dm_channel(user_id)] = user_id
        return _copied(user)

    def add_usergroup(self, group_id: str, handle: str, name: str, user_ids: list[str]) -> None:
        """Add (or replace) a user group (@handle)."""
        group = {
            "id": group_id,
            "team_id": self.team_id,
            "is_usergroup": True,
            "handle": handle,
            "name": name,
            "date_delete": 0,
            "users": list(user_ids),
        }
        with self._lock:
            self._state.groups[group_id] = group

    def add_channel(
        self, channel_id: str, name: str, member_ids: list[str], *, is_private: bool = False
    ) -> None:
        """Add (or replace) a channel and its members (the bot is one only if listed)."""
        with self._lock:
            self._state.channels[channel_id] = {
                "id": channel_id,
                "name": name,
                "members": list(member_ids),
                "is_private": is_private,
            }
            self._state.messages.setdefault(channel_id, [])

    def set_app_url(self, url: str) -> None:
        """Where to send slash commands, interactions and events, e.g. ".../slack/events"."""
        self._app_url = url

    def set_scopes(self, scopes: Iterable[str]) -> None:
        """Grant the bot token exactly these scopes (x-oauth-scopes on every answer)."""
        self.scopes = frozenset(scopes)

    def scope_headers(self, token: str | None) -> tuple[tuple[str, str], ...]:
        """Slack names the granted scopes on every answer to a known token, and only then."""
        if token != self.bot_token:
            return ()
        return (("x-oauth-scopes", ",".join(sorted(self.scopes))),)

    def set_chaos(self, method: str, chaos: Chaos | None, *, seed: int = 0) -> None:
        """Inject random failures into every call of `method` (None turns them off)."""
        with self._lock:
            if chaos is None:
                self._chaos.pop(method, None)
            else:
                self._chaos[method] = chaos
            self._random.seed(seed)

    def set_budget(self, method: str, per_second: float | None) -> None:
        """Enforce a rate limit on `method` as Slack does: past `per_second` calls a second
        (with a one-second burst) answer 429 with Retry-After: 1. None lifts it."""
        with self._lock:
            if per_second is None:
                self._budgets.pop(method, None)
            else:
                self._budgets[method] = _Budget(per_second, per_second, time.monotonic())

    def _within_budget(self, method: str) -> bool:
        with self._lock:
            budget = self._budgets.get(method)
            if budget is None:
                return True
            now = time.monotonic()
            budget.tokens = min(budget.rate, budget.tokens + (now - budget.stamp) * budget.rate)
            budget.stamp = now
            if budget.tokens < 1:
                return False
            budget.tokens -= 1
            return True

    def chaos_outcome(self, method: str) -> tuple[str | None, bool]:
        """(failure to inject before the call or None, whether to drop the answer after it)."""
        with self._lock:
            chaos = self._chaos.get(method)
            if chaos is None:
                return None, False
            roll, after = self._random.random(), self._random.random()
        if chaos.delay_s:
            time.sleep(chaos.delay_s)
        bands = (
            (chaos.dropped_before, DROP),
            (chaos.rate_limited, "ratelimited"),
            (chaos.server_errors, "internal_error"),
        )
        edge = 0.0
        for share, outcome in bands:
            edge += share
            if roll < edge:
                return outcome, False
        return None, after < chaos.dropped_after

    def record_fault(self, method: str, params: dict[str, Any], failure: str) -> None:
        """Injected failures are calls too (status 0: the connection was dropped)."""
        status = {DROP: 0, "ratelimited": 429}.get(failure, 503)
        with self._lock:
            self._state.calls.append(
                RecordedCall(method, params, {"ok": False, "error": failure}, status, time.time())
            )

    def chaos_retry_after(self, method: str) -> int:
        with self._lock:
            chaos = self._chaos.get(method)
            return chaos.retry_after if chaos else 0

    def fail_next(
        self,
        method: str,
        *,
        error: str = "ratelimited",
        status: int = 429,
        retry_after: int | None = 1,
        times: int = 1,
    ) -> None:
        """Make the next `times` calls of `method` fail (by default a 429 with Retry-After)."""
        fault = _Fault(error, status, retry_after if status == 429 else None)
        with self._lock:
            self._state.faults.setdefault(method, []).extend([fault] * times)

    # --- inspection ----------------------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[RecordedCall]:
        """Recorded Web API calls, oldest first; optionally of one method only."""
        with self._lock:
            return [c for c in self._state.calls if method is None or c.method == method]

    def reset_calls(self) -> None:
        """Forget the recorded calls (state such as messages stays)."""
        with self._lock:
            self._state.calls.clear()

    def people(self) -> list[dict[str, Any]]:
        """The workspace's active human members (who could sign in), as users.list shows them."""
        with self._lock:
            users = list(self._state.users.values())
        return [
            _copied(u)
            for u in users
            if not u["is_bot"] and not u["deleted"] and u["id"] != SLACKBOT_ID
        ]

    def openid_call(
        self, method: str, params: dict[str, Any], authorization: str, token: str | None
    ) -> ApiAnswer:
        """openid.connect.token (client credentials) or userInfo (a user token), recorded."""
        answer = self.openid.call(
            method, params, token=token, basic=_basic_credentials(authorization)
        )
        recorded = {k: v for k, v in params.items() if k != "client_secret"}
        with self._lock:
            self._state.calls.append(
                RecordedCall(method, recorded, answer.body, answer.status, time.time())
            )
        return ApiAnswer(answer.status, answer.body)

    def dm_channel(self, user_id: str) -> str:
        """The stable id of the bot's DM channel with this user."""
        return f"D{user_id[1:]}"

    def messages(self, channel_id: str) -> list[dict[str, Any]]:
        """The channel's messages as they are now (after updates), in ts order."""
        with self._lock:
            stored = self._state.messages.get(channel_id, [])
            return _copied(sorted(stored, key=lambda m: _ts_key(m["ts"])))

    def ephemerals(self, user_id: str) -> list[dict[str, Any]]:
        """Ephemeral messages this user saw, from chat.postEphemeral or a response URL."""
        with self._lock:
            return _copied(self._state.ephemerals.get(user_id, []))

    def export(self) -> list[dict[str, Any]]:
        """Everything Slack stores, as a compliance export of the whole workspace holds it: every
        message of every channel and DM as it is now, each with its earlier versions under
        "edits" (oldest first), and deleted messages (marked "deleted"). Ephemeral messages are
        not in it: Slack shows them to one person and never stores them."""
        with self._lock:
            kept = [
                (message, False)
                for messages in self._state.messages.values()
                for message in messages
            ] + [(message, True) for message in self._state.deleted]
            exported = [
                {
                    **message,
                    "edits": self._state.earlier_versions.get(
                        (message["channel"], message["ts"]), []
                    ),
                    "deleted": deleted,
                }
                for message, deleted in kept
            ]
            return _copied(sorted(exported, key=lambda m: (m["channel"], _ts_key(m["ts"]))))

    def responses(self, response_url: str | None = None) -> list[dict[str, Any]]:
        """What the app posted to response URLs, oldest first; optionally for one URL or its id."""
        with self._lock:
            return _copied(
                [
                    r
                    for r in self._state.responses
                    if response_url is None or response_url in (r["url"], r["id"])
                ]
            )

    def views(self) -> dict[str, dict[str, Any]]:
        """Every view the app opened, updated or published, by view id."""
        with self._lock:
            return _copied(self._state.views)

    def view_for_trigger(self, trigger_id: str) -> dict[str, Any] | None:
        """The view the app opened with this trigger id, if it has (yet)."""
        with self._lock:
            trigger = self._state.triggers.get(trigger_id)
            if trigger is None or trigger.view_id is None:
                return None
            return _copied(self._state.views[trigger.view_id])

    def uploaded_files(self) -> list[dict[str, Any]]:
        """Files the app uploaded, with their bytes under "content"."""
        with self._lock:
            return copy.deepcopy(list(self._state.uploads.values()))  # bytes: not JSON

    @staticmethod
    def find_button(
        message: Mapping[str, Any], *, value: str | None = None, action_id_prefix: str | None = None
    ) -> tuple[str, str, str]:
        """(block_id, action_id, value) of the first matching button in a stored message."""
        return actors.find_button(message, value=value, action_id_prefix=action_id_prefix)

    # --- OAuth installs ------------------------------------------------------------------------

    def enable_oauth(self, client_id: str, client_secret: str) -> None:
        """Accept oauth.v2.access from an app with these credentials."""
        self._oauth_client = (client_id, client_secret)

    def approve_install(self, user_id: str) -> str:
        """`user_id` clicks "Allow" on the install page: the code Slack puts in the redirect."""
        code = f"{self.team_id}-{uuid.uuid4().hex}"
        with self._lock:
            self._install_codes[code] = user_id
        return code

    def oauth_access(self, params: dict[str, Any], basic: tuple[str, str] | None) -> ApiAnswer:
        """oauth.v2.access: trade a one-time code for the workspace's bot token."""
        answer = self._oauth_answer(params, basic)
        with self._lock:
            # Recorded without the client secret, like every call here records no secret.
            self._state.calls.append(
                RecordedCall(
                    "oauth.v2.access", dict(params), answer.body, answer.status, time.time()
                )
            )
        return answer

    def _oauth_answer(self, params: dict[str, Any], basic: tuple[str, str] | None) -> ApiAnswer:
        credentials = basic or (str(params.get("client_id")), str(params.get("client_secret")))
        if self._oauth_client is None or credentials != self._oauth_client:
            return ApiAnswer(200, {"ok": False, "error": "invalid_client_id"})
        with self._lock:
            installer = self._install_codes.pop(str(params.get("code") or ""), None)
        if installer is None:
            return ApiAnswer(200, {"ok": False, "error": "invalid_code"})
        return ApiAnswer(
            200,
            {
                "ok": True,
                "access_token": self.bot_token,
                "token_type": "bot",
                "scope": ",".join(sorted(self.scopes)),
                "bot_user_id": BOT_USER_ID,
                "app_id": APP_ID,
                "team": {"id": self.team_id, "name": self.team_name},
                "enterprise": None,
                "is_enterprise_install": False,
                "authed_user": {"id": installer},
            },
        )

    # --- Web API dispatch ----------------------------------------------------------------------

    def handle_api(self, method: str, params: dict[str, Any], token: str | None) -> ApiAnswer:
        """Answer one Web API call as Slack would, and record it."""
        answer = self._answer(method, params, token)
        with self._lock:
            self._state.calls.append(
                RecordedCall(method, params, answer.body, answer.status, time.time())
            )
        return answer

    def _answer(self, method: str, params: dict[str, Any], token: str | None) -> ApiAnswer:
        implementation = self._methods.get(method)
        if implementation is None:
            return ApiAnswer(404, {"ok": False, "error": "unknown_method"})
        if not token:
            return ApiAnswer(200, {"ok": False, "error": "not_authed"})
        if token != self.bot_token:
            return ApiAnswer(200, {"ok": False, "error": "invalid_auth"})
        if not self._within_budget(method):
            return ApiAnswer(429, {"ok": False, "error": "ratelimited"}, (("Retry-After", "1"),))
        fault = self._take_fault(method)
        if fault is not None:
            headers = (
                () if fault.retry_after is None else (("Retry-After", str(fault.retry_after)),)
            )
            return ApiAnswer(fault.status, {"ok": False, "error": fault.error}, headers)
        try:
            with self._lock:
                body = implementation(params)
        except SlackError as error:
            failed: dict[str, Any] = {"ok": False, "error": error.error}
            if error.messages:
                failed["response_metadata"] = {"messages": error.messages}
            return ApiAnswer(error.status, failed)
        return ApiAnswer(200, {"ok": True, **body})

    def _take_fault(self, method: str) -> _Fault | None:
        with self._lock:
            pending = self._state.faults.get(method)
            return pending.pop(0) if pending else None

    # --- Web API methods (called with the lock held) -------------------------------------------

    def _auth_test(self, _params: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": f"https://{self.team_domain}.slack.com/",
            "team": self.team_name,
            "team_id": self.team_id,
            "user": BOT_NAME,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _users_list(self, params: dict[str, Any]) -> dict[str, Any]:
        members, metadata = _page(list(self._state.users.values()), params, "users")
        return {
            "members": [_shown_user(m, params) for m in members],
            "cache_ts": int(time.time()),
            "response_metadata": metadata,
        }

    def _user(self, user_id: Any) -> dict[str, Any]:
        user = self._state.users.get(str(user_id or ""))
        if user is None:
            raise SlackError("user_not_found")
        return user

    def _users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"user": _shown_user(self._user(params.get("user")), params)}

    def _usergroups_list(self, params: dict[str, Any]) -> dict[str, Any]:
        with_users = _truthy(params.get("include_users"))
        groups = []
        for group in self._state.groups.values():
            shown = {k: v for k, v in group.items() if k != "users"}
            shown["user_count"] = len(group["users"])
            if with_users:
                shown["users"] = list(group["users"])
            groups.append(shown)
        return {"usergroups": groups}

    def _usergroups_users_list(self, params: dict[str, Any]) -> dict[str, Any]:
        group = self._state.groups.get(str(params.get("usergroup") or ""))
        if group is None:
            raise SlackError("no_such_subteam")
        return {"users": list(group["users"])}

    def _channel_members(self, channel_id: str) -> list[str]:
        if channel_id in self._state.dms:
            return [self._state.dms[channel_id], BOT_USER_ID]
        channel = self._state.channels.get(channel_id)
        if channel is None:
            raise SlackError("channel_not_found")
        return list(channel["members"])

    def _conversations_members(self, params: dict[str, Any]) -> dict[str, Any]:
        members = self._channel_members(str(params.get("channel") or ""))
        page, metadata = _page(members, params, "members")
        return {"members": page, "response_metadata": metadata}

    def _conversations_info(self, params: dict[str, Any]) -> dict[str, Any]:
        channel_id = str(params.get("channel") or "")
        if channel_id in self._state.dms:
            user_id = self._state.dms[channel_id]
            return {"channel": {"id": channel_id, "is_im": True, "user": user_id}}
        channel = self._state.channels.get(channel_id)
        if channel is None:
            raise SlackError("channel_not_found")
        members, private = channel["members"], bool(channel.get("is_private"))
        if private and BOT_USER_ID not in members:
            raise SlackError("channel_not_found")  # private channels are invisible to outsiders
        shown = {
            "id": channel_id,
            "name": channel["name"],
            "is_channel": not private,
            "is_group": private,
            "is_im": False,
            "is_private": private,
            "is_archived": False,
            "is_member": BOT_USER_ID in members,
        }
        if _truthy(params.get("include_num_members")):
            shown["num_members"] = len(members)
        return {"channel": shown}

    def _conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("channel"):
            channel_id = str(params["channel"])
            self._channel_members(channel_id)
            return {"channel": {"id": channel_id}, "already_open": True}
        users = [u for u in str(params.get("users") or "").split(",") if u]
        if not users:
            raise SlackError("users_list_not_supplied")
        for user_id in users:
            self._user(user_id)
        if len(users) == 1:
            return {"channel": {"id": self.dm_channel(users[0])}}
        # A group DM: a stable id per set of people, like Slack's mpim channels.
        digest = hashlib.sha256(",".join(sorted(users)).encode()).hexdigest()[:10].upper()
        channel_id = f"G{digest}"
        if channel_id not in self._state.channels:
            self.add_channel(channel_id, f"mpdm-{'--'.join(users)}-1", [*users, BOT_USER_ID])
        return {"channel": {"id": channel_id}}

    def _target_channel(self, value: Any, *, allow_user: bool) -> str:
        """A channel id that exists; a user id means that user's DM, as chat.postMessage allows."""
        target = str(value or "")
        if allow_user and target[:1] in {"U", "W"}:
            if target not in self._state.users:
                raise SlackError("channel_not_found")
            return self.dm_channel(target)
        if target in self._state.dms or target in self._state.channels:
            return target
        raise SlackError("channel_not_found")

    def _next_ts(self) -> str:
        micros = next(self._ts)
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _next_id(self, prefix: str, width: int = 4) -> str:
        return f"{prefix}{next(self._serial):0{width}d}"

    def _checked_blocks(self, params: Mapping[str, Any]) -> list[dict[str, Any]] | None:
        """The call's blocks, copied; None if it has none; invalid_blocks like Slack if bad.

        Each distinct block list is validated once: a pulse DM is re-sent with every tick,
        and checking it again each time was most of the emulator's CPU per chat.update.
        """
        if params.get("blocks") in (None, ""):
            return None
        serialized = json.dumps(params["blocks"])
        errors = self._block_checks.get(serialized)
        if errors is None:
            errors = block_errors(params["blocks"], max_blocks=MAX_MESSAGE_BLOCKS)
            if len(self._block_checks) >= BLOCK_CHECKS_KEPT:
                self._block_checks.clear()
            self._block_checks[serialized] = errors
        if errors:
            raise SlackError("invalid_blocks", messages=list(errors))
        blocks: list[dict[str, Any]] = json.loads(serialized)
        return blocks

    def _store_message(self, channel_id: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        message = {
            "type": "message",
            "ts": self._next_ts(),
            "channel": channel_id,
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "team": self.team_id,
            "text": "",
            "blocks": [],
            "files": [],
            "metadata": None,
            **fields,
        }
        self._state.messages.setdefault(channel_id, []).append(message)
        return message

    def _chat_post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        channel_id = self._target_channel(params.get("channel"), allow_user=True)
        blocks = self._checked_blocks(params)
        text = str(params.get("text") or "")
        if not text and not blocks and not params.get("attachments"):
            raise SlackError("no_text")
        fields: dict[str, Any] = {"text": text, "blocks": blocks or []}
        if isinstance(params.get("metadata"), dict):
            fields["metadata"] = _copied(params["metadata"])
        if params.get("thread_ts"):
            fields["thread_ts"] = str(params["thread_ts"])
        message = self._store_message(channel_id, fields)
        return {"channel": channel_id, "ts": message["ts"], "message": _copied(message)}

    def _conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        channel_id = self._target_channel(params.get("channel"), allow_user=False)
        newest_first = sorted(
            self._state.messages.get(channel_id, []), key=lambda m: _ts_key(m["ts"]), reverse=True
        )
        shown = []
        for message in newest_first:
            copied = _copied(message)
            if not _truthy(params.get("include_all_metadata")):
                copied.pop("metadata", None)
            shown.append(copied)
        page, metadata = _page(shown, params, f"history:{channel_id}")
        return {
            "messages": page,
            "has_more": bool(metadata["next_cursor"]),
            "response_metadata": metadata,
        }

    def _find_message(self, channel_id: str, ts: Any) -> dict[str, Any]:
        for message in self._state.messages.get(channel_id, []):
            if message["ts"] == ts:
                return message
        raise SlackError("message_not_found")

    def _keep_version(self, channel_id: str, message: Mapping[str, Any]) -> None:
        """Slack keeps what a message said before an edit. Its text and blocks are replaced,
        never changed in place, so keeping references to them is as good as a copy."""
        self._state.earlier_versions.setdefault((channel_id, message["ts"]), []).append(
            {"text": message["text"], "blocks": message["blocks"]}
        )

    def _chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        # chat.update wants the conversation id from chat.postMessage's answer, not a user id.
        channel_id = self._target_channel(params.get("channel"), allow_user=False)
        message = self._find_message(channel_id, params.get("ts"))
        blocks = self._checked_blocks(params)
        if not params.get("text") and blocks is None and not params.get("attachments"):
            raise SlackError("no_text")
        self._keep_version(channel_id, message)
        if "text" in params:
            message["text"] = str(params["text"] or "")
        if "blocks" in params:
            message["blocks"] = blocks or []
        if isinstance(params.get("metadata"), dict):
            message["metadata"] = _copied(params["metadata"])
        message["edited"] = {"user": BOT_USER_ID, "ts": self._next_ts()}
        return {
            "channel": channel_id,
            "ts": message["ts"],
            "text": message["text"],
            "message": _copied(message),
        }

    def _chat_post_ephemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        channel_id = self._target_channel(params.get("channel"), allow_user=True)
        user_id = str(self._user(params.get("user"))["id"])
        if user_id not in self._channel_members(channel_id):
            raise SlackError("user_not_in_channel")
        blocks = self._checked_blocks(params)
        text = str(params.get("text") or "")
        if not text and not blocks:
            raise SlackError("no_text")
        ts = self._next_ts()
        self._state.ephemerals.setdefault(user_id, []).append(
            {
                "channel": channel_id,
                "message_ts": ts,
                "text": text,
                "blocks": blocks or [],
                "via": "chat.postEphemeral",
                # Shown in a thread (the reply relay answers a message written in one).
                **({"thread_ts": str(params["thread_ts"])} if params.get("thread_ts") else {}),
            }
        )
        return {"message_ts": ts}

    def _store_view(self, view: Any, view_id: str) -> dict[str, Any]:
        errors = view_errors(view)
        if errors:
            raise SlackError("invalid_arguments", messages=errors)
        stored: dict[str, Any] = {
            "private_metadata": "",
            "callback_id": "",
            "external_id": "",
            "blocks": [],
            **_copied(view),
            "id": view_id,
            "team_id": self.team_id,
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{uuid.uuid4().hex[:8]}",
            "root_view_id": view_id,
            "previous_view_id": None,
            "app_id": APP_ID,
            "bot_id": BOT_ID,
        }
        self._state.views[view_id] = stored
        return _copied(stored)

    def _views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        trigger_id = str(params.get("trigger_id") or "")
        trigger = self._state.triggers.get(trigger_id)
        if trigger is None:
            raise SlackError("invalid_trigger_id")
        if trigger.view_id is not None:
            raise SlackError("exchanged_trigger_id")
        if time.monotonic() - trigger.issued_at > self.trigger_lifetime:
            raise SlackError("expired_trigger_id")
        view = self._store_view(params.get("view"), self._next_id("V"))
        self._state.triggers[trigger_id] = replace(trigger, view_id=view["id"])
        return {"view": view}

    def _existing_view_id(self, params: Mapping[str, Any]) -> str:
        view_id = str(params.get("view_id") or "")
        external_id = str(params.get("external_id") or "")
        for stored in self._state.views.values():
            if stored["id"] == view_id or (external_id and stored["external_id"] == external_id):
                expected_hash = params.get("hash")
                if expected_hash and expected_hash != stored["hash"]:
                    raise SlackError("hash_conflict")
                return str(stored["id"])
        raise SlackError("not_found")

    def _views_update(self, params: dict[str, Any]) -> dict[str, Any]:
        view_id = self._existing_view_id(params)
        return {"view": self._store_view(params.get("view"), view_id)}

    def _views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        user_id = str(self._user(params.get("user_id"))["id"])
        view = params.get("view")
        if not isinstance(view, dict) or view.get("type") != "home":
            raise SlackError(
                "invalid_arguments", messages=["[ERROR] must be home [json-pointer:/view/type]"]
            )
        view_id = self._state.homes.get(user_id)
        if view_id is not None and params.get("hash") not in (
            None,
            "",
            self._state.views[view_id]["hash"],
        ):
            raise SlackError("hash_conflict")
        view_id = view_id or self._next_id("V")
        self._state.homes[user_id] = view_id
        return {"view": self._store_view(view, view_id)}

    def _files_get_upload_url(self, params: dict[str, Any]) -> dict[str, Any]:
        filename = str(params.get("filename") or "")
        try:
            length = int(params.get("length") or 0)
        except (TypeError, ValueError) as exc:
            raise SlackError("invalid_arguments") from exc
        if not filename or length <= 0:
            raise SlackError("invalid_arguments")
        file_id = self._next_id("F", width=8)
        self._state.uploads[file_id] = {
            "id": file_id,
            "name": filename,
            "title": filename,
            "alt_txt": params.get("alt_txt") or None,
            "length": length,
            "mimetype": mimetypes.guess_type(filename)[0] or "application/octet-stream",
            "content": None,
            "completed": False,
            "channels": [],
        }
        return {"upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}

    def _files_complete_upload(self, params: dict[str, Any]) -> dict[str, Any]:
        entries = params.get("files")
        if not isinstance(entries, list) or not entries:
            raise SlackError("invalid_arguments")
        uploads = []
        for entry in entries:
            upload = self._state.uploads.get(
                str(entry.get("id") if isinstance(entry, dict) else "")
            )
            if upload is None or upload["content"] is None:
                raise SlackError("file_not_found")
            uploads.append((upload, entry))
        targets = [params["channel_id"]] if params.get("channel_id") else []
        targets += [c for c in str(params.get("channels") or "").split(",") if c]
        channel_ids = [self._target_channel(t, allow_user=False) for t in targets]
        shared = []
        for upload, entry in uploads:
            upload.update(completed=True, title=entry.get("title") or upload["name"])
            upload["channels"] = channel_ids
            shared.append(self._file_object(upload))
        for channel_id in channel_ids:
            fields = {"text": str(params.get("initial_comment") or ""), "files": shared}
            if params.get("thread_ts"):
                fields["thread_ts"] = str(params["thread_ts"])
            self._store_message(channel_id, _copied(fields))
        return {"files": shared}

    @staticmethod
    def _file_object(upload: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "id": upload["id"],
            "name": upload["name"],
            "title": upload["title"],
            "alt_txt": upload["alt_txt"],
            "mimetype": upload["mimetype"],
            "size": len(upload["content"] or b""),
            "user": BOT_USER_ID,
            "channels": list(upload["channels"]),
        }

    # --- what the HTTP handler stores besides API calls ----------------------------------------

    def store_upload(self, file_id: str, content: bytes) -> bool:
        """The bytes POSTed to an upload URL; False if the URL was never issued."""
        with self._lock:
            upload = self._state.uploads.get(file_id)
            if upload is None:
                return False
            upload["content"] = content
            return True

    def record_response(self, response_id: str, payload: dict[str, Any]) -> bool:
        """A POST to a response URL; applied as Slack would. False if the URL was never issued."""
        with self._lock:
            target = self._state.response_targets.get(response_id)
            if target is None:
                return False
            url = f"{self.base_url}/respond/{response_id}"
            self._state.responses.append({**payload, "id": response_id, "url": url})
            self._apply_response(target, payload)
            return True

    def _apply_response(self, target: _ResponseTarget, payload: Mapping[str, Any]) -> None:
        """What the person sees: the original replaced or deleted, a new post, or an ephemeral."""
        original = None
        if target.message_ts is not None:
            original = next(
                (
                    m
                    for m in self._state.messages.get(target.channel_id, [])
                    if m["ts"] == target.message_ts
                ),
                None,
            )
        if original is not None and _truthy(payload.get("delete_original")):
            self._state.messages[target.channel_id].remove(original)
            self._state.deleted.append(original)
        elif original is not None and _truthy(payload.get("replace_original")):
            self._keep_version(target.channel_id, original)
            blocks = _copied(payload.get("blocks") or [])
            original.update(text=str(payload.get("text") or ""), blocks=blocks)
        elif payload.get("response_type") == "in_channel":
            self._store_message(
                target.channel_id,
                {
                    "text": str(payload.get("text") or ""),
                    "blocks": _copied(payload.get("blocks") or []),
                },
            )
        else:
            self._state.ephemerals.setdefault(target.user_id, []).append(
                {
                    "channel": target.channel_id,
                    "message_ts": self._next_ts(),
                    "text": str(payload.get("text") or ""),
                    "blocks": _copied(payload.get("blocks") or []),
                    "via": "response_url",
                }
            )

    # --- acting as Slack towards the app -------------------------------------------------------

    def _issue_trigger(self) -> str:
        with self._lock:
            trigger_id = f"{next(self._serial)}.{int(time.time())}.{uuid.uuid4().hex[:20]}"
            self._state.triggers[trigger_id] = _Trigger(time.monotonic())
        return trigger_id

    def _issue_response_url(self, target: _ResponseTarget) -> str:
        response_id = uuid.uuid4().hex
        with self._lock:
            self._state.response_targets[response_id] = target
        return f"{self.base_url}/respond/{response_id}"

    def _team_ref(self) -> dict[str, str]:
        return {"id": self.team_id, "domain": self.team_domain}

    def _user_ref(self, user_id: str) -> dict[str, str]:
        with self._lock:
            name = str(self._state.users.get(user_id, {}).get("name", user_id))
        return {"id": user_id, "username": name, "name": name, "team_id": self.team_id}

    def _channel_ref(self, channel_id: str) -> dict[str, str]:
        with self._lock:
            if channel_id in self._state.dms:
                return {"id": channel_id, "name": "directmessage"}
            channel = self._state.channels.get(channel_id)
        return {"id": channel_id, "name": str(channel["name"]) if channel else "general"}

    def post_signed(
        self,
        body: str | bytes,
        *,
        content_type: str = actors.FORM,
        signing_secret: str | None = None,
        timestamp: int | None = None,
        retry_num: int | None = None,
    ) -> SentRequest:
        """POST any body to the app URL, signed (with our secret unless another is forced)."""
        if self._app_url is None:
            raise RuntimeError("call set_app_url() first")
        return actors.post_signed(
            self._app_url,
            body,
            signing_secret=signing_secret or self.signing_secret,
            content_type=content_type,
            timestamp=timestamp,
            retry_num=retry_num,
        )

    def typed(self, text: str, *, labels: bool = True) -> str:
        """What a person types, as Slack's client sends it on (bot.sandbox.composer)."""
        with self._lock:
            users = _copied(list(self._state.users.values()))
            channels = _copied(self._state.channels)
        return composer.escaped_like_slack(text, users, channels, labels=labels)

    @staticmethod
    def escapes(command: str) -> bool:
        """Whether manifest.yml asks Slack to escape this slash command's text."""
        declared = socket_manifest()["features"].get("slash_commands", [])
        return any(c["command"] == command and c.get("should_escape") for c in declared)

    def send_slash_command(
        self,
        user_id: str,
        text: str,
        *,
        command: str = "/cx",
        channel_id: str = "C0GENERAL",
        signing_secret: str | None = None,
        timestamp: int | None = None,
        retry_num: int | None = None,
        escape: bool | None = None,
        mention_labels: bool = True,
    ) -> SentRequest:
        """A person types `/cx text` in a channel. Like Slack, the text is escaped (mentions
        as `<@U…|name>`, & < > as entities) when manifest.yml says `should_escape: true` for
        the command, or when `escape` says so; `mention_labels=False` sends `<@U…>` alone."""
        if escape if escape is not None else self.escapes(command):
            text = self.typed(text, labels=mention_labels)
        response_url = self._issue_response_url(_ResponseTarget(user_id, channel_id, None))
        trigger_id = self._issue_trigger()
        fields = actors.slash_command_fields(
            team=self._team_ref(),
            user=self._user_ref(user_id),
            channel=self._channel_ref(channel_id),
            command=command,
            text=text,
            response_url=response_url,
            trigger_id=trigger_id,
        )
        sent = self.post_signed(
            actors.form_body(fields),
            signing_secret=signing_secret,
            timestamp=timestamp,
            retry_num=retry_num,
        )
        return replace(sent, response_url=response_url, trigger_id=trigger_id)

    def post_as_user(self, user_id: str, channel_id: str, text: str) -> str:
        """A person posts `text` in a channel (escaped by Slack's client); returns its ts."""
        escaped = self.typed(text)
        with self._lock:
            ts = self._next_ts()
            message = shortcuts.human_message(
                user_id=user_id, text=escaped, ts=ts, team_id=self.team_id
            )
            self._state.messages.setdefault(channel_id, []).append(message)
        return ts

    def send_message_shortcut(
        self,
        user_id: str,
        *,
        channel_id: str,
        message_ts: str,
        callback_id: str,
        signing_secret: str | None = None,
    ) -> SentRequest:
        """A person picks a message shortcut from a message's More actions menu."""
        with self._lock:
            current = next(
                (m for m in self._state.messages.get(channel_id, []) if m["ts"] == message_ts),
                None,
            )
            message = _copied(current) if current else {"type": "message", "ts": message_ts}
        response_url = self._issue_response_url(_ResponseTarget(user_id, channel_id, None))
        trigger_id = self._issue_trigger()
        payload = shortcuts.message_action_payload(
            team=self._team_ref(),
            user=self._user_ref(user_id),
            channel=self._channel_ref(channel_id),
            message=message,
            callback_id=callback_id,
            response_url=response_url,
            trigger_id=trigger_id,
        )
        sent = self.post_signed(actors.payload_body(payload), signing_secret=signing_secret)
        return replace(sent, response_url=response_url, trigger_id=trigger_id)

    def click_button(
        self,
        user_id: str,
        *,
        channel_id: str,
        message_ts: str,
        action_id: str,
        block_id: str,
        value: str,
        signing_secret: str | None = None,
        timestamp: int | None = None,
        retry_num: int | None = None,
    ) -> SentRequest:
        """A person clicks a button in a message; the payload carries the message as it is now."""
        with self._lock:
            current = next(
                (m for m in self._state.messages.get(channel_id, []) if m["ts"] == message_ts),
                None,
            )
            message = _copied(current) if current else {"type": "message", "ts": message_ts}
        element = actors.find_element(message, block_id, action_id) or {}
        label = element.get("text") or {"type": "plain_text", "text": value}
        response_url = self._issue_response_url(_ResponseTarget(user_id, channel_id, message_ts))
        trigger_id = self._issue_trigger()
        payload = actors.block_actions_payload(
            team=self._team_ref(),
            user=self._user_ref(user_id),
            channel=self._channel_ref(channel_id),
            message=message,
            action=actors.button_action(
                action_id=action_id, block_id=block_id, value=value, label=label
            ),
            response_url=response_url,
            trigger_id=trigger_id,
        )
        sent = self.post_signed(
            actors.payload_body(payload),
            signing_secret=signing_secret,
            timestamp=timestamp,
            retry_num=retry_num,
        )
        return replace(sent, response_url=response_url, trigger_id=trigger_id)

    def home_view(self, user_id: str) -> dict[str, Any] | None:
        """The Home tab the app last published for this person."""
        with self._lock:
            view_id = self._state.homes.get(user_id)
            return _copied(self._state.views[view_id]) if view_id else None

    def open_home(self, user_id: str) -> SentRequest:
        """A person opens the app's Home tab (`app_home_opened`)."""
        with self._lock:
            view_id = self._state.homes.get(user_id)
            view = _copied(self._state.views[view_id]) if view_id else None
        event: dict[str, Any] = {
            "type": "app_home_opened",
            "user": user_id,
            "channel": self.dm_channel(user_id),
            "tab": "home",
            "event_ts": f"{time.time():.6f}",
        }
        if view is not None:
            event["view"] = view
        return self.send_event(event)

    def _opened_view(self, view_id: str) -> dict[str, Any]:
        """A copy of a view the app opened, as a person's client holds it."""
        with self._lock:
            stored = self._state.views.get(view_id)
            if stored is None:
                raise LookupError(f"no view {view_id!r}: the app never opened it")
            return _copied(stored)

    def click_in_view(
        self,
        user_id: str,
        *,
        view_id: str,
        action_id: str,
        block_id: str,
        value: str,
        signing_secret: str | None = None,
    ) -> SentRequest:
        """A person clicks a button in a view (App Home or an open modal)."""
        view = self._opened_view(view_id)
        element = actors.find_element(view, block_id, action_id) or {}
        label = element.get("text") or {"type": "plain_text", "text": value}
        trigger_id = self._issue_trigger()
        payload = actors.view_block_actions_payload(
            team=self._team_ref(),
            user=self._user_ref(user_id),
            view=view,
            action=actors.button_action(
                action_id=action_id, block_id=block_id, value=value, label=label
            ),
            trigger_id=trigger_id,
        )
        sent = self.post_signed(actors.payload_body(payload), signing_secret=signing_secret)
        return replace(sent, trigger_id=trigger_id)

    def select_in_view(
        self, user_id: str, *, view_id: str, action_id: str, block_id: str, value: str
    ) -> SentRequest:
        """A person picks an option of a select menu in a view (outside an input block)."""
        view = self._opened_view(view_id)
        trigger_id = self._issue_trigger()
        payload = actors.view_block_actions_payload(
            team=self._team_ref(),
            user=self._user_ref(user_id),
            view=view,
            action=actors.select_action(action_id=action_id, block_id=block_id, value=value),
            trigger_id=trigger_id,
        )
        sent = self.post_signed(actors.payload_body(payload))
        return replace(sent, trigger_id=trigger_id)

    def submit_view(
        self,
        user_id: str,
        *,
        view_id: str,
        values: dict[str, dict[str, dict[str, Any]]],
        signing_secret: str | None = None,
        timestamp: int | None = None,
        retry_num: int | None = None,
    ) -> SentRequest:
        """A person presses Submit on a modal; `sent.json_body` holds any response_action."""
        view = self._opened_view(view_id)
        trigger_id = self._issue_trigger()
        payload = actors.view_submission_payload(
            team=self._team_ref(),
            user=self._user_ref(user_id),
            view=view,
            values=values,
            trigger_id=trigger_id,
        )
        sent = self.post_signed(
            actors.payload_body(payload),
            signing_secret=signing_secret,
            timestamp=timestamp,
            retry_num=retry_num,
        )
        self._apply_response_action(view_id, sent.json_body)
        return replace(sent, trigger_id=trigger_id)

    def _apply_response_action(self, view_id: str, answer: Mapping[str, Any] | None) -> None:
        """`response_action: update` replaces the modal, as Slack does; errors leave it open."""
        if not answer or answer.get("response_action") != "update":
            return
        with self._lock:
            try:
                self._store_view(answer.get("view"), view_id)
            except SlackError:
                log.warning("the app answered a view submission with an invalid view")

    def send_event(
        self,
        event: dict[str, Any],
        *,
        signing_secret: str | None = None,
        timestamp: int | None = None,
        retry_num: int | None = None,
    ) -> SentRequest:
        """An Events API delivery (`event_callback`) of one event."""
        envelope = actors.event_envelope(team_id=self.team_id, bot_user_id=BOT_USER_ID, event=event)
        return self.post_signed(
            json.dumps(envelope),
            content_type=actors.JSON,
            signing_secret=signing_secret,
            timestamp=timestamp,
            retry_num=retry_num,
        )

    def write_in_dm(
        self,
        user_id: str,
        text: str,
        *,
        thread_ts: str | None = None,
        signing_secret: str | None = None,
    ) -> tuple[dict[str, Any], SentRequest]:
        """A person writes in their DM with the bot, in a thread with `thread_ts`: the message
        is stored and a signed `message` event (`message.im`) sent (bot.sandbox.threads)."""
        return threads.write_in_dm(
            self, user_id, text, thread_ts=thread_ts, signing_secret=signing_secret
        )

    def url_verification(
        self,
        challenge: str,
        *,
        signing_secret: str | None = None,
        timestamp: int | None = None,
    ) -> SentRequest:
        """The handshake Slack sends when the events URL is saved."""
        return self.post_signed(
            json.dumps(actors.url_verification_payload(challenge)),
            content_type=actors.JSON,
            signing_secret=signing_secret,
            timestamp=timestamp,
        )


# --- HTTP ------------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    """Loopback only, on a free port; one daemon thread per connection."""

    daemon_threads = True
    # The default backlog of 5 overflows when the demo's clickers and the bot call at once,
    # and a dropped SYN costs the client a one-second retransmit.
    request_queue_size = 128

    def __init__(self, emulator: SlackEmulator) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.emulator = emulator


def _basic_credentials(authorization: str) -> tuple[str, str] | None:
    """(client id, secret) from an HTTP Basic Authorization header, as oauth.v2.access sends."""
    if not authorization.startswith("Basic "):
        return None
    try:
        decoded = base64.b64decode(authorization.removeprefix("Basic ").strip()).decode()
    except ValueError:
        return None
    client_id, sep, secret = decoded.partition(":")
    return (client_id, secret) if sep else None


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    # Headers and body go out as two small writes; without TCP_NODELAY, Nagle's algorithm and
    # the client's delayed ACK would add ~40 ms to every call.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests and the demo read the recorded calls instead."""

    def do_GET(self) -> None:
        self._route(b"")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self._route(self.rfile.read(length) if length > 0 else b"")

    def _route(self, body: bytes) -> None:
        split = urllib.parse.urlsplit(self.path)
        try:
            if split.path.startswith("/api/"):
                self._api(split.path.removeprefix("/api/"), split.query, body)
            elif split.path.startswith("/respond/") and self.command == "POST":
                self._respond(split.path.removeprefix("/respond/"), body)
            elif split.path.startswith("/upload/") and self.command == "POST":
                self._upload(split.path.removeprefix("/upload/"), body)
            elif split.path.startswith("/openid/connect/"):
                page = self.server.emulator.openid.page(
                    self.command, split.path, split.query, body, self.headers.get("Cookie") or ""
                )
                self._send(page.status, page.body, page.content_type, page.headers)
            else:
                self._send_json(404, {"ok": False, "error": "not_found"})
        except Exception:
            # A bug here must show up as a 500 the client sees, not as a hung connection.
            log.exception("the Slack emulator failed on %s %s", self.command, split.path)
            self._send_json(500, {"ok": False, "error": "internal_error"})

    def _api(self, method: str, query: str, body: bytes) -> None:
        try:
            params = parse_api_params(query, body, self.headers.get("Content-Type") or "")
        except ValueError:
            self._send_json(200, {"ok": False, "error": "invalid_json"})
            return
        token = params.pop("token", None)
        authorization = self.headers.get("Authorization") or ""
        emulator = self.server.emulator
        if method == "oauth.v2.access":
            answer = emulator.oauth_access(params, _basic_credentials(authorization))
            self._send_json(answer.status, answer.body, answer.headers)
            return
        if authorization.startswith("Bearer "):
            token = authorization.removeprefix("Bearer ").strip()
        if method in OPENID_METHODS:
            answer = emulator.openid_call(method, params, authorization, token)
            self._send_json(answer.status, answer.body)
            return
        scopes = emulator.scope_headers(str(token) if token else None)
        failure, drop_answer = emulator.chaos_outcome(method)
        if failure is not None:
            emulator.record_fault(method, params, failure)
        if failure == DROP:
            self._drop()
            return
        if failure is not None:
            status = 429 if failure == "ratelimited" else 503
            retry = (
                (("Retry-After", str(emulator.chaos_retry_after(method))),) if status == 429 else ()
            )
            self._send_json(status, {"ok": False, "error": failure}, retry + scopes)
            return
        answer = emulator.handle_api(method, params, str(token) if token else None)
        if drop_answer:
            self._drop()
            return
        self._send_json(answer.status, answer.body, answer.headers + scopes)

    def _drop(self) -> None:
        """Close the connection without a word, as a dying proxy or network would."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _respond(self, response_id: str, body: bytes) -> None:
        try:
            payload = json.loads(body or b"{}")
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            self._send_json(400, {"ok": False, "error": "invalid_payload"})
        elif self.server.emulator.record_response(response_id, payload):
            self._send_json(200, {"ok": True})
        else:
            self._send_json(404, {"ok": False, "error": "no_such_response_url"})

    def _upload(self, file_id: str, body: bytes) -> None:
        if self.server.emulator.store_upload(file_id, body):
            self._send(200, f"OK - {len(body)}".encode(), "text/plain; charset=utf-8")
        else:
            self._send(404, b"Not Found", "text/plain; charset=utf-8")

    def _send_json(
        self, status: int, payload: dict[str, Any], headers: tuple[tuple[str, str], ...] = ()
    ) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json; charset=utf-8", headers)

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
