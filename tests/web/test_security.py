"""The web report's defences, over real HTTP: security headers on every answer, CSRF on every
POST, no user ID or pseudonym in any URL, everything escaped, static files kept to their
folder, and forms kept small."""

from __future__ import annotations

import re
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, replace

import pytest

from bot.errors import NothingToReport
from bot.sandbox.emulator import SlackEmulator
from bot.slack.web import make_server
from bot.web.app import ReportApp
from bot.web.http import PageRequest, PageResponse, Route
from bot.web.security import new_token
from bot.web.session import Cookies, Session
from bot.web.viewer import Role
from tests.web.conftest import (
    BETA_LEAD,
    EMPLOYEE,
    LEADER,
    TEAM_LEAD,
    Response,
    Site,
    WebSession,
    free_port,
    sign_in,
)

SCHEME_SOURCE = re.compile(r"^[a-z][a-z0-9+.-]*:$")


def directives(policy: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            found[words[0]] = words[1:]
    return found


def assert_secure_headers(response: Response, *, cacheable: bool = False) -> None:
    policy = response.header("Content-Security-Policy")
    assert policy, f"{response.url}: no Content-Security-Policy"
    found = directives(policy)
    assert found["default-src"] == ["'none'"]
    scripts = found["script-src"]
    assert scripts == ["'self'"], scripts
    for source in scripts:
        assert source not in {"'unsafe-inline'", "'unsafe-eval'", "*"}
        assert "*" not in source
        assert not SCHEME_SOURCE.match(source), source
    assert found["frame-ancestors"] == ["'none'"]
    assert found["base-uri"] == ["'none'"]
    assert found["form-action"][0] == "'self'"
    assert response.header("X-Content-Type-Options") == "nosniff"
    assert response.header("Referrer-Policy") == "same-origin"
    assert response.header("X-Frame-Options") == "DENY"
    if cacheable:
        assert "no-store" not in (response.header("Cache-Control") or "")
    else:
        assert response.header("Cache-Control") == "no-store", response.url


def test_every_answer_carries_the_security_headers(site: Site, web_session: WebSession) -> None:
    signed_out = WebSession(site.base_url)
    answers = [
        signed_out.get("/report"),  # to sign in
        signed_out.get("/report/login"),  # to Slack
        signed_out.get("/report/callback?state=nope"),  # a refusal
        signed_out.get("/report/logout"),  # 405
        signed_out.post("/report/logout", headers={"Origin": "http://evil.example"}),
        signed_out.get("/report/signed-out"),
        signed_out.get("/report/no-such-page"),
    ]
    sign_in(web_session, LEADER)
    answers += [web_session.get(p) for p in ("/report", "/report/heatmap", "/report/me")]
    answers.append(web_session.get("/report/teams/no-such-team"))
    for answer in answers:
        assert_secure_headers(answer)
    css = web_session.get("/report/static/report.css")
    assert css.status == 200
    assert css.header("Content-Type") == "text/css; charset=utf-8"
    assert_secure_headers(css, cacheable=True)
    # form-action lets the sign-in redirect go on to Slack's page, and nowhere else.
    policy = directives(answers[0].header("Content-Security-Policy") or "")
    authorize = urllib.parse.urlsplit(site.emulator.openid.authorize_url)
    assert policy["form-action"] == ["'self'", f"{authorize.scheme}://{authorize.netloc}"]


# --- CSRF ----------------------------------------------------------------------------------


def _token(page: Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text[:1000]
    return found.group(1)


def test_sign_out_from_another_origin_is_refused(site: Site, web_session: WebSession) -> None:
    sign_in(web_session, LEADER)
    token = _token(web_session.get("/report"))
    for headers in (
        {"Origin": "http://127.0.0.1:1"},  # same site (loopback), another origin
        {"Origin": "https://evil.example"},
        {"Origin": "null"},  # a sandboxed frame or a data: URL
        {"Referer": "https://evil.example/page"},
        {},  # neither header: refused too
    ):
        refused = web_session.post("/report/logout", form={"csrf_token": token}, headers=headers)
        assert refused.status == 403, headers
        assert "That request was refused" in refused.text
        assert not refused.all("Set-Cookie")
    assert web_session.get("/report").status == 200  # still signed in
    # Our own origin, but without the session's token (or with another session's): refused.
    other = WebSession(site.base_url)
    sign_in(other, EMPLOYEE)
    for form in ({}, {"csrf_token": ""}, {"csrf_token": _token(other.get("/report"))}):
        refused = web_session.post("/report/logout", form=form, headers={"Origin": site.base_url})
        assert refused.status == 403, form
    assert web_session.get("/report").status == 200
    # A browser that sends a same-origin Referer but no Origin, with the token: signed out.
    done = web_session.post(
        "/report/logout",
        form={"csrf_token": token},
        headers={"Referer": f"{site.base_url}/report"},
    )
    assert done.status == 303


@dataclass
class FormSite:
    """The router alone on a port of its own, with a POST page to test forms against."""

    session: WebSession
    cookies: Cookies
    base_url: str
    seen: list[PageRequest]


@pytest.fixture
def form_site(site: Site) -> Iterator[FormSite]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    deps = site.deps
    settings = deps.env.model_copy(update={"public_url": base_url})
    own = replace(deps, env=settings)
    seen: list[PageRequest] = []

    def record(request: PageRequest) -> PageResponse:
        seen.append(request)
        return PageResponse(b"stored", status=200)

    def boom(request: PageRequest) -> PageResponse:
        raise RuntimeError("a bug, with a secret in its message: hunter2")

    def refuse(request: PageRequest) -> PageResponse:
        raise NothingToReport()

    routes = [
        Route("POST", "/report/things/{name}", record),
        Route("GET", "/report/boom", boom),
        Route("GET", "/report/nothing", refuse),
    ]
    app = ReportApp(own, routes=routes)
    server = make_server(app, host="127.0.0.1", port=port)
    stopping = threading.Event()

    def serve() -> None:
        try:
            server.run()
        except OSError:  # closing the socket under select(): the stop asked for
            if not stopping.is_set():
                raise

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    cookies = Cookies(settings)
    now = int(site.clock.now().timestamp())
    session = Session(
        site.emulator.team_id, EMPLOYEE, "ualpha2", now, now, Role.EMPLOYEE, (), new_token()
    )
    value = cookies.session_cookie(session, now=now).split(";", 1)[0].split("=", 1)[1]
    client = WebSession(base_url, cookies={cookies.session_name: value})
    client.cookies["csrf"] = session.csrf  # kept here for the test, never sent by the app
    yield FormSite(client, cookies, base_url, seen)
    stopping.set()
    server.close()
    thread.join(timeout=5)


def test_every_post_needs_our_origin_and_the_sessions_token(form_site: FormSite) -> None:
    client = form_site.session
    token = client.cookies.pop("csrf")
    origin = {"Origin": form_site.base_url}
    path = "/report/things/caf%C3%A9%2Fbar"
    ok = client.post(path, form={"csrf_token": token, "note": "hello"}, headers=origin)
    assert ok.status == 200, ok.text[:500]
    [seen] = form_site.seen
    assert seen.form == {"note": "hello"}  # checked, then taken out
    assert seen.path_params == {"name": "café/bar"}
    assert seen.viewer.role is Role.EMPLOYEE
    for form, headers, status in (
        ({"note": "x"}, origin, 403),
        ({"csrf_token": token[:-1] + "A", "note": "x"}, origin, 403),
        ({"csrf_token": token}, {"Origin": "http://127.0.0.1:9"}, 403),
        ({"csrf_token": token}, {}, 403),
    ):
        assert client.post(path, form=form, headers=headers).status == status
    big = client.post(
        path, body=b"csrf_token=" + token.encode() + b"&x=" + b"a" * 70_000, headers=origin
    )
    assert big.status == 400
    not_a_form = client.post(
        path, body=b'{"csrf_token": "x"}', headers={**origin, "Content-Type": "application/json"}
    )
    assert not_a_form.status == 400
    assert len(form_site.seen) == 1
    assert client.get(path).status == 405


def test_a_failing_page_is_a_friendly_page_with_a_reference(
    form_site: FormSite, caplog: pytest.LogCaptureFixture
) -> None:
    client = form_site.session
    failed = client.get("/report/boom")
    assert failed.status == 500
    assert "Something went wrong" in failed.text
    assert "hunter2" not in failed.text
    assert "Traceback" not in failed.text
    reference = re.search(r"Reference: ([0-9a-f]{8})", failed.text)
    assert reference is not None
    assert any(reference.group(1) in r.getMessage() for r in caplog.records)
    assert_secure_headers(failed)
    refused = client.get("/report/nothing")
    assert refused.status == 404
    assert "No week has been published yet" in refused.text


# --- no user ID or pseudonym in any URL, everything escaped -----------------------------------


LINK = re.compile(r'(?:href|src|action)="([^"]*)"')


def crawl(session: WebSession, start: str = "/report", limit: int = 40) -> dict[str, Response]:
    """Every report page reachable from `start` by links, each fetched once."""
    seen: dict[str, Response] = {}
    queue = [start]
    while queue and len(seen) < limit:
        path = queue.pop(0)
        if path in seen:
            continue
        answer = session.get(path)
        seen[path] = answer
        if "text/html" not in (answer.header("Content-Type") or ""):
            continue
        for link in LINK.findall(answer.text):
            target = urllib.parse.urljoin(path, link.replace("&amp;", "&"))
            if target.startswith("/report") and not target.startswith("/report/logout"):
                queue.append(target)
    return seen


@pytest.mark.parametrize("user", [LEADER, TEAM_LEAD, BETA_LEAD, EMPLOYEE])
def test_no_user_id_or_pseudonym_in_any_url_or_page(
    published: Site, web_session: WebSession, user: str
) -> None:
    site = published
    everyone = [*site.org.participants, *site.org.leaders]
    pseudonyms = [site.deps.respondent(u) for u in everyone]
    landed = sign_in(web_session, user)
    pages = crawl(web_session)
    assert len(pages) >= 3, list(pages)
    urls = [*pages, landed.url, *(p.header("Location") or "" for p in pages.values())]
    for page in pages.values():
        urls += LINK.findall(page.text)
    for url in urls:
        for secret in [*everyone, *pseudonyms]:
            assert secret not in url, (url, secret)
    for path, page in pages.items():
        for secret in [*everyone, *pseudonyms]:
            assert secret not in page.text, (path, secret)
        # Every POST form carries the session's CSRF token.
        for form in re.findall(r"<form[^>]*method=\"post\"[^>]*>.*?</form>", page.text, re.S):
            assert 'name="csrf_token"' in form, (path, form)


def test_a_name_full_of_html_is_shown_as_text(
    site: Site, web_session: WebSession, emulator: SlackEmulator
) -> None:
    hostile = '<img src=x onerror="alert(1)">&<script>alert(2)</script>'
    emulator.add_user(EMPLOYEE, "mallory", real_name=hostile)
    # The emulator's own authorize page escapes it...
    login = web_session.get("/report/login")
    picker = web_session.get(login.location)
    assert "<script>alert(2)" not in picker.text
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in picker.text
    # ... and so does every report page.
    page = sign_in(web_session, EMPLOYEE)
    assert page.status == 200
    assert "<script>alert(2)" not in page.text
    assert "<img src=x" not in page.text
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in page.text


def test_static_files_stay_in_their_folder(site: Site, web_session: WebSession) -> None:
    sign_in(web_session, LEADER)
    for path in (
        "/report/static/../app.py",
        "/report/static/%2e%2e/app.py",
        "/report/static/..%2fapp.py",
        "/report/static/.hidden",
        "/report/static/",
        "/report/static/../templates/base.html",
    ):
        answer = web_session.get(path)
        assert answer.status == 404, path
        assert "Page not found" in answer.text
        assert "import" not in answer.text
    assert web_session.post("/report/static/report.css").status == 405
