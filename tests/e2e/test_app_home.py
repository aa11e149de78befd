"""App Home over signed HTTP: what each role sees, its buttons, and the admins' settings modal."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from bot.clock import ManualClock
from bot.db.models import PulseRound, RoundKind, WorkspaceSetting
from bot.render.ids import ActionId, BlockId
from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.harness import ServedBot
from bot.sandbox.people import click_score, latest_dm, question_ids, wait_for
from bot.services.context import Deps
from bot.services.publishing import post_digest
from bot.services.rounds import send_round
from tests.e2e.conftest import ADMIN, LEADERS_CHANNEL, Org, answers, member


def _texts(view: dict[str, Any]) -> str:
    """Every piece of text in a view, for assertions."""
    parts: list[str] = []
    for block in view.get("blocks", []):
        text = block.get("text")
        if isinstance(text, dict):
            parts.append(text.get("text", ""))
        for element in block.get("elements", []) or []:
            if isinstance(element.get("text"), str):
                parts.append(element["text"])
            elif isinstance(element.get("text"), dict):
                parts.append(element["text"].get("text", ""))
    return "\n".join(parts)


def _open_home(emulator: SlackEmulator, user: str, *, after: dict[str, Any] | None = None) -> Any:
    """Open the Home tab and wait for the bot to publish a view (a newer one than `after`)."""
    before = (after or {}).get("hash")
    sent = emulator.open_home(user)
    assert sent.status == 200
    return wait_for(
        lambda: (view := emulator.home_view(user)) is not None and view["hash"] != before and view
    )


def _click(emulator: SlackEmulator, user: str, view: dict[str, Any], action: str) -> Any:
    block = next(
        b["block_id"]
        for b in view["blocks"]
        if any(e.get("action_id") == action for e in b.get("elements", []) or [])
    )
    sent = emulator.click_in_view(
        user, view_id=view["id"], action_id=action, block_id=block, value="x"
    )
    assert sent.status == 200
    return sent


def _settings_values(**overrides: Any) -> dict[str, dict[str, dict[str, Any]]]:
    """What Slack sends for the settings form; `overrides` replace single fields."""
    fields: dict[str, Any] = {
        "channel": LEADERS_CHANNEL,
        "day": "wed",
        "time": "09:30",
        "questions": "5",
        "days": "3",
        "size": "6",
        "source": "usergroups",
        "channels": "alpha=C0ALPHA",
        "paused": [],
        **overrides,
    }

    def select(value: str) -> dict[str, Any]:
        return {"type": "static_select", "selected_option": {"value": value}}

    return {
        BlockId.SETTINGS_LEADERSHIP_CHANNEL: {
            ActionId.SETTINGS_LEADERSHIP_CHANNEL: {
                "type": "conversations_select",
                "selected_conversation": fields["channel"],
            }
        },
        BlockId.SETTINGS_PULSE_DAY: {ActionId.SETTINGS_PULSE_DAY: select(fields["day"])},
        BlockId.SETTINGS_PULSE_TIME: {
            ActionId.SETTINGS_PULSE_TIME: {"type": "timepicker", "selected_time": fields["time"]}
        },
        BlockId.SETTINGS_QUESTIONS: {ActionId.SETTINGS_QUESTIONS: select(fields["questions"])},
        BlockId.SETTINGS_ROUND_DAYS: {
            ActionId.SETTINGS_ROUND_DAYS: {"type": "number_input", "value": fields["days"]}
        },
        BlockId.SETTINGS_MIN_GROUP: {
            ActionId.SETTINGS_MIN_GROUP: {"type": "number_input", "value": fields["size"]}
        },
        BlockId.SETTINGS_TEAM_SOURCE: {
            ActionId.SETTINGS_TEAM_SOURCE: {
                "type": "radio_buttons",
                "selected_option": {"value": fields["source"]},
            }
        },
        BlockId.SETTINGS_TEAM_CHANNELS: {
            ActionId.SETTINGS_TEAM_CHANNELS: {
                "type": "plain_text_input",
                "value": fields["channels"],
            }
        },
        BlockId.SETTINGS_PAUSED: {
            ActionId.SETTINGS_PAUSED: {
                "type": "checkboxes",
                "selected_options": [{"value": v} for v in fields["paused"]],
            }
        },
    }


def _stored(deps: Deps) -> dict[str, str]:
    with Session(deps.engine) as session:
        return {row.key: row.value for row in session.exec(select(WorkspaceSetting))}


def _open_settings(emulator: SlackEmulator, deps: Deps) -> dict[str, Any]:
    home = _open_home(emulator, ADMIN)
    sent = _click(emulator, ADMIN, home, ActionId.HOME_OPEN_SETTINGS)
    modal: dict[str, Any] = wait_for(lambda: emulator.view_for_trigger(sent.trigger_id or ""))
    return modal


def test_everyone_sees_their_next_pulse_streak_and_only_their_own_answers(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps
) -> None:
    person, neighbour = org.teams["beta"][2], org.teams["beta"][3]
    first = _open_home(emulator, person)
    text = _texts(first)
    # Tuesday 10:00 now; the next scheduled pulse is a week away, shown in their own zone.
    assert "Your next pulse:" in text
    assert "Tue 1 Dec, 10:00 (Europe/London)" in text
    assert "No answers yet" in text
    assert "Why we ask" in text
    assert "For leaders" not in text
    assert "Settings" not in text
    assert any(
        e.get("action_id") == ActionId.HOME_OPT_OUT
        for b in first["blocks"]
        for e in b.get("elements", []) or []
    )

    send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
    asked = question_ids(latest_dm(emulator, person))
    click_score(emulator, person, asked[0], 5)
    wait_for(lambda: len(answers(deps)) == 1)
    mine = _texts(_open_home(emulator, person, after=first))
    statement = deps.prompts.bank.questions_by_id[asked[0]][1].text
    assert f"{statement} - *{deps.prompts.bank.label(5)}*" in mine
    assert "answered the latest pulse" in mine
    theirs = _texts(_open_home(emulator, neighbour))
    assert statement not in theirs.split("Why we ask")[0]
    assert "No answers yet" in theirs


def test_opting_out_and_back_in_from_home(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps
) -> None:
    person = org.teams["alpha"][3]
    home = _open_home(emulator, person)
    _click(emulator, person, home, ActionId.HOME_OPT_OUT)
    stopped = wait_for(
        lambda: (v := emulator.home_view(person)) and v["hash"] != home["hash"] and v
    )
    assert "You have opted out" in _texts(stopped)
    found = member(deps, person)
    assert found is not None
    assert found.opted_out
    send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
    assert emulator.messages(emulator.dm_channel(person)) == []

    _click(emulator, person, stopped, ActionId.HOME_OPT_IN)
    wait_for(lambda: (m := member(deps, person)) is not None and not m.opted_out)


def test_leaders_see_the_latest_posted_digest_and_others_do_not(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps, clock: ManualClock
) -> None:
    leader = org.leaders[0]
    assert "No digest has been posted yet" in _texts(_open_home(emulator, leader))

    send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
    for person in org.participants:
        for question in question_ids(latest_dm(emulator, person)):
            click_score(emulator, person, question, 2 if person in org.leaders else 4)
    wait_for(lambda: len(answers(deps)) >= len(org.participants) * 4)
    clock.advance(timedelta(days=deps.settings.round_days, hours=1))
    report, _ = post_digest(deps, bot.gateway)

    seen = _texts(_open_home(emulator, leader, after=emulator.home_view(leader)))
    # The published week's participation, exactly as the digest showed it.
    assert f"Latest digest ({report.period}):* 18 people answered (100% of those asked)." in seen
    assert "Focus this week" in seen
    assert "Latest digest" not in _texts(_open_home(emulator, org.teams["beta"][4]))


def test_admins_change_settings_with_inline_errors_and_nothing_half_saved(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps
) -> None:
    modal = _open_settings(emulator, deps)
    assert modal["callback_id"] == "settings_modal"

    # Two problems at once: both shown beside their fields, nothing stored.
    refused = emulator.submit_view(
        ADMIN, view_id=modal["id"], values=_settings_values(size="2", days="30")
    )
    errors = (refused.json_body or {}).get("errors", {})
    assert set(errors) == {BlockId.SETTINGS_MIN_GROUP, BlockId.SETTINGS_ROUND_DAYS}
    assert "at least 3 people" in errors[BlockId.SETTINGS_MIN_GROUP]
    assert _stored(deps) == {}

    refused = emulator.submit_view(
        ADMIN, view_id=modal["id"], values=_settings_values(source="channels", channels="")
    )
    errors = (refused.json_body or {}).get("errors", {})
    assert set(errors) == {BlockId.SETTINGS_TEAM_SOURCE}
    refused = emulator.submit_view(
        ADMIN, view_id=modal["id"], values=_settings_values(channels="alpha C0ALPHA")
    )
    assert set((refused.json_body or {}).get("errors", {})) == {BlockId.SETTINGS_TEAM_CHANNELS}
    assert _stored(deps) == {}

    saved = emulator.submit_view(ADMIN, view_id=modal["id"], values=_settings_values())
    assert saved.status == 200
    assert not (saved.json_body or {}).get("errors")
    settings = deps.settings
    assert settings.pulse_schedule == "wed 09:30"
    assert (settings.questions_per_round, settings.round_days) == (5, 3)
    assert settings.min_group_size == 6
    assert settings.team_channels == {"alpha": "C0ALPHA"}
    # The environment keeps its own values; only what changed was stored.
    assert deps.env.min_group_size == 5
    assert "leadership_channel" not in _stored(deps)
    home = wait_for(
        lambda: (v := emulator.home_view(ADMIN)) and "Wednesday 09:30" in _texts(v) and v
    )
    assert "Smallest group shown: 6 people" in _texts(home)

    # The next round follows the stored settings: "five statements" (four rotating ones and
    # the outcome, whose two items both come every time), open three days.
    send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
    assert len(question_ids(latest_dm(emulator, org.teams["alpha"][1]))) == 6
    with Session(deps.engine) as session:
        pulse_round = session.exec(select(PulseRound)).one()
    assert (pulse_round.closes_at - pulse_round.opened_at).days == 3


def test_only_admins_reach_settings_even_with_a_forged_view(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps
) -> None:
    modal = _open_settings(emulator, deps)
    someone = org.teams["alpha"][2]
    refused = emulator.submit_view(someone, view_id=modal["id"], values=_settings_values())
    assert "only cx-pulse admins" in str((refused.json_body or {}).get("errors"))
    assert _stored(deps) == {}

    # The button itself, clicked from a non-admin's own Home tab: no modal, a fresh Home tab.
    home = _open_home(emulator, someone)
    sent = emulator.click_in_view(
        someone,
        view_id=home["id"],
        action_id=ActionId.HOME_OPEN_SETTINGS,
        block_id=BlockId.HOME_ADMIN_ACTIONS,
        value="open",
    )
    assert sent.status == 200
    wait_for(lambda: (v := emulator.home_view(someone)) and v["hash"] != home["hash"])
    assert emulator.view_for_trigger(sent.trigger_id or "") is None
    sent = emulator.click_in_view(
        someone,
        view_id=home["id"],
        action_id=ActionId.HOME_PAUSE,
        block_id=BlockId.HOME_ADMIN_ACTIONS,
        value="pause",
    )
    assert sent.status == 200
    assert not deps.settings.paused
    assert _stored(deps) == {}


def test_pausing_from_home_stops_scheduled_rounds(
    bot: ServedBot,
    emulator: SlackEmulator,
    org: Org,
    deps: Deps,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot import jobs
    from tests.e2e.conftest import sandbox_env

    home = _open_home(emulator, ADMIN)
    _click(emulator, ADMIN, home, ActionId.HOME_PAUSE)
    paused = wait_for(
        lambda: (v := emulator.home_view(ADMIN)) and "Status: paused" in _texts(v) and v
    )
    assert "Pulses are paused" in _texts(paused)
    assert deps.settings.paused

    for name, value in sandbox_env(emulator, database_url).items():
        monkeypatch.setenv(name, value)
    # Tuesday 10:00 on the test's clock: the default pulse time, so a round is due right now.
    jobs.scheduled_pulse(deps.clock)  # the scheduler's own view of the same database
    with Session(deps.engine) as session:
        assert session.exec(select(PulseRound)).all() == []

    _click(emulator, ADMIN, paused, ActionId.HOME_RESUME)
    wait_for(lambda: not deps.settings.paused)
    jobs.scheduled_pulse(deps.clock)
    with Session(deps.engine) as session:
        assert len(session.exec(select(PulseRound)).all()) == 1
    assert emulator.messages(emulator.dm_channel(org.teams["alpha"][1]))


def test_teams_can_come_from_channels(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps
) -> None:
    emulator.add_channel("C0ALPHA", "team-alpha", org.teams["alpha"][:5])
    emulator.add_channel("C0BETA", "team-beta", org.teams["beta"])
    modal = _open_settings(emulator, deps)
    saved = emulator.submit_view(
        ADMIN,
        view_id=modal["id"],
        values=_settings_values(source="channels", channels="alpha=C0ALPHA\nbeta = #C0BETA"),
    )
    assert not (saved.json_body or {}).get("errors")
    send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
    in_channel, not_in_channel = (
        member(deps, org.teams["alpha"][0]),
        member(deps, org.teams["alpha"][5]),
    )
    assert in_channel is not None
    assert in_channel.team == "alpha"
    assert not_in_channel is not None
    assert not_in_channel.team is None
    beta = member(deps, org.teams["beta"][1])
    assert beta is not None
    assert beta.team == "beta"


def test_home_speaks_the_persons_language(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps
) -> None:
    person = org.teams["beta"][5]
    emulator.add_user(person, person.lower(), tz="Europe/Paris", locale="fr-FR")
    send_round(deps, bot.gateway, kind=RoundKind.ADHOC)  # the directory learns the locale
    asked = question_ids(latest_dm(emulator, person))
    click_score(emulator, person, asked[0], 4)
    wait_for(lambda: len(answers(deps)) == 1)
    text = _texts(_open_home(emulator, person))
    assert "Votre prochain pulse" in text
    assert "(Europe/Paris)" in text
    assert "Pourquoi nous le demandons" in text
    french = deps.prompts.for_locale("fr-FR")
    assert french.statement(asked[0], "") in text
    assert deps.prompts.statement(asked[0], "") not in text
