"""The web report for real: the emulator as Slack (its Sign in with Slack pages included), the
served bot with /report turned on, a real HTTP client with cookies, and headless chromium.

Fixtures:
- `site`: the emulator's org (tests/e2e/conftest.py: alpha and beta of 6, gamma of 3, three
  people in no team) behind the served bot, CX_PUBLIC_URL its own loopback origin; the
  leaders are UALPHA0 and UBETA0 (and the admin UADMIN), UALPHA1 leads alpha and UBETA1 leads
  beta (CX_TEAM_LEADS), anyone else is an employee (EMPLOYEE is UALPHA2);
- `web_session`: a cookie-keeping HTTP client on `site` that follows no redirect by itself;
- `browser`: headless chromium (Debian's chromium and chromium-driver, through selenium) on
  `site`, with `screenshots(name)` at 1280 and 390 px wide into CX_TEST_ARTIFACTS (default
  test-artifacts/ at the repository root).

`sign_in(browser_or_session, user_id)` signs a person in through the emulator's authorize
page (the real flow: /report/login, Slack's page, the callback) and returns where it landed.
"""

from __future__ import annotations

import html
import http.client
import os
import random
import re
import socket
import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.clock import ManualClock
from bot.runtime import build_deps
from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.harness import ServedBot
from bot.services.context import Deps
from bot.services.importer import ImportRow, import_answers
from bot.services.publishing import post_digest
from bot.settings import Settings
from tests.e2e.conftest import (
    ADMIN,
    SECRET,
    TOKEN,
    TUESDAY_TEN,
    Org,
    install_org,
    make_settings,
)

CLIENT_ID = "1111.2222"
CLIENT_SECRET = "test-client-secret-for-sign-in"
SESSION_SECRET = "test-session-secret-0123456789abcdef-web"
LEADER = "UALPHA0"  # a member of the leadership channel
TEAM_LEAD = "UALPHA1"  # leads alpha (CX_TEAM_LEADS)
BETA_LEAD = "UBETA1"  # leads beta
EMPLOYEE = "UALPHA2"  # none of the above
TEAM_LEADS = "alpha=UALPHA1,beta=UBETA1"
REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREEN_WIDTHS = (1280, 390)
WAIT_S = 15.0

__all__ = ["ADMIN", "BETA_LEAD", "EMPLOYEE", "LEADER", "TEAM_LEAD", "sign_in"]


def free_port() -> int:
    """A free loopback port, for a CX_PUBLIC_URL known before the server starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def report_env(emulator: SlackEmulator, public_url: str) -> dict[str, str]:
    """What turns the web report on, beside the sandbox's SLACK_BOT_TOKEN."""
    return {
        "SLACK_CLIENT_ID": CLIENT_ID,
        "SLACK_CLIENT_SECRET": CLIENT_SECRET,
        "CX_PUBLIC_URL": public_url,
        "CX_SESSION_SECRET": SESSION_SECRET,
        "SLACK_OPENID_AUTHORIZE_URL": emulator.openid.authorize_url,
        "CX_TEAM_LEADS": TEAM_LEADS,
    }


@dataclass
class Site:
    """The served bot with its report, and the emulated Slack behind it."""

    emulator: SlackEmulator
    org: Org
    deps: Deps
    clock: ManualClock
    bot: ServedBot
    base_url: str

    @property
    def settings(self) -> Settings:
        return self.deps.env

    def url(self, path: str) -> str:
        return path if path.startswith("http") else f"{self.base_url}{path}"


def register_sign_in(emulator: SlackEmulator, base_url: str, clock: ManualClock) -> None:
    """Tell the emulator's Slack about the app's Sign in with Slack set-up."""
    emulator.openid.register(
        CLIENT_ID,
        CLIENT_SECRET,
        [f"{base_url}/report/callback"],
        login_url=f"{base_url}/report/login",
    )
    emulator.openid.set_clock(clock.now)


@pytest.fixture
def emulator() -> Iterator[SlackEmulator]:
    with SlackEmulator(bot_token=TOKEN, signing_secret=SECRET) as emu:
        yield emu


@pytest.fixture
def org(emulator: SlackEmulator) -> Org:
    return install_org(emulator)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(TUESDAY_TEN)


@pytest.fixture
def site_env() -> dict[str, str]:
    """Extra settings for `site` (override in a test module to change them)."""
    return {}


@pytest.fixture
def site(
    database_url: str,
    emulator: SlackEmulator,
    org: Org,
    clock: ManualClock,
    site_env: dict[str, str],
) -> Iterator[Site]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    register_sign_in(emulator, base_url, clock)
    settings = make_settings(
        emulator, database_url, **{**report_env(emulator, base_url), **site_env}
    )
    deps = build_deps(settings, clock=clock)
    with ServedBot(deps, port=port) as bot:
        emulator.set_app_url(bot.events_url)
        yield Site(emulator, org, deps, clock, bot, base_url)
    deps.engine.dispose()


HISTORY_WEEKS = 4


def history_rows(site: Site, *, weeks: int = HISTORY_WEEKS, seed: int = 15) -> list[ImportRow]:
    """Closed weeks of answers from the site's org, as `cxpulse import` takes them: everyone
    answers every dimension's first statement and both outcome items each week; alpha's
    empowerment falls in the last two weeks, so there is a finding to show."""
    rng = random.Random(seed)
    bank = site.deps.prompts.bank
    questions = [d.questions[0].id for d in bank.dimensions if d.id != bank.outcome_dimension]
    questions += [
        q.id for d in bank.dimensions if d.id == bank.outcome_dimension for q in d.questions
    ]
    team_of = {user: team for team, members in site.org.teams.items() for user in members}
    last = site.clock.now().date() - timedelta(days=7)
    rows = []
    for back in range(weeks, 0, -1):
        day = last - timedelta(weeks=back - 1)
        for user in site.org.participants:
            for question in questions:
                base = 4 if user in site.org.leaders else 3
                falling = back <= 2 and team_of.get(user) == "alpha"
                if falling and question.startswith("empowerment."):
                    base = 1
                score = max(1, min(5, base + rng.choice((-1, 0, 0, 1))))
                rows.append(
                    ImportRow(
                        len(rows) + 2,
                        day,
                        user,
                        team_of.get(user),
                        user in site.org.leaders,
                        question,
                        score,
                        None,
                    )
                )
    return rows


@pytest.fixture
def published(site: Site) -> Site:
    """`site` with HISTORY_WEEKS closed weeks imported (and so published), and the latest
    week's digest posted to the leadership channel, as the scheduler would."""
    import_answers(site.deps, history_rows(site))
    post_digest(site.deps, site.bot.gateway)
    return site


# --- a real HTTP client with cookies --------------------------------------------------------


@dataclass(frozen=True)
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    url: str

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    @property
    def location(self) -> str:
        found = self.header("Location")
        assert found, f"{self.status} from {self.url} is no redirect"
        return urllib.parse.urljoin(self.url, found)


@dataclass
class WebSession:
    """A browser's part that tests need: cookies (kept per host, not per port, as browsers
    keep them on 127.0.0.1) and plain requests. It never follows a redirect by itself."""

    base_url: str
    cookies: dict[str, str] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return path if path.startswith("http") else f"{self.base_url}{path}"

    def request(
        self,
        method: str,
        url: str,
        *,
        form: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        cookies: bool = True,
    ) -> Response:
        absolute = self.url(url)
        parts = urllib.parse.urlsplit(absolute)
        sent = dict(headers or {})
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            sent.setdefault("Content-Type", "application/x-www-form-urlencoded")
        if cookies and self.cookies:
            sent.setdefault("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
        try:
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            connection.request(method, target or "/", body=body, headers=sent)
            answer = connection.getresponse()
            response = Response(answer.status, answer.getheaders(), answer.read(), absolute)
        finally:
            connection.close()
        for value in response.all("Set-Cookie"):
            self._keep(value)
        return response

    def _keep(self, set_cookie: str) -> None:
        pair, *attributes = [part.strip() for part in set_cookie.split(";")]
        name, _, value = pair.partition("=")
        expired = any(a.lower() in {"max-age=0"} for a in attributes) or not value
        if expired:
            self.cookies.pop(name, None)
        else:
            self.cookies[name] = value

    def get(self, url: str, **kwargs: Any) -> Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Response:
        return self.request("POST", url, **kwargs)

    def follow(self, response: Response, *, limit: int = 10) -> Response:
        """Follow redirects from `response` (GETs), as a browser would."""
        for _ in range(limit):
            if response.status not in {301, 302, 303, 307, 308}:
                return response
            response = self.get(response.location)
        raise AssertionError("too many redirects")

    def open(self, path: str) -> Response:
        return self.follow(self.get(path))


@pytest.fixture
def web_session(site: Site) -> WebSession:
    return WebSession(site.base_url)


def authorize_form(page: Response) -> dict[str, str]:
    """The hidden fields of the emulator's authorize page (what its buttons post back)."""
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text))


def _session_sign_in(session: WebSession, user_id: str, next_path: str) -> Response:
    query = "" if next_path == "/report" else "?" + urllib.parse.urlencode({"next": next_path})
    login = session.get(f"/report/login{query}")
    assert login.status == 302, login.text[:500]
    page = session.get(login.location)
    assert page.status == 200, page.text[:500]
    fields = {k: html.unescape(v) for k, v in authorize_form(page).items()}
    action = urllib.parse.urljoin(page.url, "/openid/connect/authorize")
    approved = session.post(action, form={**fields, "user": user_id})
    assert approved.status == 302, approved.text[:500]
    return session.follow(session.get(approved.location))


# --- headless chromium ------------------------------------------------------------------------


def artifacts_dir() -> Path:
    folder = Path(os.environ.get("CX_TEST_ARTIFACTS") or REPO_ROOT / "test-artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """One headless chromium per test process; each test gets it with no cookies left."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} not found: the browser tests drive Debian's chromium and "
            "chromium-driver; `make browser` installs them (apt-get install chromium "
            "chromium-driver)",
            pytrace=False,
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,900",
        "--no-first-run",
        "--disable-extensions",
        "--password-store=basic",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


@dataclass
class Browser:
    """Chromium on `site`: `get` a path, find things, take screenshots."""

    driver: Any
    site: Site
    test_name: str

    def get(self, path: str) -> None:
        self.driver.get(self.site.url(path))

    @property
    def url(self) -> str:
        return str(self.driver.current_url)

    @property
    def path(self) -> str:
        return urllib.parse.urlsplit(self.url).path

    @property
    def text(self) -> str:
        """The page's visible text."""
        from selenium.webdriver.common.by import By

        return str(self.driver.find_element(By.TAG_NAME, "body").text)

    @property
    def html(self) -> str:
        return str(self.driver.page_source)

    def wait_for(self, condition: Any, timeout: float = WAIT_S) -> Any:
        from selenium.webdriver.support.ui import WebDriverWait

        return WebDriverWait(self.driver, timeout).until(condition)

    def cookies(self) -> list[dict[str, Any]]:
        return list(self.driver.get_cookies())

    def console_errors(self) -> list[str]:
        """What chromium's console reported at SEVERE level (CSP violations among them)."""
        return [
            str(entry["message"])
            for entry in self.driver.get_log("browser")
            if entry.get("level") == "SEVERE"
        ]

    def screenshot(self, name: str, width: int) -> Path:
        """The whole page at `width` CSS pixels wide, as a PNG in the artefacts folder."""
        self.driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600},
        )
        height = int(self.driver.execute_script("return document.documentElement.scrollHeight"))
        self.driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {
                "width": width,
                "height": max(300, min(height, 8000)),
                "deviceScaleFactor": 1,
                "mobile": width < 600,
            },
        )
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{self.test_name}-{name}")
        path = artifacts_dir() / f"{safe}-{width}.png"
        self.driver.save_screenshot(str(path))
        self.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        return path

    def screenshots(self, name: str) -> list[Path]:
        """The page at 1280 and 390 px wide."""
        return [self.screenshot(name, width) for width in SCREEN_WIDTHS]


@pytest.fixture
def browser(chromium: Any, site: Site, request: pytest.FixtureRequest) -> Iterator[Browser]:
    chromium.get("about:blank")
    chromium.execute_cdp_cmd("Network.clearBrowserCookies", {})
    chromium.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    chromium.get_log("browser")  # drop what earlier tests logged
    yield Browser(chromium, site, request.node.name)
    chromium.get("about:blank")
    chromium.execute_cdp_cmd("Network.clearBrowserCookies", {})


def _browser_sign_in(browser: Browser, user_id: str, next_path: str) -> str:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    query = "" if next_path == "/report" else "?" + urllib.parse.urlencode({"next": next_path})
    browser.get(f"/report/login{query}")
    button = browser.wait_for(
        ec.element_to_be_clickable((By.CSS_SELECTOR, f'button[data-user="{user_id}"]'))
    )
    button.click()
    site = browser.site.base_url
    browser.wait_for(
        lambda d: d.current_url.startswith(site) and "/report/callback" not in d.current_url
    )
    browser.wait_for(lambda d: d.execute_script("return document.readyState") == "complete")
    return browser.url


def sign_in(
    browser_or_session: Browser | WebSession, user_id: str, *, next_path: str = "/report"
) -> Any:
    """Sign `user_id` in through the emulator's authorize page: the browser clicks their name;
    the session posts the same form. Returns the landing URL (browser) or Response (session)."""
    if isinstance(browser_or_session, Browser):
        return _browser_sign_in(browser_or_session, user_id, next_path)
    return _session_sign_in(browser_or_session, user_id, next_path)
