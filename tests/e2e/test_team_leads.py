"""Team leads over real HTTP: admins pick them per team in App Home, a lead sees their own
team (and only theirs) in `/cx team` and App Home, and a team's nudge reaches its leads or its
channel, never its other members, at most once a calendar week."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from bot.clock import ManualClock
from bot.db.engine import session_scope
from bot.db.models import TeamNudgeSent, WorkspaceSetting
from bot.render.ids import ActionId, BlockId
from bot.render.settings_modal import settings_modal
from bot.runtime import build_deps
from bot.sandbox.emulator import SlackEmulator, view_errors
from bot.sandbox.harness import ServedBot
from bot.sandbox.history import HistoryRow, generate_history
from bot.sandbox.org import Story, build_org
from bot.sandbox.people import wait_for
from bot.services.context import Deps
from bot.services.digest import build_digest
from bot.services.directory import refresh_directory
from bot.services.importer import ImportRow, import_answers
from bot.services.publishing import send_team_nudges
from bot.services.team_nudges import TEAM_NUDGE_KEY_PREFIX
from bot.settings import Settings
from tests.e2e.conftest import (
    ADMIN,
    LEADERS_CHANNEL,
    Org,
    cxpulse,
    ephemeral_texts,
    make_settings,
    process_env,
)
from tests.e2e.test_app_home import _open_home, _open_settings, _settings_values, _texts

SUPPORT_LEAD = "ULEADSUP"
TWO_TEAM_LEAD = "ULEADTWO"  # leads support and billing
TINY_LEAD = "ULEADTINY"  # leads a team too small to be shown
SUPPORT_MEMBERS = ["USUPPORT1", "USUPPORT2", "USUPPORT3"]
TEAM_LEADS = f"support={SUPPORT_LEAD} {TWO_TEAM_LEAD},billing={TWO_TEAM_LEAD},tiny={TINY_LEAD}"


@pytest.fixture
def deps(
    database_url: str, emulator: SlackEmulator, org: Org, clock: ManualClock
) -> Iterator[Deps]:
    """The suite's deps, with team leads set in the environment (CX_TEAM_LEADS)."""
    settings = make_settings(emulator, database_url, CX_TEAM_LEADS=TEAM_LEADS)
    built = build_deps(settings, clock=clock)
    yield built
    built.engine.dispose()


def _story_rows(deps: Deps) -> list[HistoryRow]:
    """Twelve weeks of 20-person teams in which support's and billing's empowerment clearly
    fall, plus a three-person team `tiny`, never shown, and six people in no team (so tiny
    cannot be worked out by subtraction, and every other team is shown)."""
    questions = {d.id: [q.id for q in d.questions] for d in deps.prompts.bank.dimensions}
    org = build_org(1000, people_per_team=20)

    def history(story: Story) -> list[HistoryRow]:
        return generate_history(
            org, questions, story, seed=1000, weeks=12, last_monday=date(2026, 11, 16)
        )

    support, billing = history(Story()), history(Story(declining_team="billing"))
    rows = [r for r in support if r.team != "billing"]
    rows += [r for r in billing if r.team == "billing"]
    # Twins of some sales people (sales does not fall): tiny's three, and six in no team.
    twins = {f"U03{i:03d}X": ("tiny", f"UTINY{i}") for i in range(1, 4)}
    twins |= {f"U03{i:03d}X": ("", f"UNOTEAM{i}") for i in range(4, 10)}
    rows += [
        replace(r, team=twins[r.respondent][0], respondent=twins[r.respondent][1])
        for r in support
        if r.respondent in twins
    ]
    return rows


def _import(deps: Deps) -> None:
    rows = _story_rows(deps)
    import_answers(
        deps,
        [
            ImportRow(
                i + 2,
                r.day,
                r.respondent,
                r.team or None,
                r.is_leader,
                r.question_id,
                r.score,
                None,
            )
            for i, r in enumerate(rows)
        ],
    )


@pytest.fixture
def story(deps: Deps, bot: ServedBot, emulator: SlackEmulator) -> Deps:
    """The imported story, and the leads and some support members present in Slack."""
    _import(deps)
    for user in [SUPPORT_LEAD, TWO_TEAM_LEAD, TINY_LEAD, *SUPPORT_MEMBERS]:
        emulator.add_user(user, user.lower(), tz="Europe/London")
    emulator.add_usergroup("S9", "support", "Support", [*SUPPORT_MEMBERS, SUPPORT_LEAD])
    with session_scope(deps.engine) as session:
        refresh_directory(
            session=session,
            gateway=bot.gateway,
            leadership_channel=LEADERS_CHANNEL,
            now=deps.clock.now(),
            forgotten=lambda _user: False,
        )
    return deps


def _reply(emulator: SlackEmulator, user: str, text: str, *, count: int = 1) -> list[str]:
    """Every ephemeral reply to one `/cx` command (a lead of two teams gets one per team):
    at least `count` of them, waited for, since each is posted on its own."""
    before = len(emulator.responses())
    assert emulator.send_slash_command(user, text).status == 200
    replies: list[str] = wait_for(
        lambda: found if len(found := ephemeral_texts(emulator)[before:]) >= count else None
    )
    return replies


def _nudges(emulator: SlackEmulator, user: str) -> list[dict[str, Any]]:
    """The team nudges in a person's DM with the bot, by their delivery key."""
    return [
        m
        for m in emulator.messages(emulator.dm_channel(user))
        if ((m.get("metadata") or {}).get("event_payload") or {})
        .get("key", "")
        .startswith(TEAM_NUDGE_KEY_PREFIX)
    ]


# --- /cx team and App Home ------------------------------------------------------------------


def test_a_lead_sees_their_own_team_and_is_refused_others(
    story: Deps, emulator: SlackEmulator, org: Org
) -> None:
    [own] = _reply(emulator, SUPPORT_LEAD, "team")  # no argument: their own team
    assert "*support* this week (2026-W47" in own
    assert "*Empowerment*" in own
    assert "down" in own.split("*Empowerment*")[1].split("\n")[0]
    assert own == _reply(emulator, SUPPORT_LEAD, "team support")[0]

    [refused] = _reply(emulator, SUPPORT_LEAD, "team sales")
    assert "you can only see the results of a team you lead" in refused
    assert "`sales`" in refused
    assert "favourable" not in refused

    both = _reply(emulator, TWO_TEAM_LEAD, "team", count=2)
    assert [text.split(" this week")[0] for text in both] == ["*billing*", "*support*"]

    # Too few people: hidden, and no list of the other teams to browse instead.
    [hidden] = _reply(emulator, TINY_LEAD, "team")
    assert "No results to show for *tiny* this week: fewer than 5 people" in hidden
    assert "`support`" not in hidden
    assert "favourable" not in hidden

    # Someone who leads nothing is refused; leaders still see any team, as before.
    [member] = _reply(emulator, SUPPORT_MEMBERS[0], "team support")
    assert "is only for leaders, team leads (for their own team) and cx-pulse admins" in member
    [leader] = _reply(emulator, org.leaders[0], "team sales")
    assert "*sales* this week (2026-W47" in leader
    assert "Tell me which team" in _reply(emulator, org.leaders[0], "team")[0]


def test_a_lead_sees_their_teams_latest_published_readings_in_app_home(
    story: Deps, emulator: SlackEmulator
) -> None:
    report = build_digest(story)
    support = next(t for t in report.findings.teams if t.team == "support")
    home = _texts(_open_home(emulator, TWO_TEAM_LEAD))
    assert "*Your team*" in home
    assert f"*support* (2026-W47, {support.respondents} people)" in home
    assert "*billing* (2026-W47" in home
    assert "*Empowerment*" in home.split("*support* (2026-W47")[1]
    assert "You see this as a team lead" in home

    tiny = _texts(_open_home(emulator, TINY_LEAD))
    assert "*tiny* (2026-W47): not shown - fewer than 5 people in it answered." in tiny
    assert "*Your team*" not in _texts(_open_home(emulator, SUPPORT_MEMBERS[0]))


# --- team nudges ----------------------------------------------------------------------------


def test_team_nudges_reach_only_the_leads_once_a_calendar_week(
    story: Deps, bot: ServedBot, emulator: SlackEmulator, clock: ManualClock
) -> None:
    report = build_digest(story)
    assert sorted(n.team for n in report.team_nudges) == ["billing", "support"]
    # The support lead gets support's; the lead of both gets both; nobody else gets any.
    assert send_team_nudges(story, bot.gateway, report) == 3
    [nudge] = _nudges(emulator, SUPPORT_LEAD)
    assert nudge["text"].startswith("*Your team support*: Empowerment has clearly slipped")
    assert "never anyone's individual answers" in nudge["text"]
    team_actions = [n.text for n in story.prompts.nudges.for_team("empowerment")]
    assert any(action in nudge["text"] for action in team_actions)
    both = sorted(m["text"].split("*")[1] for m in _nudges(emulator, TWO_TEAM_LEAD))
    assert both == ["Your team billing", "Your team support"]
    for member in SUPPORT_MEMBERS:
        assert emulator.messages(emulator.dm_channel(member)) == []
    assert _nudges(emulator, TINY_LEAD) == []

    # Sent again the same week (a second post, or another process): nothing more.
    assert send_team_nudges(story, bot.gateway, build_digest(story)) == 0
    assert len(_nudges(emulator, SUPPORT_LEAD)) == 1
    assert len(_nudges(emulator, TWO_TEAM_LEAD)) == 2

    # A claim lost with its record (say a database restored from backup) still sends no
    # second DM: the delivery key is found in the DM's history.
    with session_scope(story.engine) as session:
        for row in session.exec(select(TeamNudgeSent)).all():
            session.delete(row)
    assert send_team_nudges(story, bot.gateway, report) == 3
    assert len(_nudges(emulator, SUPPORT_LEAD)) == 1

    # A new calendar week may nudge again.
    clock.advance(timedelta(days=7))
    assert send_team_nudges(story, bot.gateway, report) == 3
    assert len(_nudges(emulator, SUPPORT_LEAD)) == 2


def test_a_team_with_a_channel_gets_its_nudge_there_and_its_leads_none(
    story: Deps, bot: ServedBot, emulator: SlackEmulator
) -> None:
    emulator.add_channel("C0SUPPORT", "support", [])
    settings = story.settings.model_copy(update={"team_channels": {"support": "C0SUPPORT"}})
    with_channel = Deps(env=settings, engine=story.engine, clock=story.clock, prompts=story.prompts)
    report = build_digest(with_channel)
    assert send_team_nudges(with_channel, bot.gateway, report) == 2  # channel, billing's lead
    [posted] = emulator.messages("C0SUPPORT")
    assert posted["text"].startswith("*A nudge for support*: Empowerment has clearly slipped")
    assert _nudges(emulator, SUPPORT_LEAD) == []
    assert [m["text"].split("*")[1] for m in _nudges(emulator, TWO_TEAM_LEAD)] == [
        "Your team billing"
    ]
    assert send_team_nudges(with_channel, bot.gateway, report) == 0
    assert len(emulator.messages("C0SUPPORT")) == 1


def test_a_team_with_no_lead_and_no_channel_nudges_nobody(
    story: Deps, bot: ServedBot, emulator: SlackEmulator
) -> None:
    settings = story.settings.model_copy(update={"team_leads": {}})
    leaderless = Deps(env=settings, engine=story.engine, clock=story.clock, prompts=story.prompts)
    assert send_team_nudges(leaderless, bot.gateway, build_digest(leaderless)) == 0
    dms = [
        c for c in emulator.calls("chat.postMessage") if c.params.get("channel") != LEADERS_CHANNEL
    ]
    assert dms == []


def test_posting_the_digest_twice_in_a_week_nudges_each_lead_once(
    story: Deps, emulator: SlackEmulator, database_url: str
) -> None:
    env = process_env(emulator, database_url, CX_TEAM_LEADS=TEAM_LEADS)
    first = cxpulse(env, "digest", "--post")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "3 team nudges sent." in first.stdout
    second = cxpulse(env, "digest", "--post")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "0 team nudges sent." in second.stdout
    assert len(_nudges(emulator, SUPPORT_LEAD)) == 1
    assert len(_nudges(emulator, TWO_TEAM_LEAD)) == 2
    for member in SUPPORT_MEMBERS:
        assert _nudges(emulator, member) == []


# --- the admins' settings -------------------------------------------------------------------


def _lead_blocks(modal: dict[str, Any]) -> dict[str, dict[str, Any]]:
    prefix = BlockId.SETTINGS_TEAM_LEADS_PREFIX
    return {
        b["block_id"].removeprefix(prefix): b
        for b in modal["blocks"]
        if str(b.get("block_id", "")).startswith(prefix)
    }


def _leads_values(leads: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    return {
        f"{BlockId.SETTINGS_TEAM_LEADS_PREFIX}{team}": {
            ActionId.SETTINGS_TEAM_LEADS: {"type": "multi_users_select", "selected_users": users}
        }
        for team, users in leads.items()
    }


def test_admins_pick_each_teams_leads_in_the_settings_modal(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps
) -> None:
    with session_scope(deps.engine) as session:  # the directory knows alpha, beta and gamma
        refresh_directory(
            session=session,
            gateway=bot.gateway,
            leadership_channel=LEADERS_CHANNEL,
            now=deps.clock.now(),
            forgotten=lambda _user: False,
        )
    modal = _open_settings(emulator, deps)
    pickers = _lead_blocks(modal)
    # The directory's teams, and those CX_TEAM_LEADS names; each starts at its leads in force.
    assert list(pickers) == ["alpha", "beta", "billing", "gamma", "support", "tiny"]
    assert {b["element"]["type"] for b in pickers.values()} == {"multi_users_select"}
    assert pickers["support"]["element"]["initial_users"] == [SUPPORT_LEAD, TWO_TEAM_LEAD]
    assert "initial_users" not in pickers["alpha"]["element"]
    assert pickers["alpha"]["label"]["text"] == "Leads of alpha"

    alpha = org.teams["alpha"]
    values = {
        **_settings_values(),
        **_leads_values(
            {
                "alpha": [alpha[1], alpha[2]],
                "beta": [],
                "billing": [],
                "gamma": [org.teams["gamma"][0]],
                "support": [SUPPORT_LEAD],
                "tiny": [TINY_LEAD],
            }
        ),
    }
    saved = emulator.submit_view(ADMIN, view_id=modal["id"], values=values)
    assert not (saved.json_body or {}).get("errors")
    assert deps.settings.team_leads == {
        "alpha": (alpha[1], alpha[2]),
        "gamma": (org.teams["gamma"][0],),
        "support": (SUPPORT_LEAD,),
        "tiny": (TINY_LEAD,),
    }
    with Session(deps.engine) as session:
        stored = session.get(WorkspaceSetting, "team_leads")
    assert stored is not None
    assert json.loads(stored.value)["alpha"] == [alpha[1], alpha[2]]
    summary = f"Team leads: alpha: <@{alpha[1]}>, <@{alpha[2]}>; gamma: <@{org.teams['gamma'][0]}>"
    wait_for(lambda: (v := emulator.home_view(ADMIN)) and summary in _texts(v))

    # The stored choice is what the modal opens with next time, and what `/cx team` follows.
    again = _lead_blocks(_open_settings(emulator, deps))
    assert again["alpha"]["element"]["initial_users"] == [alpha[1], alpha[2]]
    assert "initial_users" not in again["beta"]["element"]
    assert "billing" not in again  # in no directory team and led by nobody any more
    [refused] = _reply(emulator, TWO_TEAM_LEAD, "team billing")
    assert "is only for leaders, team leads" in refused


def test_an_unreadable_lead_picker_is_shown_beside_the_first_picker(
    bot: ServedBot, emulator: SlackEmulator, deps: Deps
) -> None:
    modal = _open_settings(emulator, deps)
    values = {**_settings_values(), **_leads_values({"support": "ULEADSUP"})}  # not a list
    refused = emulator.submit_view(ADMIN, view_id=modal["id"], values=values)
    errors = (refused.json_body or {}).get("errors", {})
    assert set(errors) == {f"{BlockId.SETTINGS_TEAM_LEADS_PREFIX}billing"}
    assert (
        "Please pick people as team leads" in errors[f"{BlockId.SETTINGS_TEAM_LEADS_PREFIX}billing"]
    )
    with Session(deps.engine) as session:
        assert session.exec(select(WorkspaceSetting)).all() == []


def test_the_settings_modal_caps_its_pickers_within_slacks_block_limit(deps: Deps) -> None:
    teams = [f"team{i:03d}" for i in range(150)]
    settings = Settings.model_validate(
        {**deps.env.model_dump(), "team_leads": {"team149": ("U0LATE",)}}
    )
    view = settings_modal(settings, deps.prompts, teams).to_dict()
    assert view_errors(view) == []
    assert len(view["blocks"]) == 100
    shown = _lead_blocks(view)
    assert next(iter(shown)) == "team000"
    assert "team149" not in shown
    note = view["blocks"][-1]["elements"][0]["text"]
    assert note.startswith(f"Showing {len(shown)} of 150 teams")


def test_doctor_names_the_teams_whose_nudge_would_reach_nobody(
    bot: ServedBot, emulator: SlackEmulator, deps: Deps, database_url: str
) -> None:
    with session_scope(deps.engine) as session:  # the directory knows alpha, beta and gamma
        refresh_directory(
            session=session,
            gateway=bot.gateway,
            leadership_channel=LEADERS_CHANNEL,
            now=deps.clock.now(),
            forgotten=lambda _user: False,
        )
    env = process_env(
        emulator, database_url, CX_TEAM_LEADS="alpha=UALPHA0", CX_TEAM_CHANNELS="beta=C0BETA"
    )
    result = cxpulse(env, "doctor")
    [line] = [line for line in result.stdout.splitlines() if " Team nudges: " in line]
    assert line.startswith("✓")  # a note, not a failure
    assert "1 of 3 teams have no lead and no nudge channel" in line
    assert "CX_TEAM_CHANNELS: gamma" in result.stdout
