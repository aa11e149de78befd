"""A Slack Web API emulator: a real HTTP server on loopback, with Slack's response shapes.

It serves the Web API methods cx-pulse calls (paginated like Slack), records every call, keeps
channels and messages, and plays Slack's other role too: it sends correctly signed slash
commands, button clicks and modal submissions to the bot's /slack/events URL.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from slack_sdk.signature import SignatureVerifier

BOT_USER_ID = "UBOTSANDBOX"
BOT_ID = "BBOTSANDBOX"
SLACKBOT_ID = "USLACKBOT"
TRIGGER_LIFETIME_S = 3.0
JSON_FIELDS = ("blocks", "attachments", "view", "files", "metadata", "users")


@dataclass(frozen=True, slots=True)
class RecordedCall:
    method: str
    params: dict[str, Any]
    response: dict[str, Any]
    status: int
    at: float


@dataclass(frozen=True, slots=True)
class SentRequest:
    """What the bot answered to a request the emulator sent it as Slack."""

    status: int
    body: str
    response_url: str | None = None
    trigger_id: str | None = None


class SlackApiFault(Exception):
    """An `ok: false` answer, with Slack's error code."""

    def __init__(self, error: str, status: int = 200) -> None:
        super().__init__(error)
        self.error = error
        self.status = status


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        kind, _, number = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        if kind != "offset" or not number.isdigit():
            raise ValueError(cursor)
        return int(number)
    except ValueError as exc:
        raise SlackApiFault("invalid_cursor") from exc


def _page(items: list[Any], params: Mapping[str, Any], default_limit: int) -> tuple[list[Any], str]:
    """Slack-style cursor paging: a slice and the next cursor ("" on the last page)."""
    limit = int(params.get("limit") or default_limit)
    limit = max(1, min(limit, 1000))
    start = _offset(params.get("cursor"))
    chunk = items[start : start + limit]
    more = start + limit < len(items)
    return chunk, _cursor(start + limit) if more else ""


def _truthy(value: Any) -> bool:
    return value in (True, 1, "1", "true", "True")


class SlackEmulator:
    """A fake Slack workspace served over real HTTP."""

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-sandbox-token",  # noqa: S107 - the emulator's own fake token
        signing_secret: str = "sandbox-signing-secret",  # noqa: S107
        team_id: str = "T0SANDBOX",
        team_name: str = "Sandbox Inc",
    ) -> None:
        self.bot_token = bot_token
        self.signing_secret = signing_secret
        self.team_id = team_id
        self.team_name = team_name
        self.app_url: str | None = None
        self._lock = threading.RLock()
        self._calls: list[RecordedCall] = []
        self._users: dict[str, dict[str, Any]] = {}
        self._groups: dict[str, dict[str, Any]] = {}
        self._channels: dict[str, dict[str, Any]] = {}
        self._messages: dict[str, list[dict[str, Any]]] = {}
        self._ephemerals: dict[str, list[dict[str, Any]]] = {}
        self._responses: list[dict[str, Any]] = []
        self._views: dict[str, dict[str, Any]] = {}
        self._triggers: dict[str, tuple[float, str | None]] = {}
        self._uploads: dict[str, dict[str, Any]] = {}
        self._ts = itertools.count(1)
        self._ids = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._methods: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "auth.test": self._auth_test,
            "users.list": self._users_list,
            "users.info": self._users_info,
            "usergroups.list": self._usergroups_list,
            "usergroups.users.list": self._usergroups_users_list,
            "conversations.members": self._conversations_members,
            "conversations.open": self._conversations_open,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "views.open": self._views_open,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
        }
        self.add_user(BOT_USER_ID, "cx-pulse", is_bot=True)
        self.add_user(SLACKBOT_ID, "slackbot")

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> SlackEmulator:
        handler = _handler_for(self)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="slack-emulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
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
        if self._server is None:
            raise RuntimeError("the emulator is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def api_url(self) -> str:
        """What `WebClient(base_url=...)` expects, trailing slash included."""
        return f"{self.base_url}/api/"

    # --- organisation set-up -----------------------------------------------------------------

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
        user = {
            "id": user_id,
            "team_id": self.team_id,
            "name": name,
            "real_name": real_name or name,
            "deleted": deleted,
            "is_bot": is_bot,
            "is_app_user": False,
            "tz": tz,
            "tz_label": tz,
            "tz_offset": tz_offset,
            "locale": locale,
            "profile": {"real_name": real_name or name, "display_name": name},
        }
        with self._lock:
            self._users[user_id] = user
        return user

    def add_usergroup(self, group_id: str, handle: str, name: str, user_ids: list[str]) -> None:
        with self._lock:
            self._groups[group_id] = {
                "id": group_id,
                "team_id": self.team_id,
                "handle": handle,
                "name": name,
                "users": list(user_ids),
            }

    def add_channel(self, channel_id: str, name: str, member_ids: list[str]) -> None:
        with self._lock:
            self._channels[channel_id] = {
                "id": channel_id,
                "name": name,
                "members": list(member_ids),
            }
            self._messages.setdefault(channel_id, [])

    def set_app_url(self, url: str) -> None:
        self.app_url = url

    # --- inspection --------------------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[RecordedCall]:
        with self._lock:
            return [c for c in self._calls if method is None or c.method == method]

    def reset_calls(self) -> None:
        with self._lock:
            self._calls.clear()

    def dm_channel(self, user_id: str) -> str:
        return f"D{user_id[1:]}"

    def messages(self, channel_id: str) -> list[dict[str, Any]]:
        with self._lock:
            stored = self._messages.get(channel_id, [])
            return [json.loads(json.dumps(m)) for m in sorted(stored, key=lambda m: float(m["ts"]))]

    def ephemerals(self, user_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._ephemerals.get(user_id, []))

    def responses(self, response_url: str | None = None) -> list[dict[str, Any]]:
        """What the bot posted to response URLs, oldest first; optionally for one URL or id."""
        with self._lock:
            return [
                dict(r)
                for r in self._responses
                if response_url is None or response_url in (r["url"], r["id"])
            ]

    def views(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {k: dict(v) for k, v in self._views.items()}

    def view_for_trigger(self, trigger_id: str) -> dict[str, Any] | None:
        """The view the bot opened with this trigger, if it has."""
        with self._lock:
            entry = self._triggers.get(trigger_id)
            if entry is None or entry[1] is None:
                return None
            return dict(self._views[entry[1]])

    def uploaded_files(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(f) for f in self._uploads.values()]

    @staticmethod
    def find_button(
        message: Mapping[str, Any], *, value: str | None = None, action_id_prefix: str | None = None
    ) -> tuple[str, str, str]:
        """(block_id, action_id, value) of the first button matching in a stored message."""
        for block in message.get("blocks") or []:
            for element in block.get("elements") or []:
                if element.get("type") != "button":
                    continue
                if value is not None and element.get("value") != value:
                    continue
                if action_id_prefix is not None and not str(element.get("action_id")).startswith(
                    action_id_prefix
                ):
                    continue
                return block.get("block_id", ""), element["action_id"], element.get("value", "")
        raise LookupError("no such button in the message")

    # --- Web API -----------------------------------------------------------------------------

    def handle_api(
        self, method: str, params: dict[str, Any], token: str | None
    ) -> tuple[int, dict[str, Any]]:
        implementation = self._methods.get(method)
        if implementation is None:
            status, response = 404, {"ok": False, "error": "unknown_method"}
        elif token != self.bot_token:
            status, response = 200, {"ok": False, "error": "invalid_auth"}
        else:
            try:
                with self._lock:
                    status, response = 200, {"ok": True, **implementation(params)}
            except SlackApiFault as fault:
                status, response = fault.status, {"ok": False, "error": fault.error}
        with self._lock:
            self._calls.append(RecordedCall(method, params, response, status, time.time()))
        return status, response

    def _auth_test(self, _params: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": "https://sandbox.slack.example/",
            "team": self.team_name,
            "team_id": self.team_id,
            "user": "cx-pulse",
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
        }

    def _users_list(self, params: dict[str, Any]) -> dict[str, Any]:
        members, cursor = _page(list(self._users.values()), params, default_limit=100)
        return {"members": members, "response_metadata": {"next_cursor": cursor}}

    def _user(self, user_id: Any) -> dict[str, Any]:
        user = self._users.get(str(user_id))
        if user is None:
            raise SlackApiFault("user_not_found")
        return user

    def _users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"user": self._user(params.get("user"))}

    def _usergroups_list(self, params: dict[str, Any]) -> dict[str, Any]:
        groups = []
        for group in self._groups.values():
            shown = {k: v for k, v in group.items() if k != "users"}
            shown["user_count"] = len(group["users"])
            if _truthy(params.get("include_users")):
                shown["users"] = list(group["users"])
            groups.append(shown)
        return {"usergroups": groups}

    def _usergroups_users_list(self, params: dict[str, Any]) -> dict[str, Any]:
        group = self._groups.get(str(params.get("usergroup")))
        if group is None:
            raise SlackApiFault("no_such_subteam")
        return {"users": list(group["users"])}

    def _conversations_members(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channels.get(str(params.get("channel")))
        if channel is None:
            raise SlackApiFault("channel_not_found")
        members, cursor = _page(channel["members"], params, default_limit=100)
        return {"members": members, "response_metadata": {"next_cursor": cursor}}

    def _resolve_channel(self, channel: Any) -> str:
        """A user id means that user's DM, as in Slack."""
        target = str(channel or "")
        if target[:1] in {"U", "W"}:
            self._user(target)
            return self.dm_channel(target)
        if target.startswith("D") and f"U{target[1:]}" in self._users:
            return target
        if target not in self._channels:
            raise SlackApiFault("channel_not_found")
        return target

    def _conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        users = str(params.get("users") or "").split(",")
        return {"channel": {"id": self._resolve_channel(users[0])}}

    def _next_ts(self) -> str:
        return f"{1_700_000_000 + next(self._ts)}.000100"

    def _chat_post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve_channel(params.get("channel"))
        if not params.get("text") and not params.get("blocks"):
            raise SlackApiFault("no_text")
        message = {
            "type": "message",
            "ts": self._next_ts(),
            "channel": channel,
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "text": params.get("text") or "",
            "blocks": params.get("blocks") or [],
            "metadata": params.get("metadata"),
            "files": [],
        }
        self._messages.setdefault(channel, []).append(message)
        return {"channel": channel, "ts": message["ts"], "message": message}

    def _find_message(self, channel: str, ts: Any) -> dict[str, Any]:
        for message in self._messages.get(channel, []):
            if message["ts"] == ts:
                return message
        raise SlackApiFault("message_not_found")

    def _chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve_channel(params.get("channel"))
        message = self._find_message(channel, params.get("ts"))
        if "text" in params:
            message["text"] = params["text"] or ""
        if "blocks" in params:
            message["blocks"] = params["blocks"] or []
        return {"channel": channel, "ts": message["ts"], "text": message["text"]}

    def _chat_post_ephemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve_channel(params.get("channel"))
        user = str(self._user(params.get("user"))["id"])
        ts = self._next_ts()
        self._ephemerals.setdefault(user, []).append(
            {
                "channel": channel,
                "ts": ts,
                "text": params.get("text"),
                "blocks": params.get("blocks"),
            }
        )
        return {"message_ts": ts}

    def _store_view(self, view: Any, view_id: str | None = None) -> dict[str, Any]:
        if not isinstance(view, dict) or "type" not in view:
            raise SlackApiFault("invalid_arguments")
        view_id = view_id or f"V{next(self._ids):06d}"
        stored = {**view, "id": view_id, "hash": uuid.uuid4().hex[:12], "team_id": self.team_id}
        stored.setdefault("private_metadata", "")
        stored.setdefault("callback_id", "")
        self._views[view_id] = stored
        return stored

    def _views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        trigger_id = str(params.get("trigger_id") or "")
        issued = self._triggers.get(trigger_id)
        if issued is None:
            raise SlackApiFault("invalid_trigger_id")
        if time.monotonic() - issued[0] > TRIGGER_LIFETIME_S or issued[1] is not None:
            raise SlackApiFault("expired_trigger_id")
        stored = self._store_view(params.get("view"))
        self._triggers[trigger_id] = (issued[0], stored["id"])
        return {"view": stored}

    def _views_update(self, params: dict[str, Any]) -> dict[str, Any]:
        view_id = str(params.get("view_id") or "")
        if view_id not in self._views:
            raise SlackApiFault("not_found")
        return {"view": self._store_view(params.get("view"), view_id)}

    def _views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        self._user(params.get("user_id"))
        return {"view": self._store_view(params.get("view"), f"VHOME{params.get('user_id')}")}

    def _files_get_upload_url(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = f"F{next(self._ids):08d}"
        self._uploads[file_id] = {
            "id": file_id,
            "name": params.get("filename"),
            "length": int(params.get("length") or 0),
            "alt_txt": params.get("alt_txt"),
            "content": b"",
            "completed": False,
        }
        return {"upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}

    def _files_complete_upload(self, params: dict[str, Any]) -> dict[str, Any]:
        files = params.get("files") or []
        done = []
        for entry in files:
            upload = self._uploads.get(str(entry.get("id")))
            if upload is None:
                raise SlackApiFault("file_not_found")
            upload.update(completed=True, title=entry.get("title") or upload["name"])
            done.append({"id": upload["id"], "title": upload["title"], "name": upload["name"]})
        channel = params.get("channel_id") or params.get("channels")
        if channel:
            target = self._resolve_channel(channel)
            message = {
                "type": "message",
                "ts": self._next_ts(),
                "channel": target,
                "user": BOT_USER_ID,
                "text": params.get("initial_comment") or "",
                "blocks": [],
                "files": [{**f, "alt_txt": self._uploads[f["id"]].get("alt_txt")} for f in done],
            }
            self._messages.setdefault(target, []).append(message)
        return {"files": done}

    def store_upload(self, file_id: str, content: bytes) -> bool:
        with self._lock:
            upload = self._uploads.get(file_id)
            if upload is None:
                return False
            upload["content"] = content
            return True

    def record_response(self, response_id: str, payload: dict[str, Any]) -> None:
        with self._lock:
            self._responses.append(
                {**payload, "id": response_id, "url": f"{self.base_url}/respond/{response_id}"}
            )

    # --- acting as Slack towards the bot ------------------------------------------------------

    def _issue_trigger(self) -> str:
        trigger_id = f"{next(self._ids)}.{uuid.uuid4().hex[:10]}"
        with self._lock:
            self._triggers[trigger_id] = (time.monotonic(), None)
        return trigger_id

    def _issue_response_url(self) -> str:
        return f"{self.base_url}/respond/{uuid.uuid4().hex}"

    def post_signed(
        self,
        body: str | bytes,
        *,
        content_type: str = "application/x-www-form-urlencoded",
        signing_secret: str | None = None,
        timestamp: int | None = None,
        retry_num: int | None = None,
    ) -> SentRequest:
        """POST a body to the app URL, signed with Slack's v0 scheme (or a forged secret)."""
        if self.app_url is None:
            raise RuntimeError("call set_app_url() first")
        raw = body.encode("utf-8", "surrogateescape") if isinstance(body, str) else body
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        verifier = SignatureVerifier(signing_secret or self.signing_secret)
        # Signed over the raw bytes, exactly as sent, as Slack's v0 scheme is.
        signature = verifier.generate_signature(timestamp=stamp, body=raw) or ""
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signature,
        }
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = "http_timeout"
        request = urllib.request.Request(self.app_url, data=raw, headers=headers, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return SentRequest(response.status, response.read().decode("utf-8", "replace"))
        except urllib.error.HTTPError as error:
            return SentRequest(error.code, error.read().decode("utf-8", "replace"))

    def _team(self) -> dict[str, str]:
        return {"id": self.team_id, "domain": "sandbox"}

    def _user_ref(self, user_id: str) -> dict[str, str]:
        name = str(self._users.get(user_id, {}).get("name", user_id))
        return {"id": user_id, "username": name, "name": name, "team_id": self.team_id}

    def send_slash_command(
        self,
        user_id: str,
        text: str,
        *,
        command: str = "/cx",
        channel_id: str = "C0GENERAL",
        **signing: Any,
    ) -> SentRequest:
        response_url, trigger_id = self._issue_response_url(), self._issue_trigger()
        fields = {
            "token": "verification-token-unused",
            "team_id": self.team_id,
            "team_domain": "sandbox",
            "channel_id": channel_id,
            "channel_name": "general",
            "user_id": user_id,
            "user_name": self._user_ref(user_id)["name"],
            "command": command,
            "text": text,
            "api_app_id": "A0CXPULSE",
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
        sent = self.post_signed(urllib.parse.urlencode(fields), **signing)
        return SentRequest(sent.status, sent.body, response_url, trigger_id)

    def _interaction(self, payload: dict[str, Any], **signing: Any) -> SentRequest:
        body = urllib.parse.urlencode({"payload": json.dumps(payload)})
        return self.post_signed(body, **signing)

    def click_button(
        self,
        user_id: str,
        *,
        channel_id: str,
        message_ts: str,
        action_id: str,
        block_id: str,
        value: str,
        **signing: Any,
    ) -> SentRequest:
        response_url, trigger_id = self._issue_response_url(), self._issue_trigger()
        with self._lock:
            current = next(
                (m for m in self._messages.get(channel_id, []) if m["ts"] == message_ts), None
            )
            message = json.loads(json.dumps(current)) if current else {"ts": message_ts}
        payload = {
            "type": "block_actions",
            "team": self._team(),
            "user": self._user_ref(user_id),
            "api_app_id": "A0CXPULSE",
            "token": "verification-token-unused",
            "container": {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel_id,
                "is_ephemeral": False,
            },
            "trigger_id": trigger_id,
            "channel": {"id": channel_id, "name": "directmessage"},
            "message": message,
            "response_url": response_url,
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": block_id,
                    "text": {"type": "plain_text", "text": "button"},
                    "value": value,
                    "type": "button",
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
        sent = self._interaction(payload, **signing)
        return SentRequest(sent.status, sent.body, response_url, trigger_id)

    def submit_view(
        self, user_id: str, *, view_id: str, values: dict[str, Any], **signing: Any
    ) -> SentRequest:
        with self._lock:
            view = json.loads(json.dumps(self._views[view_id]))
        view["state"] = {"values": values}
        payload = {
            "type": "view_submission",
            "team": self._team(),
            "user": self._user_ref(user_id),
            "api_app_id": "A0CXPULSE",
            "token": "verification-token-unused",
            "trigger_id": self._issue_trigger(),
            "view": view,
            "response_urls": [],
        }
        return self._interaction(payload, **signing)

    def send_event(self, event: dict[str, Any], **signing: Any) -> SentRequest:
        envelope = {
            "token": "verification-token-unused",
            "team_id": self.team_id,
            "api_app_id": "A0CXPULSE",
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev{uuid.uuid4().hex[:10]}",
            "event_time": int(time.time()),
        }
        return self.post_signed(json.dumps(envelope), content_type="application/json", **signing)

    def url_verification(self, challenge: str, **signing: Any) -> SentRequest:
        body = {
            "token": "verification-token-unused",
            "challenge": challenge,
            "type": "url_verification",
        }
        return self.post_signed(json.dumps(body), content_type="application/json", **signing)


def _decode_params(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Form fields that carry JSON (blocks, view, files...) arrive as strings: decode them."""
    params = dict(raw)
    for name in JSON_FIELDS:
        value = params.get(name)
        if isinstance(value, str) and value[:1] in "[{":
            with contextlib.suppress(ValueError):
                params[name] = json.loads(value)
    return params


def _handler_for(emulator: SlackEmulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: tests and the demo read the recorded calls instead."""

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _params(self, body: bytes) -> dict[str, Any]:
            query = urllib.parse.urlsplit(self.path).query
            params: dict[str, Any] = dict(urllib.parse.parse_qsl(query))
            content_type = self.headers.get("Content-Type") or ""
            if body and content_type.startswith("application/json"):
                params.update(json.loads(body))
            elif body:
                params.update(urllib.parse.parse_qsl(body.decode("utf-8", "replace")))
            return _decode_params(params)

        def _token(self, params: dict[str, Any]) -> str | None:
            header = self.headers.get("Authorization") or ""
            if header.startswith("Bearer "):
                return header.removeprefix("Bearer ").strip()
            token = params.pop("token", None)
            return str(token) if token else None

        def _dispatch(self) -> None:
            path = urllib.parse.urlsplit(self.path).path
            body = self._body() if self.command == "POST" else b""
            if path.startswith("/api/"):
                try:
                    params = self._params(body)
                except ValueError:
                    self._send(200, {"ok": False, "error": "invalid_json"})
                    return
                token = self._token(params)
                status, response = emulator.handle_api(path.removeprefix("/api/"), params, token)
                self._send(status, response)
            elif path.startswith("/respond/") and self.command == "POST":
                emulator.record_response(path.removeprefix("/respond/"), json.loads(body or b"{}"))
                self._send(200, {"ok": True})
            elif path.startswith("/upload/") and self.command == "POST":
                stored = emulator.store_upload(path.removeprefix("/upload/"), body)
                self._send(200 if stored else 404, {"ok": stored})
            else:
                self._send(404, {"ok": False, "error": "not_found"})

        def do_GET(self) -> None:
            self._dispatch()

        def do_POST(self) -> None:
            self._dispatch()

    return Handler
