"""The bot served for real on loopback: used by the demo, the end-to-end tests and benchmarks."""

from __future__ import annotations

import socket
import threading
from types import TracebackType

from slack_sdk import WebClient

from bot.services.context import Deps
from bot.slack.app import create_app
from bot.slack.gateway import make_gateway, make_web_client
from bot.slack.web import EVENTS_PATH, make_server, make_wsgi_app
from bot.tenancy import Workspaces


def free_port() -> int:
    """A free loopback port now, for a server whose address (CX_PUBLIC_URL) must be known
    before it starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ServedBot:
    """`create_app` behind waitress on 127.0.0.1 with a free port, in a background thread."""

    def __init__(
        self,
        deps: Deps,
        *,
        client: WebClient | None = None,
        workspaces: Workspaces | None = None,
        port: int = 0,
    ) -> None:
        self.deps = deps
        self.client = client or make_web_client(deps.settings, metrics=deps.metrics)
        self.gateway = make_gateway(deps.settings, self.client, metrics=deps.metrics)
        self.app = create_app(deps, client=self.client, workspaces=workspaces)
        wsgi = make_wsgi_app(self.app, deps, workspaces=workspaces)
        # Port 0 picks a free one; a fixed port is for a CX_PUBLIC_URL known in advance.
        self._server = make_server(wsgi, host="127.0.0.1", port=port)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="cx-pulse-http", daemon=True)

    @property
    def base_url(self) -> str:
        port = getattr(self._server, "effective_port", None)
        return f"http://127.0.0.1:{port}"

    @property
    def events_url(self) -> str:
        return f"{self.base_url}{EVENTS_PATH}"

    def _serve(self) -> None:
        try:
            self._server.run()
        except OSError:
            # Closing the listening socket from another thread can break the select() under way;
            # that is the shutdown we asked for, not a failure.
            if not self._stopping.is_set():
                raise

    def start(self) -> ServedBot:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.close()
        self._thread.join(timeout=5)

    def __enter__(self) -> ServedBot:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
