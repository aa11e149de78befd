"""The HTTP surface: Slack posts to /slack/events; load balancers probe /healthz."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.adapter.wsgi.http_response import WsgiHttpResponse
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import Engine, text
from waitress.server import create_server

from bot.services.context import Deps
from bot.slack.form import parse_slack_body
from bot.slack.shape import routable

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

    from waitress.server import BaseWSGIServer, MultiSocketServer

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"
MAX_BODY_BYTES = 1_000_000  # Slack payloads are far smaller; refuse anything absurd early.


def _headers(environ: WSGIEnvironment) -> dict[str, str]:
    return {
        key[5:].lower().replace("_", "-"): str(value)
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }


def parsed_body(body: bytes, content_type: str | None) -> dict[str, Any] | None:
    """The body as Bolt would parse it, or None when Bolt would choke on it (it parses and
    routes before it verifies)."""
    try:
        parsed = parse_slack_body(body.decode("utf-8"), content_type)
    except ValueError:  # includes JSONDecodeError and UnicodeDecodeError
        return None
    return parsed if routable(parsed) else None


def bolt_request(raw_body: str, body: dict[str, Any], environ: WSGIEnvironment) -> BoltRequest:
    """The BoltRequest Bolt's WSGI adapter would build, from a body already parsed.

    A pulse click's payload carries the whole DM (~9 KB, percent-encoded JSON); parsing it a
    second time was a tenth of a click's CPU. Bolt only takes a parsed body in Socket Mode, so
    the request is built that way and then made an HTTP request with its raw body, which is all
    the signature check reads (tests/slack/test_web.py holds it equal to Bolt's own).
    """
    request = BoltRequest(
        body=body,
        query=environ.get("QUERY_STRING", ""),
        headers=WsgiHttpRequest(environ).get_headers(),
        mode="socket_mode",
    )
    request.raw_body, request.mode = raw_body, "http"
    return request


def _respond(response: BoltResponse, start_response: StartResponse) -> Iterable[bytes]:
    wsgi_response = WsgiHttpResponse(
        status=response.status, headers=response.headers, body=response.body
    )
    start_response(wsgi_response.status, wsgi_response.get_headers())
    return wsgi_response.get_body()


def _reject(start_response: StartResponse, status: str, error: str) -> Iterable[bytes]:
    start_response(status, [("Content-Type", "application/json")])
    return [json.dumps({"error": error}).encode()]


def make_wsgi_app(
    app: App, deps: Deps
) -> Callable[[WSGIEnvironment, StartResponse], Iterable[bytes]]:
    slack_handler = SlackRequestHandler(app, path=EVENTS_PATH)
    verifier = SignatureVerifier(deps.settings.slack_signing_secret or "")

    def wsgi(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/healthz" and environ.get("REQUEST_METHOD") == "GET":
            return _health(deps.engine, start_response)
        length = environ.get("CONTENT_LENGTH") or "0"
        if not length.isdigit() or int(length) > MAX_BODY_BYTES:
            return _reject(start_response, "413 Payload Too Large", "payload too large")
        if path != EVENTS_PATH or environ.get("REQUEST_METHOD") != "POST":
            return slack_handler(environ, start_response)
        body = environ["wsgi.input"].read(int(length))

        def bad_request() -> Iterable[bytes]:
            # Unsigned garbage is a forgery (401); signed garbage is a bad request (400).
            if not verifier.is_valid_request(body, _headers(environ)):
                return _reject(start_response, "401 Unauthorized", "invalid signature")
            return _reject(start_response, "400 Bad Request", "malformed payload")

        parsed = parsed_body(body, environ.get("CONTENT_TYPE"))
        if parsed is None:
            return bad_request()
        try:
            request = bolt_request(body.decode("utf-8"), parsed, environ)
            return _respond(app.dispatch(request), start_response)
        except (KeyError, IndexError, TypeError, AttributeError, ValueError):
            # Bolt routes a payload by indexing into it; one of the wrong shape fails there,
            # before any listener runs, so nothing was written: say it was bad.
            log.warning("rejected a payload Bolt could not route", exc_info=True)
            return bad_request()

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
