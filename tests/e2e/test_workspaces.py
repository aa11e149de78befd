"""Many workspaces, one deployment: OAuth installs over HTTP, encrypted tokens, and two
workspaces that never see each other's members, answers, digests or settings."""

from __future__ import annotations

import re
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
import sqlalchemy
from cryptography.fernet import Fernet
from sqlmodel import Session, select

from bot.clock import ManualClock
from bot.db.models import Answer, Member, WorkspaceSetting
from bot.render.json_report import report_json
from bot.runtime import build_deps
from bot.sandbox.emulator import BOT_USER_ID, SlackEmulator
from bot.sandbox.front import SlackFront
from bot.sandbox.harness import ServedBot
from bot.sandbox.people import click_score, latest_dm, pulse_now, question_ids, wait_for
from bot.services.admin_settings import change_settings
from bot.services.context import Deps
from bot.services.digest import build_digest
from bot.services.ports import SlackGateway
from bot.settings import Settings
from bot.slack.gateway import make_gateway, make_web_client
from bot.slack.installations import installation_store
from bot.tenancy import Workspaces
from tests.e2e.conftest import LEADERS_CHANNEL, PSEUDONYM_KEY, SECRET, TUESDAY_TEN, cxpulse

CLIENT_ID = "1234.5678"
CLIENT_SECRET = "test-client-secret"


@dataclass
class Tenant:
    emulator: SlackEmulator
    admin: str
    people: list[str]


def _workspace(team_id: str, prefix: str, size: int) -> Tenant:
    emulator = SlackEmulator(
        bot_token=f"xoxb-{prefix.lower()}-token",
        signing_secret=SECRET,
        team_id=team_id,
        team_name=f"{prefix} Inc",
    ).start()
    emulator.enable_oauth(CLIENT_ID, CLIENT_SECRET)
    people = [f"U{prefix}{i}" for i in range(size)]
    for user in people:
        emulator.add_user(user, user.lower())
    emulator.add_usergroup(f"S{prefix}", "crew", "Crew", people)
    emulator.add_channel(LEADERS_CHANNEL, "leadership", [people[0], BOT_USER_ID])
    return Tenant(emulator, people[0], people)


@pytest.fixture
def tenants() -> Iterator[tuple[Tenant, Tenant]]:
    acme, globex = _workspace("T0ACME", "ACME", 7), _workspace("T0GLOBEX", "GLOBEX", 6)
    yield acme, globex
    acme.emulator.stop()
    globex.emulator.stop()


@pytest.fixture
def front(tenants: tuple[Tenant, Tenant]) -> Iterator[SlackFront]:
    with SlackFront([t.emulator for t in tenants]) as served:
        yield served


@pytest.fixture
def environment(
    front: SlackFront, tenants: tuple[Tenant, Tenant], database_url: str
) -> dict[str, str]:
    """One deployment serving many workspaces: OAuth credentials, no bot token."""
    return {
        "SLACK_CLIENT_ID": CLIENT_ID,
        "SLACK_CLIENT_SECRET": CLIENT_SECRET,
        "CX_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": front.api_url,
        "DATABASE_URL": database_url,
        "CX_LEADERSHIP_CHANNEL": LEADERS_CHANNEL,
        "CX_ADMINS": ",".join(t.admin for t in tenants),
        "CX_TIMEZONE": "Europe/London",
        "CX_SEND_RATE": "100",
        "CX_PSEUDONYM_KEY": PSEUDONYM_KEY,
    }


@pytest.fixture
def settings(environment: dict[str, str]) -> Settings:
    return Settings.model_validate(environment)


@pytest.fixture
def served(
    settings: Settings, tenants: tuple[Tenant, Tenant]
) -> Iterator[tuple[ServedBot, Workspaces]]:
    clock = ManualClock(TUESDAY_TEN)
    main = build_deps(settings, clock=clock)
    workspaces = Workspaces(settings, clock=clock)
    with ServedBot(main, workspaces=workspaces) as bot:
        for tenant in tenants:
            tenant.emulator.set_app_url(bot.events_url)
        yield bot, workspaces
    workspaces.close()
    main.engine.dispose()


def _install(bot: ServedBot, tenant: Tenant) -> str:
    """An admin opens /slack/install, clicks Allow in Slack, and comes back to the redirect."""
    with urllib.request.urlopen(f"{bot.base_url}/slack/install") as page:  # noqa: S310 - loopback
        html = page.read().decode()
        # Bolt's state cookie is `Secure` (production is https); a browser sends it back.
        cookie = page.headers["Set-Cookie"].split(";", 1)[0]
    state = re.search(r"state=([^&\"']+)", html)
    assert state is not None, html
    code = tenant.emulator.approve_install(tenant.admin)
    query = urllib.parse.urlencode({"code": code, "state": urllib.parse.unquote(state.group(1))})
    redirect = f"{bot.base_url}/slack/oauth_redirect?{query}"
    request = urllib.request.Request(redirect, headers={"Cookie": cookie})  # noqa: S310
    with urllib.request.urlopen(request) as done:  # noqa: S310 - loopback
        return str(done.read().decode())


def _gateway(settings: Settings, tenant: Tenant) -> SlackGateway:
    return make_gateway(settings, make_web_client(settings, token=tenant.emulator.bot_token))


def _answer_everything(tenant: Tenant, deps: Deps, score: int) -> None:
    for person in tenant.people:
        for question in question_ids(latest_dm(tenant.emulator, person)):
            click_score(tenant.emulator, person, question, score)
    expected = len(tenant.people) * len(question_ids(latest_dm(tenant.emulator, tenant.admin)))
    wait_for(lambda: _count(deps, Answer) == expected, timeout=20)


def _count(deps: Deps, table: type[Answer] | type[Member]) -> int:
    with Session(deps.engine) as session:
        return len(session.exec(select(table)).all())


def test_two_installed_workspaces_never_see_each_other(
    served: tuple[ServedBot, Workspaces], tenants: tuple[Tenant, Tenant], settings: Settings
) -> None:
    bot, workspaces = served
    acme, globex = tenants
    for tenant in tenants:
        # Bolt's success page sends the browser back into the workspace just installed.
        assert f"slack://app?team={tenant.emulator.team_id}" in _install(bot, tenant)

    # Tokens are stored encrypted; the store hands them back decrypted.
    main_engine = bot.deps.engine
    with main_engine.connect() as connection:
        stored = [
            row[0]
            for row in connection.execute(sqlalchemy.text("SELECT bot_token FROM slack_bots"))
        ]
    assert len(stored) == 2
    assert not any("xoxb" in token for token in stored)
    store = installation_store(settings, main_engine)
    assert {(w.team_id, w.bot_token) for w in store.workspaces()} == {
        (t.emulator.team_id, t.emulator.bot_token) for t in tenants
    }

    # Each admin starts a round in their own workspace, over signed HTTP (asked, then sent).
    for tenant in tenants:
        assert pulse_now(tenant.emulator, tenant.admin).status == 200
    acme_deps, globex_deps = (workspaces.deps_for(t.emulator.team_id) for t in tenants)
    wait_for(
        lambda: all(
            t.emulator.messages(t.emulator.dm_channel(p)) for t in tenants for p in t.people
        ),
        timeout=20,
    )
    _answer_everything(acme, acme_deps, 5)
    _answer_everything(globex, globex_deps, 1)

    # Members and answers live only in their own workspace's database.
    with Session(acme_deps.engine) as session:
        assert {m.slack_user_id for m in session.exec(select(Member))} == set(acme.people)
    with Session(globex_deps.engine) as session:
        assert {m.slack_user_id for m in session.exec(select(Member))} == set(globex.people)
    assert _count(acme_deps, Answer) != _count(globex_deps, Answer)

    # Digests (once the rounds have closed): each counts only its own people and scores.
    assert isinstance(acme_deps.clock, ManualClock)
    acme_deps.clock.advance(timedelta(days=acme_deps.settings.round_days, hours=1))
    acme_report = report_json(build_digest(acme_deps))
    globex_report = report_json(build_digest(globex_deps))
    assert {d["respondents"] for d in acme_report["dimensions"]} == {len(acme.people)}
    assert {d["respondents"] for d in globex_report["dimensions"]} == {len(globex.people)}
    assert {d["mean"] for d in acme_report["dimensions"]} == {5.0}
    assert {d["mean"] for d in globex_report["dimensions"]} == {1.0}

    # Settings: one workspace's admin changes only that workspace.
    change_settings(acme_deps, admin=acme.admin, changes={"min_group_size": 7})
    assert acme_deps.settings.min_group_size == 7
    assert globex_deps.settings.min_group_size == 5
    with Session(globex_deps.engine) as session:
        assert session.exec(select(WorkspaceSetting)).all() == []


def test_a_workspace_that_never_installed_is_refused_and_nothing_is_written(
    served: tuple[ServedBot, Workspaces], tenants: tuple[Tenant, Tenant]
) -> None:
    bot, workspaces = served
    acme, _ = tenants
    _install(bot, acme)
    stranger = SlackEmulator(bot_token="xoxb-nope", signing_secret=SECRET, team_id="T0NOPE").start()
    try:
        stranger.add_user("UNOPE", "nope")
        stranger.set_app_url(bot.events_url)
        refused = stranger.send_slash_command("UNOPE", "pulse")
        # Bolt answers politely through the response URL: install the app first.
        assert refused.status == 200
        wait_for(lambda: stranger.responses(refused.response_url))
        assert "install this app" in stranger.responses(refused.response_url)[0]["text"]
        assert stranger.calls("chat.postMessage") == []
        assert stranger.calls("users.list") == []
    finally:
        stranger.stop()
    assert "T0NOPE" not in workspaces.known()  # no database was made for it
    acme_deps = workspaces.deps_for(acme.emulator.team_id)
    assert _count(acme_deps, Member) == 0  # no round was started anywhere


def test_scheduled_jobs_run_for_every_installed_workspace(
    served: tuple[ServedBot, Workspaces],
    tenants: tuple[Tenant, Tenant],
    environment: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot import jobs

    bot, workspaces = served
    for tenant in tenants:
        _install(bot, tenant)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    clock = ManualClock(TUESDAY_TEN)  # the default pulse time: this week's round is due
    jobs.scheduled_pulse(clock)
    for tenant in tenants:
        deps = workspaces.deps_for(tenant.emulator.team_id)
        assert _count(deps, Member) == len(tenant.people)
        for person in tenant.people:
            assert len(tenant.emulator.messages(tenant.emulator.dm_channel(person))) == 1
    jobs.scheduled_pulse(clock)  # a second run sends nothing twice
    assert all(
        len(t.emulator.messages(t.emulator.dm_channel(p))) == 1 for t in tenants for p in t.people
    )


def test_doctor_checks_every_installed_workspace(
    served: tuple[ServedBot, Workspaces],
    tenants: tuple[Tenant, Tenant],
    environment: dict[str, str],
) -> None:
    bot, _ = served
    env = {"PATH": "/usr/bin:/bin", **environment}
    before = cxpulse(env, "doctor")
    assert before.returncode == 1
    assert "no workspace has installed the app yet" in before.stdout
    for tenant in tenants:
        _install(bot, tenant)
    after = cxpulse(env, "doctor")
    assert after.returncode == 0, after.stdout
    for tenant in tenants:
        assert f"Bot token ({tenant.emulator.team_id}): valid" in after.stdout
        assert f"Bot scopes ({tenant.emulator.team_id})" in after.stdout
    assert "xoxb" not in after.stdout + after.stderr
