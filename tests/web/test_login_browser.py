"""Sign in with Slack in a real browser: Debian's chromium, headless, driven by selenium.

A leader, a team lead and an employee sign in through the emulator's authorize page and each
sees what their role allows and no more; a tampered cookie, state or nonce signs nobody in; a
CSRF attempt from another origin is refused; the demo's one-click link signs a leader in. The
pages are photographed at 1280 and 390 px wide into CX_TEST_ARTIFACTS (test-artifacts/).
"""

from __future__ import annotations

import io
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec

from bot.clock import ManualClock
from bot.runtime import build_deps
from bot.sandbox import demo
from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.harness import ServedBot, free_port
from bot.sandbox.org import build_org
from tests.e2e.conftest import TUESDAY_TEN
from tests.web.conftest import (
    EMPLOYEE,
    LEADER,
    TEAM_LEAD,
    Browser,
    Site,
    sign_in,
)

SESSION = "cxpulse_session"


def assert_no_csp_violations(browser: Browser) -> None:
    errors = [e for e in browser.console_errors() if "Content Security Policy" in e]
    assert not errors, errors


def heading(browser: Browser) -> str:
    return str(browser.driver.find_element(By.TAG_NAME, "h1").text)


def test_the_authorize_page_and_a_leader_who_sees_every_team(
    published: Site, browser: Browser
) -> None:
    browser.get("/report")  # signed out: straight on to Slack's page
    browser.wait_for(ec.presence_of_element_located((By.ID, "people")))
    assert browser.url.startswith(published.emulator.openid.authorize_url)
    browser.screenshots("emulator-authorize")
    sign_in(browser, LEADER)
    assert browser.path == "/report"
    assert "Signed in as ualpha0" in browser.text
    nav = browser.driver.find_element(By.CSS_SELECTOR, "header nav").text
    browser.screenshots("leader-overview")
    browser.get("/report/heatmap")
    assert "alpha" in browser.text
    assert "beta" in browser.text
    browser.screenshots("leader-heatmap")
    browser.get("/report/teams/beta")
    assert "beta" in heading(browser)
    assert nav
    assert_no_csp_violations(browser)
    # The cookie the browser keeps: HttpOnly, SameSite=Lax (plain http here, so not Secure).
    [cookie] = [c for c in browser.cookies() if c["name"] == SESSION]
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    assert cookie["secure"] is False
    assert browser.driver.execute_script("return document.cookie").find(SESSION) == -1


NOT_THEIRS = "Nothing here"  # a team not theirs reads like one that does not exist
NOT_FOR_THEM = "This page isn't part of your view"


def assert_refused(browser: Browser, path: str, expected: str) -> None:
    browser.get(path)
    assert heading(browser) == expected, (path, browser.text[:500])
    assert "Traceback" not in browser.html
    main = browser.driver.find_element(By.TAG_NAME, "main").text
    assert "%" not in main, (path, main)  # not one figure on a refusal


def test_a_team_lead_sees_the_headline_and_their_own_team_only(
    published: Site, browser: Browser
) -> None:
    sign_in(browser, TEAM_LEAD)
    assert browser.path == "/report"
    assert "what changed" in heading(browser)  # the organisation's headline
    nav = [a.text for a in browser.driver.find_elements(By.CSS_SELECTOR, "header nav a")]
    assert nav == ["Overview", "Team alpha", "My answers"]
    browser.screenshots("team-lead-overview")
    browser.get("/report/teams/alpha")
    assert "alpha" in heading(browser)
    assert "%" in browser.text
    browser.screenshots("team-lead-own-team")
    assert_refused(browser, "/report/teams/beta", NOT_THEIRS)
    browser.screenshots("team-lead-refused-other-team")
    assert_refused(browser, "/report/teams/gamma", NOT_THEIRS)
    assert_refused(browser, "/report/heatmap", NOT_FOR_THEM)
    assert_refused(browser, "/report/comments", NOT_FOR_THEM)
    assert_no_csp_violations(browser)


def test_an_employee_sees_the_organisation_and_their_own_answers(
    published: Site, browser: Browser
) -> None:
    sign_in(browser, EMPLOYEE)
    assert browser.path == "/report"
    assert "What changed" in browser.text
    assert "Focus this week" not in browser.text
    nav = [a.text for a in browser.driver.find_elements(By.CSS_SELECTOR, "header nav a")]
    assert nav == ["Overview", "My answers"]
    browser.screenshots("employee-overview")
    browser.get("/report/me")
    assert browser.driver.find_elements(By.CSS_SELECTOR, "main table, main li")
    browser.screenshots("employee-own-answers")
    assert_refused(browser, "/report/teams/alpha", NOT_THEIRS)  # their own team, even
    assert_refused(browser, "/report/heatmap", NOT_FOR_THEM)
    browser.screenshots("employee-refused-heatmap")
    assert_refused(browser, "/report/comments", NOT_FOR_THEM)
    assert_refused(browser, "/report/actions", NOT_FOR_THEM)
    assert_no_csp_violations(browser)


def test_a_tampered_cookie_signs_the_browser_out(published: Site, browser: Browser) -> None:
    sign_in(browser, EMPLOYEE)
    [cookie] = [c for c in browser.cookies() if c["name"] == SESSION]
    payload, _, mac = cookie["value"].partition(".")
    forged = f"{payload}.{mac[::-1]}"
    browser.driver.execute_cdp_cmd(
        "Network.setCookie",
        {
            "name": SESSION,
            "value": forged,
            "url": published.base_url + "/report",
            "path": "/report",
            "httpOnly": True,
            "sameSite": "Lax",
        },
    )
    browser.get("/report/me")
    assert heading(browser) == "You are signed out"
    assert "Sign in with Slack" in browser.text
    browser.screenshots("tampered-cookie")
    assert not [c for c in browser.cookies() if c["name"] == SESSION]


def _authorize_query(browser: Browser) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(browser.url).query))


@pytest.mark.parametrize("tampered", ["state", "nonce"])
def test_a_tampered_state_or_nonce_signs_nobody_in(
    site: Site, browser: Browser, tampered: str
) -> None:
    browser.get("/report/login")
    browser.wait_for(ec.presence_of_element_located((By.ID, "people")))
    query = _authorize_query(browser)
    query[tampered] = "changed-on-the-way-0123456789abcdef0123"
    browser.driver.get(f"{site.emulator.openid.authorize_url}?{urllib.parse.urlencode(query)}")
    browser.wait_for(ec.element_to_be_clickable((By.CSS_SELECTOR, f'[data-user="{LEADER}"]')))
    browser.driver.find_element(By.CSS_SELECTOR, f'[data-user="{LEADER}"]').click()
    browser.wait_for(lambda d: d.current_url.startswith(site.base_url))
    assert heading(browser) == "Your sign-in expired"
    assert not [c for c in browser.cookies() if c["name"] == SESSION]
    browser.screenshots(f"tampered-{tampered}")
    # The way back in works.
    sign_in(browser, LEADER)
    assert browser.path == "/report"


@dataclass
class Attacker:
    """A page on another origin with a form that posts to the report as soon as it loads."""

    url: str


def _attacker(target: str, host: str) -> Iterator[Attacker]:
    page = (
        "<!doctype html><html><body><h1>Win a prize</h1>"
        f'<form id="f" method="post" action="{target}">'
        '<input type="hidden" name="csrf_token" value="guessed">'
        "</form><script>document.getElementById('f').submit()</script></body></html>"
    ).encode()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Attacker(f"http://{host}:{server.server_address[1]}/")
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_csrf_attempt_from_another_origin_is_refused(
    site: Site, browser: Browser, host: str
) -> None:
    """127.0.0.1 on another port is the same site, so the browser sends the session cookie
    along (SameSite does not help): the Origin check and the token refuse it. localhost is
    another site: the cookie stays behind, and the request is refused all the same."""
    sign_in(browser, LEADER)
    for attacker in _attacker(f"{site.base_url}/report/logout", host):
        browser.driver.get(attacker.url)
        browser.wait_for(lambda d: d.current_url.startswith(site.base_url))
        browser.wait_for(ec.presence_of_element_located((By.TAG_NAME, "h1")))
        assert heading(browser) == "That request was refused"
        browser.screenshots(f"csrf-from-{host}")
    browser.get("/report")
    assert "Signed in as ualpha0" in browser.text  # the forged sign-out did nothing
    # Our own sign-out button, with its token, does sign out.
    browser.driver.find_element(By.CSS_SELECTOR, "form.signout button").click()
    browser.wait_for(lambda d: d.current_url.endswith("/report/signed-out"))
    assert heading(browser) == "You are signed out"
    browser.screenshots("signed-out")
    browser.get("/report/me")
    assert browser.url.startswith(site.emulator.openid.authorize_url)


def test_the_demos_one_click_link_signs_a_leader_in(
    chromium: Any, database_url: str, tmp_path: Path
) -> None:
    """The demo's last step, driven while it serves: the same functions `cxpulse demo` runs
    (its settings, its Sign in with Slack registration, `offer_report`) on a small org."""
    org = build_org(3, people_per_team=5)
    seen: list[str] = []
    with SlackEmulator(bot_token=demo.TOKEN, signing_secret=demo.SIGNING_SECRET) as emulator:
        demo.install_org(emulator, org)
        port = free_port()
        report_url = f"http://127.0.0.1:{port}"
        settings = demo.sandbox_settings(emulator, tmp_path / "demo.db", org, report_url=report_url)
        settings = settings.model_copy(update={"database_url": database_url})
        clock = ManualClock(TUESDAY_TEN)
        demo.enable_report(emulator, report_url, clock)
        deps = build_deps(settings, clock=clock)

        def click(link: str) -> None:
            chromium.execute_cdp_cmd("Network.clearBrowserCookies", {})
            chromium.get(link)  # one click, nothing else
            browser = Browser(chromium, _Origin(report_url), "demo-one-click")  # type: ignore[arg-type]
            browser.wait_for(lambda d: urllib.parse.urlsplit(d.current_url).path == "/report")
            seen.append(browser.text)
            browser.screenshots("overview")

        with ServedBot(deps, port=port) as served:
            emulator.set_app_url(served.events_url)
            link = demo.offer_report(Console(file=io.StringIO()), emulator, org, serve_until=click)
        deps.engine.dispose()
    assert "/openid/connect/one-click/" in link
    leader = next(p for p in org.people if p.user_id == org.leaders[0])
    assert seen, "the link was never followed"
    assert f"Signed in as {leader.name}" in seen[0]
    assert org.leaders[0] not in link  # the link names nobody


@dataclass
class _Origin:
    base_url: str

    def url(self, path: str) -> str:
        return path if path.startswith("http") else f"{self.base_url}{path}"


def test_the_browser_refuses_inline_script_on_report_pages(site: Site, browser: Browser) -> None:
    """Even script that got into a page (it cannot: everything is escaped) would not run."""
    sign_in(browser, LEADER)
    browser.driver.execute_script(
        "const s = document.createElement('script');"
        "s.textContent = 'document.body.dataset.pwned = \"yes\"';"
        "document.body.appendChild(s);"
        "const t = document.createElement('script');"
        "t.src = 'https://evil.example/x.js';"
        "document.body.appendChild(t);"
    )
    assert browser.driver.execute_script("return document.body.dataset.pwned") is None
    errors = [e for e in browser.console_errors() if "Content Security Policy" in e]
    assert len(errors) >= 2, browser.console_errors()
