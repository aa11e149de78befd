"""The web report's router: `cxpulse serve` answers every request under /report here.

Every request goes through the same steps, written once:

1. the report off (SLACK_CLIENT_ID, SLACK_CLIENT_SECRET, CX_PUBLIC_URL or CX_SESSION_SECRET
   unset): a friendly 404 page naming what turns it on;
2. static files under /report/static/ (no session needed);
3. sign-in (`/report/login`, `/report/callback`, rate-limited per client address), sign-out
   (`POST /report/logout`) and the signed-out page;
4. every other page needs a valid session cookie: none sends the browser to sign in, an
   expired or tampered one is a "signed out" page; roles older than CX_ROLE_RECHECK_SECONDS
   are checked again with Slack (and the cookie reissued) before the page is built;
5. a POST must come from our own origin (Origin, else Referer, against CX_PUBLIC_URL) and
   carry the session's CSRF token;
6. the page's handler (bot/web/pages.py ROUTES) gets a `PageRequest` and returns a
   `PageResponse`; a `CxError` it raises is a friendly refusal, anything else a friendly
   error page with a reference that is logged.

Every answer carries the security headers (bot/web/security.py); pages are never cached.
The client address is waitress's REMOTE_ADDR: X-Forwarded-For is not trusted, since anyone
can send it (behind a proxy, every client shares the proxy's limit).
"""

from __future__ import annotations

import http
import http.client
import logging
import threading
import urllib.parse
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.errors import CxError, NothingToReport, NotYetPublished, UnknownPeriod
from bot.services.context import Deps
from bot.web.http import PageRequest, PageResponse, Route
from bot.web.ratelimit import SlidingWindowLimiter
from bot.web.security import (
    SECURITY_HEADER_NAMES,
    new_token,
    same_origin_request,
    security_headers,
    tokens_match,
)
from bot.web.session import Cookies, Session

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

    from bot.prompts import Copy
    from bot.tenancy import Workspaces
    from bot.web.auth import SignInWithSlack, Tenancy
    from bot.web.viewer import Viewer

log = logging.getLogger(__name__)

REPORT_PATH = "/report"
LOGIN_PATH = "/report/login"
CALLBACK_PATH = "/report/callback"
LOGOUT_PATH = "/report/logout"
SIGNED_OUT_PATH = "/report/signed-out"
STATIC_PREFIX = "/report/static/"
STATIC_DIR = Path(__file__).parent / "static"
# Sign-ins a client address may start (and callbacks it may make) per minute; beyond, 429.
LOGINS_PER_MINUTE = 20
MAX_FORM_BYTES = 64 * 1024
MAX_FORM_FIELDS = 100
FORM_TYPE = "application/x-www-form-urlencoded"
CSRF_FIELD = "csrf_token"
STATIC_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
}
NOT_FOUND_ERRORS = (NothingToReport, NotYetPublished, UnknownPeriod)
# What a failed call to Slack looks like (slack_sdk raises SlackApiError, a subclass of
# Exception; network trouble surfaces as these).
SLACK_TROUBLE: tuple[type[BaseException], ...] = (OSError, http.client.HTTPException)


def is_report_path(path: str) -> bool:
    return path == REPORT_PATH or path.startswith(REPORT_PATH + "/")


@dataclass
class Answer:
    """An HTTP answer before the security headers are added."""

    status: int
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)
    cacheable: bool = False


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # decoded (UTF-8), without a trailing slash
    segments: tuple[str, ...]  # the path's segments, each decoded on its own
    query: Mapping[str, str]
    headers: Mapping[str, str]  # lower-case names
    address: str
    environ: Mapping[str, Any]

    @property
    def cookie(self) -> str:
        return self.headers.get("cookie", "")


def _decoded(text: str) -> str:
    """WSGI hands the path over as Latin-1 characters of its bytes; they are UTF-8."""
    return text.encode("latin-1", "replace").decode("utf-8", "replace")


def parse_request(environ: Mapping[str, Any]) -> Request:
    raw = str(environ.get("REQUEST_URI") or "").split("?", 1)[0]
    if raw.startswith("/"):
        # Split before percent-decoding, so a team name with "/" in it stays one segment.
        segments = tuple(urllib.parse.unquote(part) for part in raw.split("/")[1:])
    else:
        segments = tuple(_decoded(str(environ.get("PATH_INFO") or "")).split("/")[1:])
    while len(segments) > 1 and segments[-1] == "":
        segments = segments[:-1]
    query: dict[str, str] = {}
    for name, value in urllib.parse.parse_qsl(
        _decoded(str(environ.get("QUERY_STRING") or "")), keep_blank_values=True
    ):
        query.setdefault(name, value)
    headers = {
        key[5:].lower().replace("_", "-"): str(value)
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    return Request(
        method=str(environ.get("REQUEST_METHOD") or "GET").upper(),
        path="/" + "/".join(segments),
        segments=segments,
        query=query,
        headers=headers,
        address=str(environ.get("REMOTE_ADDR") or ""),
        environ=environ,
    )


@dataclass(frozen=True)
class _CompiledRoute:
    route: Route
    parts: tuple[str | None, ...]  # a literal segment, or None for a placeholder
    names: tuple[str, ...]

    def match(self, segments: Sequence[str]) -> dict[str, str] | None:
        if len(segments) != len(self.parts):
            return None
        values = []
        for part, segment in zip(self.parts, segments, strict=True):
            if part is None:
                if not segment:
                    return None
                values.append(segment)
            elif part != segment:
                return None
        return dict(zip(self.names, values, strict=True))


def compile_route(route: Route) -> _CompiledRoute:
    parts: list[str | None] = []
    names: list[str] = []
    for segment in route.pattern.strip("/").split("/"):
        if segment.startswith("{") and segment.endswith("}"):
            parts.append(None)
            names.append(segment[1:-1])
        else:
            parts.append(segment)
    return _CompiledRoute(route, tuple(parts), tuple(names))


class FormRefused(Exception):
    """A POST body we do not read: too large, not a form, not UTF-8."""


def read_form(environ: Mapping[str, Any]) -> dict[str, str]:
    length_text = str(environ.get("CONTENT_LENGTH") or "0")
    if not (length_text.isascii() and length_text.isdigit()):
        raise FormRefused()
    length = int(length_text)
    if length > MAX_FORM_BYTES:
        raise FormRefused()
    content_type = str(environ.get("CONTENT_TYPE") or "").split(";", 1)[0].strip().lower()
    if length and content_type != FORM_TYPE:
        raise FormRefused()
    body = environ["wsgi.input"].read(length) if length else b""
    try:
        pairs = urllib.parse.parse_qsl(
            body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise FormRefused() from exc
    form: dict[str, str] = {}
    for name, value in pairs:
        form.setdefault(name, value)
    return form


class _Parts:
    """What the report needs once it is on, built on first use (never at start-up)."""

    def __init__(self, deps: Deps, workspaces: Workspaces | None) -> None:
        from bot.web import auth

        settings = deps.env
        self.cookies = Cookies(settings)
        client = auth.slack_client(settings)
        self.sign_in: SignInWithSlack = auth.SignInWithSlack(
            settings, states=auth.state_store(deps.engine), client=client
        )
        self.tenancy: Tenancy
        if settings.distributed:
            from bot.slack.gateway import WorkspaceGateways
            from bot.slack.installations import installation_store
            from bot.tenancy import Workspaces as AllWorkspaces

            self.tenancy = auth.InstalledWorkspaces(
                installation_store(settings, deps.engine),
                workspaces or AllWorkspaces(settings, metrics=deps.metrics),
                WorkspaceGateways(settings, metrics=deps.metrics),
            )
        else:
            from bot.slack.gateway import make_gateway, make_web_client

            bot_client = make_web_client(settings, metrics=deps.metrics)
            self.tenancy = auth.SingleWorkspace(
                deps, make_gateway(settings, bot_client, metrics=deps.metrics), bot_client
            )
        self.roles_of = auth.roles_of
        self.problem_type: type[auth.SignInProblem] = auth.SignInProblem
        self.safe_next = auth.safe_next
        from slack_sdk.errors import SlackApiError

        self.slack_trouble: tuple[type[BaseException], ...] = (SlackApiError, *SLACK_TROUBLE)


class ReportApp:
    """The WSGI app behind /report. Cheap to build: it imports and builds its parts (the page
    routes and templates included) on the first request, so `cxpulse serve` starts as fast."""

    def __init__(
        self,
        deps: Deps,
        *,
        workspaces: Workspaces | None = None,
        routes: Sequence[Route] | None = None,
        limiter: SlidingWindowLimiter | None = None,
    ) -> None:
        self._deps = deps
        self._settings = deps.env
        self._workspaces = workspaces
        self._given_routes = routes
        self._limiter = limiter or SlidingWindowLimiter(limit=LOGINS_PER_MINUTE, window=60.0)
        self._lock = threading.Lock()
        self._parts: _Parts | None = None
        self._routes: list[_CompiledRoute] | None = None

    # --- lazily built parts ------------------------------------------------------------------

    def _built(self) -> _Parts:
        with self._lock:
            if self._parts is None:
                self._parts = _Parts(self._deps, self._workspaces)
            return self._parts

    def _compiled_routes(self) -> list[_CompiledRoute]:
        with self._lock:
            if self._routes is None:
                routes = self._given_routes
                if routes is None:
                    from bot.web.pages import ROUTES

                    routes = ROUTES
                self._routes = [compile_route(route) for route in routes]
            return self._routes

    def _now(self) -> int:
        return int(self._deps.clock.now().timestamp())

    # --- WSGI --------------------------------------------------------------------------------

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = parse_request(environ)
        try:
            answer = self._answer(request)
        except Exception:
            # The one place an unexpected failure is turned into a page: logged with a
            # reference the person can quote, never shown as a trace.
            reference = uuid.uuid4().hex[:8]
            log.exception(
                "the web report failed on %s %s (ref %s)", request.method, request.path, reference
            )
            answer = self._problem(500, "unexpected", reference=reference)
        return self._send(answer, request, start_response)

    def _send(
        self, answer: Answer, request: Request, start_response: StartResponse
    ) -> Iterable[bytes]:
        https = str(self._settings.public_url or "").startswith("https://")
        headers = security_headers(
            authorize_url=self._settings.slack_openid_authorize_url,
            https=https,
            cacheable=answer.cacheable,
        )
        headers.append(("Content-Type", answer.content_type))
        headers.append(("Content-Length", str(len(answer.body))))
        headers += answer.headers
        status = f"{answer.status} {http.HTTPStatus(answer.status).phrase}"
        start_response(status, headers)
        return [b"" if request.method == "HEAD" else answer.body]

    def _answer(self, request: Request) -> Answer:
        missing = self._settings.web_report_missing
        if missing:
            return self._problem(404, "report_off", variables=", ".join(missing))
        if request.path.startswith(STATIC_PREFIX) or request.path + "/" == STATIC_PREFIX:
            return self._static(request)
        parts = self._built()
        if request.path == LOGIN_PATH:
            return self._only(request, "GET") or self._login(request, parts)
        if request.path == CALLBACK_PATH:
            return self._only(request, "GET") or self._callback(request, parts)
        if request.path == LOGOUT_PATH:
            return self._only(request, "POST") or self._logout(request, parts)
        if request.path == SIGNED_OUT_PATH:
            return self._only(request, "GET") or self._signed_out_page()
        return self._page(request, parts, self._compiled_routes())

    def _only(self, request: Request, method: str) -> Answer | None:
        if request.method == method or (method == "GET" and request.method == "HEAD"):
            return None
        answer = self._problem(405, "method")
        answer.headers.append(("Allow", method))
        return answer

    # --- pages of our own ------------------------------------------------------------------

    def _copy(self, deps: Deps | None = None) -> Copy:
        return (deps or self._deps).prompts.copy

    def _problem(
        self,
        status: int,
        reason: str,
        *,
        viewer: Viewer | None = None,
        deps: Deps | None = None,
        sign_in: str | None = None,
        message: str | None = None,
        **values: Any,
    ) -> Answer:
        """A friendly page saying what happened and what to do (web_auth.problems.<reason>)."""
        from bot.web.templates import render

        copy = self._copy(deps)
        body = render(
            "auth/problem.html",
            copy=copy,
            viewer=viewer,
            heading=copy.t(f"web_auth.problems.{reason}.heading"),
            message=message or copy.t(f"web_auth.problems.{reason}.message", **values),
            sign_in=sign_in,
            back=reason != "report_off",
            reference=values.get("reference"),
        )
        return Answer(status, body)

    def _signed_out_page(self) -> Answer:
        from bot.web.templates import render

        body = render("auth/signed_out.html", copy=self._copy(), sign_in=LOGIN_PATH)
        return Answer(200, body)

    def _redirect(self, location: str, *, status: int = 302) -> Answer:
        return Answer(status, b"", "text/plain; charset=utf-8", [("Location", location)])

    def _local(self, path: str) -> str:
        return f"{self._settings.public_url}{path}"

    def _login_link(self, next_path: str) -> str:
        if next_path == REPORT_PATH:
            return LOGIN_PATH
        return f"{LOGIN_PATH}?{urllib.parse.urlencode({'next': next_path})}"

    def _static(self, request: Request) -> Answer:
        refused = self._only(request, "GET")
        if refused is not None:
            return refused
        names = request.segments[2:]
        if not names or any(not n or n.startswith(".") or "\\" in n or "\0" in n for n in names):
            return self._problem(404, "not_found")
        root = STATIC_DIR.resolve()
        path = root.joinpath(*names).resolve()
        content_type = STATIC_TYPES.get(path.suffix.lower())
        if not path.is_relative_to(root) or not path.is_file() or content_type is None:
            return self._problem(404, "not_found")
        return Answer(200, path.read_bytes(), content_type, cacheable=True)

    # --- signing in and out ------------------------------------------------------------------

    def _limited(self, request: Request, bucket: str) -> Answer | None:
        decision = self._limiter.hit(f"{bucket}|{request.address}")
        if decision.allowed:
            return None
        answer = self._problem(429, "rate_limited", seconds=decision.retry_after)
        answer.headers.append(("Retry-After", str(decision.retry_after)))
        return answer

    def _login(self, request: Request, parts: _Parts) -> Answer:
        limited = self._limited(request, "login")
        if limited is not None:
            return limited
        next_path = parts.safe_next(request.query.get("next"))
        url, pending = parts.sign_in.start(next_path=next_path, now=self._now())
        answer = self._redirect(url)
        answer.headers.append(("Set-Cookie", parts.cookies.pre_login_cookie(pending)))
        return answer

    def _callback(self, request: Request, parts: _Parts) -> Answer:
        limited = self._limited(request, "callback")
        if limited is not None:
            return limited
        now = self._now()
        pending = parts.cookies.read_pre_login(request.cookie, now=now)
        clear = ("Set-Cookie", parts.cookies.clear_pre_login())
        try:
            identity, started = parts.sign_in.finish(request.query, pending, now=now)
        except parts.problem_type as problem:
            answer = self._problem(problem.status, problem.reason, sign_in=LOGIN_PATH)
            answer.headers.append(clear)
            return answer
        except parts.slack_trouble:
            log.warning("could not finish a sign-in with Slack", exc_info=True)
            answer = self._problem(503, "slack_unavailable", sign_in=LOGIN_PATH)
            answer.headers.append(clear)
            return answer
        try:
            if not parts.tenancy.serves(identity.workspace_id):
                answer = self._problem(403, "not_installed")
                answer.headers.append(clear)
                return answer
            deps = parts.tenancy.deps_for(identity.workspace_id)
            gateway = parts.tenancy.gateway_for(identity.workspace_id)
            role, lead_of = parts.roles_of(deps, gateway, identity.user_id)
        except parts.slack_trouble:
            log.warning("could not check a sign-in's workspace or roles with Slack", exc_info=True)
            answer = self._problem(503, "slack_unavailable", sign_in=LOGIN_PATH)
            answer.headers.append(clear)
            return answer
        session = Session(
            workspace_id=identity.workspace_id,
            user_id=identity.user_id,
            display_name=identity.name or self._copy(deps).t("web_auth.unnamed"),
            issued_at=now,
            roles_checked_at=now,
            role=role,
            lead_of=lead_of,
            csrf=new_token(),
        )
        answer = self._redirect(self._local(started.next_path), status=303)
        answer.headers += [clear, ("Set-Cookie", parts.cookies.session_cookie(session, now=now))]
        return answer

    def _logout(self, request: Request, parts: _Parts) -> Answer:
        if not same_origin_request(request.headers, str(self._settings.public_url)):
            return self._problem(403, "forged")
        try:
            form = read_form(request.environ)
        except FormRefused:
            return self._problem(400, "bad_form")
        read = parts.cookies.read_session(request.cookie, now=self._now())
        if read.session is not None and not _csrf_ok(read.session, form):
            return self._problem(403, "forged")
        answer = self._redirect(self._local(SIGNED_OUT_PATH), status=303)
        answer.headers.append(("Set-Cookie", parts.cookies.clear_session()))
        return answer

    # --- the pages behind the session -----------------------------------------------------

    def _find(
        self, request: Request, routes: list[_CompiledRoute]
    ) -> tuple[_CompiledRoute, dict[str, str]] | Answer:
        method = "GET" if request.method == "HEAD" else request.method
        allowed = []
        for compiled in routes:
            params = compiled.match(request.segments)
            if params is None:
                continue
            if compiled.route.method.upper() == method:
                return compiled, params
            allowed.append(compiled.route.method.upper())
        if allowed:
            answer = self._problem(405, "method")
            answer.headers.append(("Allow", ", ".join(sorted(set(allowed)))))
            return answer
        return self._problem(404, "not_found")

    def _session(self, request: Request, parts: _Parts) -> tuple[Session, str | None] | Answer:
        """The request's session, its roles fresh (and the cookie to reissue, if rechecked)."""
        now = self._now()
        read = parts.cookies.read_session(request.cookie, now=now)
        session = read.session
        if session is None:
            link = self._login_link(request.path if request.method == "GET" else REPORT_PATH)
            if request.method in {"GET", "HEAD"} and not read.present:
                return self._redirect(self._local(link))
            hours = self._settings.session_hours
            answer = self._problem(401, "session_ended", sign_in=link, hours=hours)
            answer.headers.append(("Set-Cookie", parts.cookies.clear_session()))
            return answer
        if now - session.roles_checked_at < self._settings.role_recheck_seconds:
            return session, None
        try:
            if not parts.tenancy.serves(session.workspace_id):
                answer = self._problem(403, "not_installed")
                answer.headers.append(("Set-Cookie", parts.cookies.clear_session()))
                return answer
            deps = parts.tenancy.deps_for(session.workspace_id)
            gateway = parts.tenancy.gateway_for(session.workspace_id)
            role, lead_of = parts.roles_of(deps, gateway, session.user_id)
        except parts.slack_trouble:
            # Fail closed: roles that cannot be checked are not extended.
            log.warning("could not re-check a session's roles with Slack", exc_info=True)
            return self._problem(503, "slack_unavailable", sign_in=None)
        session = session.with_roles(role, lead_of, checked_at=now)
        return session, parts.cookies.session_cookie(session, now=now)

    def _page(self, request: Request, parts: _Parts, routes: list[_CompiledRoute]) -> Answer:
        found = self._find(request, routes)
        if isinstance(found, Answer):
            return found
        compiled, params = found
        checked = self._session(request, parts)
        if isinstance(checked, Answer):
            return checked
        session, reissued = checked
        answer = self._run(request, parts, compiled.route, params, session)
        if reissued is not None:
            answer.headers.append(("Set-Cookie", reissued))
        return answer

    def _run(
        self,
        request: Request,
        parts: _Parts,
        route: Route,
        params: dict[str, str],
        session: Session,
    ) -> Answer:
        viewer = session.viewer()
        deps = parts.tenancy.deps_for(session.workspace_id)
        form: dict[str, str] = {}
        if request.method == "POST":
            if not same_origin_request(request.headers, str(self._settings.public_url)):
                return self._problem(403, "forged", viewer=viewer, deps=deps)
            try:
                form = read_form(request.environ)
            except FormRefused:
                return self._problem(400, "bad_form", viewer=viewer, deps=deps)
            if not _csrf_ok(session, form):
                return self._problem(403, "forged", viewer=viewer, deps=deps)
            form.pop(CSRF_FIELD, None)
        page = PageRequest(
            deps=deps,
            viewer=viewer,
            method="GET" if request.method == "HEAD" else request.method,
            path=request.path,
            query=request.query,
            path_params=params,
            form=form,
        )
        try:
            response = route.handler(page)
        except CxError as refused:
            status = 404 if isinstance(refused, NOT_FOUND_ERRORS) else 403
            text = self._copy(deps).t(refused.copy_key, **refused.details)
            reason = "not_found" if status == 404 else "refused"
            return self._problem(status, reason, viewer=viewer, deps=deps, message=text)
        return _from_page(response)


def _from_page(response: PageResponse) -> Answer:
    # A page may add headers of its own, never loosen ours (or set cookies).
    extra = [(k, v) for k, v in response.headers if k.lower() not in SECURITY_HEADER_NAMES]
    extra = [(k, v) for k, v in extra if k.lower() not in {"content-type", "content-length"}]
    return Answer(response.status, response.body, response.content_type, extra)


def _csrf_ok(session: Session, form: Mapping[str, str]) -> bool:
    return tokens_match(session.csrf, form.get(CSRF_FIELD, ""))


def report_wsgi(
    deps: Deps, *, workspaces: Workspaces | None = None
) -> Callable[[WSGIEnvironment, StartResponse], Iterable[bytes]]:
    """The /report app for `make_wsgi_app` (bot/slack/web.py)."""
    return ReportApp(deps, workspaces=workspaces)
