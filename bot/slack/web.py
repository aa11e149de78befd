"""The HTTP surface: Slack posts to /slack/events; load balancers probe /healthz; Prometheus
scrapes /metrics (bot.metrics); people read the web report under /report (bot.web.app).

A request to /slack/events is answered in this order, and nothing reads or parses its body
before the step that needs it:

1. a body over MAX_BODY_BYTES: 413 (waitress refuses it before reading it; a Content-Length
   over the limit is refused here too, unread);
2. a missing, stale or wrong Slack signature over the raw bytes: 401, unparsed;
3. a signed body that is not UTF-8, not JSON or a form, nested deeper than MAX_JSON_DEPTH, or
   of a shape Bolt cannot route: 400;
4. everything else goes to Bolt, which checks the signature again and runs the listeners.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.adapter.wsgi.http_response import WsgiHttpResponse
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse
from sqlalchemy import Engine, text
from waitress.server import create_server

from bot.metrics import serve_metrics
from bot.services.context import Deps
from bot.slack.form import parse_slack_body
from bot.slack.shape import routable
from bot.web.app import is_report_path, report_wsgi

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

    from waitress.server import BaseWSGIServer, MultiSocketServer

    from bot.tenancy import Workspaces

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"
MAX_BODY_BYTES = 1_000_000  # Slack payloads are far smaller; refuse anything absurd early.
# Slack's payloads nest about a dozen levels at most (rich text in a message in an event).
MAX_JSON_DEPTH = 64
# Slack's rule: a request signed more than five minutes from now is a replay.
SIGNATURE_MAX_AGE_S = 5 * 60
_CONTAINERS = (dict, list)
# cxpulse_ack_seconds{kind}: the payload types Slack sends; anything else is "other".
ACK_KINDS = frozenset(
    {
        "block_actions",
        "block_suggestion",
        "view_submission",
        "view_closed",
        "shortcut",
        "message_action",
        "event_callback",
        "url_verification",
    }
)


def _headers(environ: WSGIEnvironment) -> dict[str, str]:
    return {
        key[5:].lower().replace("_", "-"): str(value)
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }


def signed_by_slack(
    secret: str, body: bytes, headers: Mapping[str, str], *, now: float | None = None
) -> bool:
    """Slack's v0 signature: HMAC-SHA256 of `v0:{timestamp}:{raw body}` with the signing
    secret, signed within SIGNATURE_MAX_AGE_S of `now`. It reads the raw bytes only, never
    raises (a header of any form is simply not a valid signature), and no secret verifies
    nothing."""
    stamp = headers.get("x-slack-request-timestamp", "")
    signature = headers.get("x-slack-signature", "")
    if not secret or not signature or not (stamp.isascii() and stamp.isdigit()):
        return False
    if len(stamp) > 12:  # not a time Slack could have signed at (and int() of it is costly)
        return False
    if abs((time.time() if now is None else now) - int(stamp)) > SIGNATURE_MAX_AGE_S:
        return False
    digest = hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256)
    expected = f"v0={digest.hexdigest()}".encode()
    return hmac.compare_digest(expected, signature.encode("utf-8", "replace"))


def within_depth(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """False when objects and arrays nest more than `limit` deep; level by level, so a value of
    any depth is measured without recursion."""
    level = [value] if isinstance(value, _CONTAINERS) else []
    for _ in range(limit):
        if not level:
            return True
        level = [
            child
            for node in level
            for child in (node.values() if isinstance(node, dict) else node)
            if isinstance(child, _CONTAINERS)
        ]
    return not level


def parsed_body(body: bytes, content_type: str | None) -> dict[str, Any] | None:
    """The body as Bolt would parse it, or None when Bolt would choke on it (it parses and
    routes before it verifies), or when it nests deeper than MAX_JSON_DEPTH. Never raises:
    JSON nested past the interpreter's recursion limit is a RecursionError, caught here."""
    try:
        parsed = parse_slack_body(body.decode("utf-8"), content_type)
    except (ValueError, RecursionError):  # ValueError includes JSON and Unicode decode errors
        return None
    return parsed if within_depth(parsed) and routable(parsed) else None


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


def _without_body(environ: WSGIEnvironment) -> WSGIEnvironment:
    """The request with its body taken away: only POST /slack/events has one worth reading
    (the OAuth pages are GETs), and Bolt's adapter would decode any other as UTF-8 or fail."""
    return {**environ, "wsgi.input": io.BytesIO(b""), "CONTENT_LENGTH": "0"}


def ack_kind(body: Mapping[str, Any]) -> str:
    """The payload's type as cxpulse_ack_seconds labels it: a slash command, or Slack's
    `type` when it is one of ACK_KINDS."""
    if "command" in body:
        return "command"
    kind = body.get("type")
    return kind if isinstance(kind, str) and kind in ACK_KINDS else "other"


def make_wsgi_app(
    app: App, deps: Deps, *, workspaces: Workspaces | None = None
) -> Callable[[WSGIEnvironment, StartResponse], Iterable[bytes]]:
    slack_handler = SlackRequestHandler(app, path=EVENTS_PATH)
    # The web report (bot/web): signed in with Slack, on the same port. It builds its parts
    # on its first request, so start-up pays nothing for it.
    report = report_wsgi(deps, workspaces=workspaces)
    secret = deps.settings.slack_signing_secret or ""
    metrics = deps.metrics

    def wsgi(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD")
        if path == "/healthz" and method == "GET":
            return _health(deps.engine, start_response)
        if path == "/metrics" and method == "GET":
            return serve_metrics(metrics, start_response)
        if is_report_path(path):
            return report(environ, start_response)
        length = environ.get("CONTENT_LENGTH") or "0"
        if not (length.isascii() and length.isdigit()):
            return _reject(start_response, "400 Bad Request", "bad content length")
        if int(length) > MAX_BODY_BYTES:
            return _reject(start_response, "413 Payload Too Large", "payload too large")
        if path != EVENTS_PATH or method != "POST":
            return slack_handler(_without_body(environ), start_response)
        body = environ["wsgi.input"].read(int(length))
        # The signature first, on the raw bytes: nothing unsigned is ever parsed.
        if not signed_by_slack(secret, body, _headers(environ)):
            return _reject(start_response, "401 Unauthorized", "invalid signature")
        parsed = parsed_body(body, environ.get("CONTENT_TYPE"))
        if parsed is None:
            return _reject(start_response, "400 Bad Request", "malformed payload")
        try:
            request = bolt_request(body.decode("utf-8"), parsed, environ)
            # Bolt returns once the listener has acked: this is the wait Slack sees.
            response = app.dispatch(request)
            metrics.acked(ack_kind(parsed), time.perf_counter() - started)
            return _respond(response, start_response)
        except (KeyError, IndexError, TypeError, AttributeError, ValueError, RecursionError):
            # Bolt routes a payload by indexing into it; one of the wrong shape fails there,
            # before any listener runs, so nothing was written: say it was bad.
            log.warning("rejected a payload Bolt could not route", exc_info=True)
            return _reject(start_response, "400 Bad Request", "malformed payload")

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
    """A waitress server (production-grade, pure Python); port 0 picks a free port.

    Waitress buffers a whole body before the app sees it, so it is told the limit: a
    Content-Length over it is answered 413 from the headers alone, and a chunked body as soon
    as it passes it (waitress refuses at the limit itself, hence the + 1)."""
    return create_server(
        wsgi,
        host=host,
        port=port,
        threads=threads,
        ident="cx-pulse",
        max_request_body_size=MAX_BODY_BYTES + 1,
    )
