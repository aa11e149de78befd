"""Sign in with Slack over real HTTP: the served bot, the emulator as Slack, a cookie jar.

Each attack on the sign-in is a test of its own: a tampered, forged, foreign or expired
session cookie; a `state` changed, replayed or carried to another browser; a `nonce`
changed on the way to Slack; a code replayed. Each ends on a friendly page with no session.
"""

from __future__ import annotations

import base64
import html
import json
import urllib.parse
from datetime import timedelta

import pytest
from pydantic import SecretStr

from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.harness import ServedBot
from bot.services.config import update_workspace_settings
from bot.web.session import Cookies
from tests.e2e.conftest import ADMIN, LEADERS_CHANNEL, make_settings
from tests.web.conftest import (
    CLIENT_ID,
    EMPLOYEE,
    LEADER,
    TEAM_LEAD,
    Response,
    Site,
    WebSession,
    authorize_form,
    sign_in,
)

SESSION = "cxpulse_session"
PRE_LOGIN = "cxpulse_signin"


def attributes(set_cookie: str) -> dict[str, str]:
    """A Set-Cookie header's attributes, lower-cased names ("" for flags)."""
    _, *parts = [p.strip() for p in set_cookie.split(";")]
    found = {}
    for part in parts:
        name, _, value = part.partition("=")
        found[name.lower()] = value
    return found


def set_cookie(response: Response, name: str) -> str:
    [found] = [v for v in response.all("Set-Cookie") if v.startswith(f"{name}=")]
    return found


def start(session: WebSession, next_path: str | None = None) -> tuple[str, dict[str, str]]:
    """GET /report/login: the authorize URL and its query."""
    query = "" if next_path is None else "?" + urllib.parse.urlencode({"next": next_path})
    login = session.get(f"/report/login{query}")
    assert login.status == 302, login.text
    url = login.location
    return url, dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))


def approve(session: WebSession, authorize_url: str, user_id: str) -> str:
    """On the emulator's authorize page, `user_id` clicks their name: the callback URL."""
    page = session.get(authorize_url)
    assert page.status == 200, page.text
    fields = authorize_form(page)
    answer = session.post(
        urllib.parse.urljoin(authorize_url, "/openid/connect/authorize"),
        form={**{k: html.unescape(v) for k, v in fields.items()}, "user": user_id},
    )
    assert answer.status == 302, answer.text
    return answer.location


def assert_signed_out_page(response: Response, heading: str) -> None:
    assert heading in response.text, response.text[:2000]
    assert "Traceback" not in response.text
    assert 'href="/report/login' in response.text  # a way back in


# --- the flow as it should go ------------------------------------------------------------------


def test_login_redirects_to_slack_with_a_fresh_state_and_nonce(
    site: Site, web_session: WebSession
) -> None:
    first, query = start(web_session)
    assert first.startswith(site.emulator.openid.authorize_url + "?")
    assert query["response_type"] == "code"
    assert query["client_id"] == CLIENT_ID
    assert set(query["scope"].replace(",", " ").split()) == {"openid", "profile"}
    assert query["redirect_uri"] == f"{site.base_url}/report/callback"
    assert len(query["state"]) >= 32
    assert len(query["nonce"]) >= 32
    _, again = start(web_session)
    assert again["state"] != query["state"]
    assert again["nonce"] != query["nonce"]
    # The pre-login cookie binds the sign-in to this browser for ten minutes.
    login = web_session.get("/report/login")
    cookie = attributes(set_cookie(login, PRE_LOGIN))
    assert cookie["max-age"] == "600"
    assert "httponly" in cookie
    assert cookie["samesite"] == "Lax"
    assert "secure" not in cookie  # CX_PUBLIC_URL is plain http on loopback


def test_a_leader_signs_in_and_gets_a_safe_session_cookie(
    site: Site, web_session: WebSession
) -> None:
    authorize_url, _ = start(web_session, next_path="/report/heatmap")
    callback = approve(web_session, authorize_url, LEADER)
    assert callback.startswith(f"{site.base_url}/report/callback?")
    done = web_session.get(callback)
    assert done.status == 303
    assert done.location == f"{site.base_url}/report/heatmap"  # back where they were going
    cookie = attributes(set_cookie(done, SESSION))
    assert "httponly" in cookie
    assert cookie["samesite"] == "Lax"
    assert cookie["max-age"] == str(12 * 3600)  # CX_SESSION_HOURS' default
    assert cookie["path"] == "/report"
    assert attributes(set_cookie(done, PRE_LOGIN))["max-age"] == "0"  # used up
    # The code was traded once, for this app and this redirect URI; the person read with the
    # access token it gave.
    [token_call] = site.emulator.calls("openid.connect.token")
    assert token_call.params["redirect_uri"] == f"{site.base_url}/report/callback"
    assert token_call.response["ok"] is True
    assert "client_secret" not in token_call.params  # sent as HTTP Basic, never recorded
    [info] = site.emulator.calls("openid.connect.userInfo")
    assert info.response["https://slack.com/user_id"] == LEADER
    page = web_session.get("/report/heatmap")
    assert page.status == 200, page.text[:1000]
    assert "ualpha0" in page.text  # "Signed in as ..."


def test_signed_out_visitors_are_sent_to_sign_in_first(site: Site, web_session: WebSession) -> None:
    page = web_session.get("/report/heatmap")
    assert page.status == 302
    assert page.location == f"{site.base_url}/report/login?next=%2Freport%2Fheatmap"
    landed = sign_in(web_session, EMPLOYEE)
    assert landed.status == 200
    assert landed.url == f"{site.base_url}/report"


def test_sign_out_ends_the_session(site: Site, web_session: WebSession) -> None:
    sign_in(web_session, LEADER)
    overview = web_session.get("/report")
    token = _csrf(overview)
    out = web_session.post(
        "/report/logout", form={"csrf_token": token}, headers={"Origin": site.base_url}
    )
    assert out.status == 303
    assert out.location == f"{site.base_url}/report/signed-out"
    assert attributes(set_cookie(out, SESSION))["max-age"] == "0"
    assert SESSION not in web_session.cookies
    page = web_session.get(out.location)
    assert page.status == 200
    assert "You are signed out" in page.text
    assert web_session.get("/report").status == 302  # to sign in again


def _csrf(page: Response) -> str:
    marker = 'name="csrf_token" value="'
    assert marker in page.text, page.text[:2000]
    return page.text.split(marker, 1)[1].split('"', 1)[0]


def test_cancelling_on_slacks_page_is_a_friendly_page(site: Site, web_session: WebSession) -> None:
    authorize_url, _ = start(web_session)
    page = web_session.get(authorize_url)
    fields = {k: html.unescape(v) for k, v in authorize_form(page).items()}
    denied = web_session.post(
        urllib.parse.urljoin(authorize_url, "/openid/connect/authorize"),
        form={**fields, "decision": "deny"},
    )
    answer = web_session.get(denied.location)
    assert answer.status == 400
    assert_signed_out_page(answer, "Sign-in cancelled")
    assert SESSION not in web_session.cookies
    assert not site.emulator.calls("openid.connect.token")


# --- the cookie ------------------------------------------------------------------------------


def _resigned_payload(value: str, **changes: object) -> str:
    payload, _, mac = value.partition(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data.update(changes)
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return f"{forged}.{mac}"


@pytest.mark.parametrize(
    "tamper",
    [
        "promote_to_admin",
        "become_someone_else",
        "flip_the_signature",
        "no_signature",
        "signed_with_another_secret",
        "garbage",
    ],
)
def test_a_tampered_session_cookie_reads_as_signed_out(
    site: Site, web_session: WebSession, tamper: str
) -> None:
    sign_in(web_session, EMPLOYEE)
    good = web_session.cookies[SESSION]
    if tamper == "promote_to_admin":
        forged = _resigned_payload(good, r="admin")
    elif tamper == "become_someone_else":
        forged = _resigned_payload(good, u=ADMIN, n="uadmin")
    elif tamper == "flip_the_signature":
        forged = good[:-2] + ("AA" if not good.endswith("AA") else "BB")
    elif tamper == "no_signature":
        forged = good.partition(".")[0]
    elif tamper == "signed_with_another_secret":
        other = site.settings.model_copy(update={"session_secret": SecretStr("x" * 40)})
        now = int(site.clock.now().timestamp())
        real = Cookies(site.settings).read_session(f"{SESSION}={good}", now=now).session
        assert real is not None
        forged = Cookies(other).session_cookie(real, now=now).split(";", 1)[0].split("=", 1)[1]
    else:
        forged = "%3Cscript%3E" + "A" * 3000
    web_session.cookies[SESSION] = forged
    answer = web_session.get("/report")
    assert answer.status == 401
    assert_signed_out_page(answer, "You are signed out")
    assert attributes(set_cookie(answer, SESSION))["max-age"] == "0"
    assert "uadmin" not in answer.text


def test_a_session_expires_after_cx_session_hours(site: Site, web_session: WebSession) -> None:
    sign_in(web_session, EMPLOYEE)
    site.clock.advance(timedelta(hours=11, minutes=59))
    assert web_session.get("/report").status == 200
    site.clock.advance(timedelta(minutes=2))
    answer = web_session.get("/report")
    assert answer.status == 401
    assert_signed_out_page(answer, "sessions last 12 hours")


# --- state, nonce and code -----------------------------------------------------------------------


def _with_query(url: str, **changes: str) -> str:
    parts = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(parts.query))
    query.update(changes)
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


def test_a_changed_state_is_a_sign_in_expired_page(site: Site, web_session: WebSession) -> None:
    authorize_url, _ = start(web_session)
    callback = approve(web_session, authorize_url, LEADER)
    forged = _with_query(callback, state="attacker-chosen-state-0123456789abcdef")
    answer = web_session.get(forged)
    assert answer.status == 400
    assert_signed_out_page(answer, "Your sign-in expired")
    assert SESSION not in web_session.cookies
    # Refused before the code was even traded.
    assert not site.emulator.calls("openid.connect.token")


def test_a_state_is_used_once(site: Site, web_session: WebSession) -> None:
    authorize_url, _ = start(web_session)
    pre_login = web_session.cookies[PRE_LOGIN]
    callback = approve(web_session, authorize_url, LEADER)
    assert web_session.get(callback).status == 303
    # The same callback again, even with the pre-login cookie put back as it was.
    replay = WebSession(site.base_url, cookies={PRE_LOGIN: pre_login})
    answer = replay.get(callback)
    assert answer.status == 400
    assert_signed_out_page(answer, "Your sign-in expired")
    assert SESSION not in replay.cookies
    assert len(site.emulator.calls("openid.connect.token")) == 1


def test_a_state_from_another_browser_signs_nobody_in(site: Site, web_session: WebSession) -> None:
    """Login CSRF: an attacker starts a sign-in as themselves and gets the victim's browser to
    finish it. The victim's browser never started that sign-in, so it is refused."""
    attacker = WebSession(site.base_url)
    authorize_url, _ = start(attacker)
    callback = approve(attacker, authorize_url, EMPLOYEE)
    start(web_session)  # the victim even has a sign-in of their own under way
    answer = web_session.get(callback)
    assert answer.status == 400
    assert_signed_out_page(answer, "Your sign-in expired")
    assert SESSION not in web_session.cookies


def test_an_expired_sign_in_is_refused(site: Site, web_session: WebSession) -> None:
    authorize_url, _ = start(web_session)
    callback = approve(web_session, authorize_url, LEADER)
    site.clock.advance(timedelta(minutes=11))
    answer = web_session.get(callback)
    assert answer.status == 400
    assert_signed_out_page(answer, "Your sign-in expired")
    assert SESSION not in web_session.cookies


def test_a_changed_nonce_is_refused_after_the_exchange(site: Site, web_session: WebSession) -> None:
    """The nonce is changed on the way to Slack, so the id_token Slack mints carries another
    one than the browser's sign-in: an id_token of another sign-in, refused."""
    authorize_url, _ = start(web_session)
    tampered = _with_query(authorize_url, nonce="attacker-nonce-0123456789abcdef0123")
    callback = approve(web_session, tampered, LEADER)
    answer = web_session.get(callback)
    assert answer.status == 400
    assert_signed_out_page(answer, "Your sign-in expired")
    assert SESSION not in web_session.cookies
    [token_call] = site.emulator.calls("openid.connect.token")
    assert token_call.response["ok"] is True  # Slack said yes; the nonce said no


def test_a_missing_nonce_is_refused(site: Site, web_session: WebSession) -> None:
    authorize_url, _ = start(web_session)
    parts = urllib.parse.urlsplit(authorize_url)
    query = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query) if k != "nonce"]
    stripped = urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))
    answer = web_session.get(approve(web_session, stripped, LEADER))
    assert answer.status == 400
    assert_signed_out_page(answer, "Your sign-in expired")
    assert SESSION not in web_session.cookies


def test_a_made_up_code_fails_politely(site: Site, web_session: WebSession) -> None:
    _, query = start(web_session)
    answer = web_session.get(f"/report/callback?code=T0SANDBOX-oidc-madeup&state={query['state']}")
    assert answer.status == 502
    assert_signed_out_page(answer, "Slack could not confirm who you are")
    assert SESSION not in web_session.cookies
    [token_call] = site.emulator.calls("openid.connect.token")
    assert token_call.response == {"ok": False, "error": "invalid_code"}


def test_the_next_page_never_leaves_the_report(site: Site, web_session: WebSession) -> None:
    for target in (
        "https://evil.example/",
        "//evil.example/report",
        "/\\evil.example",
        "/slack/events",
        "/report/logout",
    ):
        authorize_url, _ = start(web_session, next_path=target)
        done = web_session.get(approve(web_session, authorize_url, EMPLOYEE))
        assert done.status == 303
        assert done.location == f"{site.base_url}/report", target


# --- roles, checked again ----------------------------------------------------------------------


def test_leaving_the_leadership_channel_loses_access_within_the_recheck(
    site: Site, web_session: WebSession, emulator: SlackEmulator
) -> None:
    sign_in(web_session, LEADER)
    assert web_session.get("/report/heatmap").status == 200
    members = [m for m in ["UALPHA0", "UBETA0", ADMIN] if m != LEADER]
    emulator.add_channel(LEADERS_CHANNEL, "leadership", members)
    site.clock.advance(timedelta(seconds=299))
    assert web_session.get("/report/heatmap").status == 200  # not checked again yet
    before = web_session.cookies[SESSION]
    site.clock.advance(timedelta(seconds=2))
    refused = web_session.get("/report/heatmap")
    assert refused.status in {403, 404}, refused.text[:500]
    assert "Traceback" not in refused.text
    assert web_session.cookies[SESSION] != before  # reissued with the roles found
    assert web_session.get("/report").status == 200  # still signed in, as an employee


def test_a_team_lead_removed_in_app_home_loses_their_team(
    site: Site, web_session: WebSession
) -> None:
    sign_in(web_session, TEAM_LEAD)
    assert web_session.get("/report/teams/alpha").status == 200
    update_workspace_settings(
        config=site.deps.workspace,
        engine=site.deps.engine,
        base=site.deps.env,
        admin=ADMIN,
        changes={"team_leads": {"beta": ("UBETA1",)}},
        dimensions=len(site.deps.prompts.bank.rotating_dimensions),
        now=site.clock.now(),
    )
    assert web_session.get("/report/teams/alpha").status == 200
    site.clock.advance(timedelta(seconds=301))
    refused = web_session.get("/report/teams/alpha")
    assert refused.status in {403, 404}, refused.text[:500]


def test_roles_that_cannot_be_checked_are_not_extended(
    site: Site, web_session: WebSession, emulator: SlackEmulator
) -> None:
    sign_in(web_session, LEADER)
    site.clock.advance(timedelta(seconds=301))
    emulator.fail_next("conversations.members", error="internal_error", status=500, times=50)
    answer = web_session.get("/report/heatmap")
    assert answer.status == 503
    assert "Slack is not answering" in answer.text
    assert "Traceback" not in answer.text


# --- the report off, and the rate limit -------------------------------------------------------


def test_without_its_settings_the_report_says_what_turns_it_on(
    database_url: str, emulator: SlackEmulator
) -> None:
    from bot.clock import ManualClock
    from bot.runtime import build_deps
    from tests.e2e.conftest import TUESDAY_TEN

    deps = build_deps(make_settings(emulator, database_url), clock=ManualClock(TUESDAY_TEN))
    with ServedBot(deps) as bot:
        page = WebSession(bot.base_url)
        for path in ("/report", "/report/login", "/report/callback?code=x&state=y"):
            answer = page.get(path)
            assert answer.status == 404
            assert "The web report is not turned on" in answer.text
            for name in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "CX_PUBLIC_URL"):
                assert name in answer.text
            assert answer.header("Content-Security-Policy")
        assert page.get("/healthz").status == 200
    deps.engine.dispose()


def test_sign_ins_are_rate_limited_per_address(site: Site, web_session: WebSession) -> None:
    for _ in range(20):
        assert web_session.get("/report/login").status == 302
    limited = web_session.get("/report/login")
    assert limited.status == 429
    assert 1 <= int(limited.header("Retry-After") or 0) <= 60
    assert "Too many sign-in attempts" in limited.text
    # Callbacks count apart, so the sign-ins already under way can still finish.
    for _ in range(20):
        assert web_session.get("/report/callback?state=x").status == 400
    assert web_session.get("/report/callback?state=x").status == 429
