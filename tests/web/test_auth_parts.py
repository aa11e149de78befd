"""The sign-in's parts one by one: settings, signed values, cookies, id_token checks, where a
sign-in may send you, the rate limiter, `cxpulse doctor`, and the emulator's Slack side."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.prompts import load_prompts
from bot.sandbox.emulator import SlackEmulator
from bot.services.doctor import check_web_report
from bot.settings import Settings
from bot.web.auth import SignInProblem, checked_id_token, safe_next
from bot.web.ratelimit import SlidingWindowLimiter
from bot.web.security import Signer
from bot.web.session import Cookies, PreLogin, Session
from bot.web.viewer import Role
from tests.web.conftest import WebSession

SECRET = "s" * 40
REPORT = {
    "SLACK_CLIENT_ID": "1.2",
    "SLACK_CLIENT_SECRET": "client-secret",
    "CX_PUBLIC_URL": "https://cx.example.com",
    "CX_SESSION_SECRET": SECRET,
}
SINGLE = {**REPORT, "SLACK_BOT_TOKEN": "xoxb-1"}


# --- settings ------------------------------------------------------------------------------------


def test_a_client_id_beside_a_bot_token_is_one_workspace_with_sign_in() -> None:
    single = Settings.model_validate({**REPORT, "SLACK_BOT_TOKEN": "xoxb-1"})
    assert not single.distributed  # no encryption key needed: no token is stored
    assert single.web_report_enabled
    assert single.web_report_missing == ()
    with pytest.raises(ValidationError, match="CX_ENCRYPTION_KEY is required"):
        Settings.model_validate(REPORT)  # no bot token: OAuth installs, whose tokens are kept
    key = Fernet.generate_key().decode()
    many = Settings.model_validate({**REPORT, "CX_ENCRYPTION_KEY": key})
    assert many.distributed
    assert many.web_report_enabled
    off = Settings.model_validate({"SLACK_BOT_TOKEN": "xoxb-1"})
    assert off.web_report_missing == (
        "SLACK_CLIENT_ID",
        "SLACK_CLIENT_SECRET",
        "CX_PUBLIC_URL",
        "CX_SESSION_SECRET",
    )


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("https://CX.example.com/", "https://cx.example.com"),
        ("http://127.0.0.1:3000", "http://127.0.0.1:3000"),
        ("", None),
    ],
)
def test_the_public_url_is_an_origin(given: str, kept: str | None) -> None:
    assert Settings.model_validate({"CX_PUBLIC_URL": given}).public_url == kept


@pytest.mark.parametrize(
    "bad",
    ["cx.example.com", "ftp://cx.example.com", "https://cx.example.com/report", "https://a@b.c"],
)
def test_a_public_url_with_a_path_or_no_scheme_is_refused(bad: str) -> None:
    with pytest.raises(ValidationError, match="CX_PUBLIC_URL"):
        Settings.model_validate({"CX_PUBLIC_URL": bad})


def test_a_short_session_secret_is_refused() -> None:
    with pytest.raises(ValidationError, match="CX_SESSION_SECRET"):
        Settings.model_validate({"CX_SESSION_SECRET": "too-short"})


# --- signed values and cookies --------------------------------------------------------------


def test_a_value_signed_for_one_purpose_is_nothing_for_another() -> None:
    session, pre_login = Signer(SECRET, "session"), Signer(SECRET, "pre-login")
    signed = pre_login.sign({"s": "state"})
    assert pre_login.unsign(signed) == {"s": "state"}
    assert session.unsign(signed) is None
    assert Signer("t" * 40, "pre-login").unsign(signed) is None
    for garbage in ("", ".", "a.b", signed + "x", signed.replace(".", ""), "é" * 10, "x" * 5000):
        assert pre_login.unsign(garbage) is None


def _session(now: int) -> Session:
    return Session("T0X", "U1", "Ann", now, now, Role.TEAM_LEAD, ("alpha",), "csrf")


def test_https_cookies_are_secure_and_host_only() -> None:
    cookies = Cookies(Settings.model_validate(SINGLE))
    now = 1_800_000_000
    header = cookies.session_cookie(_session(now), now=now)
    name, _, rest = header.partition("=")
    assert name == "__Host-cxpulse_session"
    parts = [p.strip() for p in rest.split(";")[1:]]
    assert {"HttpOnly", "Secure", "SameSite=Lax", "Path=/"} <= set(parts)
    assert not any(p.lower().startswith("domain") for p in parts)
    value = rest.split(";", 1)[0]
    read = cookies.read_session(f"other=1; {name}={value}", now=now + 60)
    assert read.session == _session(now)
    pending = cookies.pre_login_cookie(PreLogin("st", "no", "/report", now))
    assert pending.startswith("__Host-cxpulse_signin=")
    assert "Max-Age=600" in pending
    assert "Secure" in pending


def test_a_session_has_a_lifetime_and_reads_nothing_else() -> None:
    hours = 3
    cookies = Cookies(Settings.model_validate({**SINGLE, "CX_SESSION_HOURS": str(hours)}))
    now = 1_800_000_000
    header = cookies.session_cookie(_session(now), now=now)
    assert f"Max-Age={hours * 3600}" in header
    pair = header.split(";", 1)[0]
    assert cookies.read_session(pair, now=now + hours * 3600 - 1).session is not None
    expired = cookies.read_session(pair, now=now + hours * 3600)
    assert expired.session is None
    assert expired.present  # "your session ended", not a silent redirect
    assert not cookies.read_session("", now=now).present
    assert cookies.read_session(pair, now=now - 3600).session is None  # from the future


# --- the id_token -------------------------------------------------------------------------------


def _jwt(**claims: Any) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256'})}.{part(claims)}.signature"


NOW = 1_800_000_000
GOOD = {
    "iss": "https://slack.com",
    "aud": "1.2",
    "exp": NOW + 600,
    "iat": NOW,
    "nonce": "the-nonce",
    "sub": "U1",
    "https://slack.com/team_id": "T0X",
    "https://slack.com/user_id": "U1",
}


def test_a_good_id_token_passes() -> None:
    claims = checked_id_token(_jwt(**GOOD), client_id="1.2", nonce="the-nonce", now=NOW)
    assert claims["https://slack.com/user_id"] == "U1"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"iss": "https://evil.example"}, "failed"),
        ({"aud": "9.9"}, "failed"),  # minted for another app
        ({"aud": ["1.2", "9.9"]}, "failed"),  # several audiences and no azp
        ({"exp": NOW - 301}, "expired"),
        ({"iat": NOW + 301}, "expired"),
        ({"nonce": "another-nonce"}, "expired"),
        ({"nonce": None}, "expired"),
        ({"https://slack.com/team_id": None}, "failed"),
        ({"exp": "soon"}, "failed"),
    ],
)
def test_a_wrong_id_token_is_refused(change: dict[str, Any], reason: str) -> None:
    token = _jwt(**{k: v for k, v in {**GOOD, **change}.items() if v is not None})
    with pytest.raises(SignInProblem) as refused:
        checked_id_token(token, client_id="1.2", nonce="the-nonce", now=NOW)
    assert refused.value.reason == reason


def test_a_token_that_is_no_jwt_is_refused() -> None:
    for garbage in ("", "a.b", "a.!!!.c", "a." + base64.urlsafe_b64encode(b"[1]").decode() + ".c"):
        with pytest.raises(SignInProblem):
            checked_id_token(garbage, client_id="1.2", nonce="n", now=NOW)


@pytest.mark.parametrize(
    ("asked", "sent_to"),
    [
        (None, "/report"),
        ("/report/teams/alpha", "/report/teams/alpha"),
        ("/report/comments?page=2", "/report/comments?page=2"),
        ("https://evil.example/report", "/report"),
        ("//evil.example/report", "/report"),
        ("/\\evil.example", "/report"),
        ("/report/login", "/report"),
        ("/report/callback?code=x", "/report"),
        ("/slack/install", "/report"),
        ("/reports", "/report"),
        ("/report/é", "/report"),
    ],
)
def test_after_signing_in_you_only_ever_land_on_the_report(asked: str | None, sent_to: str) -> None:
    assert safe_next(asked) == sent_to


# --- the rate limiter ---------------------------------------------------------------------------


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_twenty_a_minute_then_429_until_the_window_slides() -> None:
    clock = FakeTime()
    limiter = SlidingWindowLimiter(limit=20, window=60, now=clock)
    for second in range(20):
        clock.now = 1000 + second
        assert limiter.hit("1.2.3.4").allowed
    refused = limiter.hit("1.2.3.4")
    assert not refused.allowed
    assert refused.retry_after == 41  # the first of the twenty leaves the window at 1060
    assert limiter.hit("5.6.7.8").allowed  # another address has its own window
    clock.now = 1059.5
    assert not limiter.hit("1.2.3.4").allowed  # refused tries are not counted...
    clock.now = 1060.0
    assert limiter.hit("1.2.3.4").allowed  # ... so the window slides on the allowed ones


def test_the_limiter_forgets_the_oldest_addresses_first() -> None:
    clock = FakeTime()
    limiter = SlidingWindowLimiter(limit=2, window=60, max_keys=100, now=clock)
    for n in range(1000):
        limiter.hit(f"10.0.{n // 256}.{n % 256}")
    assert len(limiter) == 100


# --- cxpulse doctor --------------------------------------------------------------------------


def test_doctor_says_whether_the_report_is_on() -> None:
    copy = load_prompts().copy
    off = check_web_report(Settings.model_validate({"SLACK_BOT_TOKEN": "x"}), copy)
    assert off.passed
    assert "off" in off.detail
    half = check_web_report(
        Settings.model_validate({"SLACK_BOT_TOKEN": "x", "CX_PUBLIC_URL": "https://cx.example"}),
        copy,
    )
    assert not half.passed
    assert half.fix is not None
    assert "SLACK_CLIENT_ID" in half.detail
    assert "https://cx.example/report/callback" in half.fix
    on = check_web_report(Settings.model_validate({**REPORT, "SLACK_BOT_TOKEN": "x"}), copy)
    assert on.passed
    assert "https://cx.example.com/report" in on.detail
    assert on.note is None
    plain = {**REPORT, "SLACK_BOT_TOKEN": "x", "CX_PUBLIC_URL": "http://cx.example.com"}
    assert check_web_report(Settings.model_validate(plain), copy).note is not None


# --- the emulator's Slack side ------------------------------------------------------------------


CLIENT, CLIENT_SECRET, REDIRECT = "1.2", "emulated-client-secret", "http://127.0.0.1:9/cb"


@pytest.fixture
def slack() -> Any:
    with SlackEmulator() as emulator:
        emulator.add_user("UANN", "ann", real_name="Ann Example")
        emulator.add_user("UBOT", "robot", is_bot=True)
        emulator.openid.register(CLIENT, CLIENT_SECRET, [REDIRECT])
        yield emulator


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _fetch(url: str, data: dict[str, str] | None = None) -> tuple[int, str, str]:
    opener = urllib.request.build_opener(_NoRedirect)
    body = None if data is None else urllib.parse.urlencode(data).encode()
    try:
        with opener.open(url, data=body) as answer:  # loopback only
            return answer.status, answer.headers.get("Location") or "", answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Location") or "", error.read().decode()


def _authorize(slack: SlackEmulator, **changes: str) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": CLIENT,
        "scope": "openid,profile",
        "redirect_uri": REDIRECT,
        "state": "st",
        "nonce": "no",
        **changes,
    }


def _code(slack: SlackEmulator, user: str = "UANN") -> str:
    status, location, _ = _fetch(
        slack.openid.authorize_url, {**_authorize(slack), "user": user, "decision": "allow"}
    )
    assert status == 302
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
    assert query["state"] == "st"
    return query["code"]


def test_the_authorize_page_refuses_unknown_apps_and_redirect_uris(slack: SlackEmulator) -> None:
    url = slack.openid.authorize_url
    status, _, page = _fetch(f"{url}?{urllib.parse.urlencode(_authorize(slack))}")
    assert status == 200
    assert 'data-user="UANN"' in page
    assert "UBOT" not in page  # bots cannot sign in
    for bad in ({"client_id": "9.9"}, {"redirect_uri": "http://evil.example/cb"}):
        status, location, page = _fetch(f"{url}?{urllib.parse.urlencode(_authorize(slack, **bad))}")
        assert status == 400
        assert location == ""  # never redirected to an address the app did not register
        assert "Something went wrong" in page
    status, location, _ = _fetch(
        url, {**_authorize(slack, redirect_uri="http://evil/"), "user": "UANN"}
    )
    assert (status, location) == (400, "")
    status, _, _ = _fetch(url, {**_authorize(slack), "user": "UNOBODY"})
    assert status == 400


def test_a_code_is_traded_once_by_its_own_app(slack: SlackEmulator) -> None:
    client = WebClient(base_url=slack.api_url)
    code = _code(slack)
    with pytest.raises(SlackApiError, match="invalid_client_id"):
        client.openid_connect_token(client_id=CLIENT, client_secret="wrong", code=code)
    with pytest.raises(SlackApiError, match="bad_redirect_uri"):
        client.openid_connect_token(
            client_id=CLIENT, client_secret=CLIENT_SECRET, code=_code(slack), redirect_uri="x"
        )
    answer = client.openid_connect_token(
        client_id=CLIENT, client_secret=CLIENT_SECRET, code=code, redirect_uri=REDIRECT
    )
    payload = answer["id_token"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["iss"] == "https://slack.com"
    assert claims["aud"] == CLIENT
    assert claims["nonce"] == "no"
    assert claims["https://slack.com/user_id"] == "UANN"
    assert claims["https://slack.com/team_id"] == slack.team_id
    with pytest.raises(SlackApiError, match="invalid_code"):  # single use
        client.openid_connect_token(
            client_id=CLIENT, client_secret=CLIENT_SECRET, code=code, redirect_uri=REDIRECT
        )
    info = client.openid_connect_userInfo(token=answer["access_token"])
    assert info["sub"] == "UANN"
    assert info["name"] == "Ann Example"
    assert info["https://slack.com/team_id"] == slack.team_id
    with pytest.raises(SlackApiError, match="invalid_auth"):
        client.openid_connect_userInfo(token="xoxp-made-up")


def test_a_one_click_link_preselects_once_and_names_nobody(slack: SlackEmulator) -> None:
    slack.openid.register(CLIENT, CLIENT_SECRET, [REDIRECT], login_url="http://127.0.0.1:9/login")
    link = slack.openid.one_click_link("UANN", client_id=CLIENT)
    assert "UANN" not in link
    browser = WebSession(slack.base_url)
    clicked = browser.get(link)
    assert (clicked.status, clicked.location) == (302, "http://127.0.0.1:9/login")
    authorize = f"{slack.openid.authorize_url}?{urllib.parse.urlencode(_authorize(slack))}"
    approved = browser.get(authorize)  # as the app's /report/login would send the browser
    assert approved.status == 302  # approved at once, for the preselected person
    assert "code=" in approved.location
    assert browser.get(authorize).status == 200  # used up: the page to pick someone


def test_one_workspace_serves_its_bot_tokens_workspace_only(slack: SlackEmulator) -> None:
    from unittest.mock import sentinel

    from bot.web.auth import SingleWorkspace

    single = SingleWorkspace(
        sentinel.deps, sentinel.gateway, WebClient(token=slack.bot_token, base_url=slack.api_url)
    )
    assert single.serves(slack.team_id)
    assert not single.serves("T0ELSEWHERE")
    with pytest.raises(LookupError):
        single.deps_for("T0ELSEWHERE")
    assert len(slack.calls("auth.test")) == 1  # asked once, then remembered


def test_serving_builds_nothing_of_the_report_before_its_first_request() -> None:
    """`cxpulse serve` imports the router, not the pages, templates or Jinja2."""
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "import bot.slack.web\n"
        "heavy = ('jinja2', 'bot.web.pages', 'bot.web.templates')\n"
        "loaded = [m for m in heavy if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter and probe
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
