"""Several emulated workspaces behind one Web API URL, as Slack serves every workspace at one
address: each call goes to the emulator whose bot token it carries (oauth.v2.access goes by
the code, which names the workspace that issued it)."""

from __future__ import annotations

import http.client
import threading
import urllib.parse
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from bot.sandbox.emulator import SlackEmulator, parse_api_params

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}


class _FrontServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, front: SlackFront) -> None:
        super().__init__(("127.0.0.1", 0), _FrontHandler)
        self.front = front


class _FrontHandler(BaseHTTPRequestHandler):
    server: _FrontServer
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet, like the emulators behind it."""

    def do_GET(self) -> None:
        self._forward(b"")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self._forward(self.rfile.read(length) if length > 0 else b"")

    def _forward(self, body: bytes) -> None:
        target = (
            self.server.front.route(self.path, dict(self.headers.items()), body)
            or self.server.front.workspaces[0]
        )
        split = urllib.parse.urlsplit(target.base_url)
        connection = http.client.HTTPConnection(split.hostname or "127.0.0.1", split.port)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            connection.request(self.command, self.path, body=body or None, headers=headers)
            answer = connection.getresponse()
            payload = answer.read()
        except OSError:
            # The emulator behind dropped the connection on purpose (chaos): do the same.
            self.close_connection = True
            return
        finally:
            connection.close()
        self.send_response(answer.status)
        for name, value in answer.getheaders():
            if name.lower() not in HOP_BY_HOP:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class SlackFront:
    """One loopback URL in front of several `SlackEmulator`s (one per workspace)."""

    def __init__(self, workspaces: Sequence[SlackEmulator]) -> None:
        if not workspaces:
            raise ValueError("a front needs at least one workspace behind it")
        self.workspaces = list(workspaces)
        self._server: _FrontServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def api_url(self) -> str:
        """What SLACK_API_URL should be."""
        if self._server is None:
            raise RuntimeError("start the front first")
        return f"http://127.0.0.1:{self._server.server_port}/api/"

    def route(self, path: str, headers: dict[str, str], body: bytes) -> SlackEmulator | None:
        """The workspace a call belongs to, by its bearer token, its token field or its code
        (oauth.v2.access and openid.connect.token codes start with the team id)."""
        split = urllib.parse.urlsplit(path)
        lowered = {k.lower(): v for k, v in headers.items()}
        try:
            params = parse_api_params(split.query, body, lowered.get("content-type", ""))
        except ValueError:
            params = {}
        token = str(params.get("token") or "")
        authorization = lowered.get("authorization", "")
        if authorization.startswith("Bearer "):
            token = authorization.removeprefix("Bearer ").strip()
        code = str(params.get("code") or "")
        for emulator in self.workspaces:
            if token and token == emulator.bot_token:
                return emulator
            # A Sign in with Slack user token names its workspace (bot.sandbox.openid).
            if token.startswith(f"xoxp-{emulator.team_id}-"):
                return emulator
            if code.startswith(f"{emulator.team_id}-"):
                return emulator
        return None

    def start(self) -> SlackFront:
        self._server = _FrontServer(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="slack-front", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> SlackFront:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
