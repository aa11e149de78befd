"""The HTTP surface: Slack posts to /slack/events; load balancers probe /healthz."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import Engine, text
from waitress.server import create_server

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

    from waitress.server import BaseWSGIServer, MultiSocketServer

EVENTS_PATH = "/slack/events"
MAX_BODY_BYTES = 1_000_000  # Slack payloads are far smaller; refuse anything absurd early.


def make_wsgi_app(
    app: App, engine: Engine
) -> Callable[[WSGIEnvironment, StartResponse], Iterable[bytes]]:
    slack_handler = SlackRequestHandler(app, path=EVENTS_PATH)

    def wsgi(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/healthz" and environ.get("REQUEST_METHOD") == "GET":
            return _health(engine, start_response)
        length = environ.get("CONTENT_LENGTH") or "0"
        if length.isdigit() and int(length) > MAX_BODY_BYTES:
            start_response("413 Payload Too Large", [("Content-Type", "text/plain")])
            return [b"payload too large"]
        return slack_handler(environ, start_response)

    return wsgi


def _health(engine: Engine, start_response: StartResponse) -> Iterable[bytes]:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:
        start_response("503 Service Unavailable", [("Content-Type", "application/json")])
        return [json.dumps({"ok": False, "database": "unreachable"}).encode()]
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps({"ok": True}).encode()]


def make_server(
    wsgi: Any, *, host: str, port: int, threads: int = 8
) -> MultiSocketServer | BaseWSGIServer:
    """A waitress server (production-grade, pure Python); port 0 picks a free port."""
    return create_server(wsgi, host=host, port=port, threads=threads, ident="cx-pulse")
