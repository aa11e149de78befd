"""Team leads without Slack: the settings form's merge, its parsing, and the team-level
actions in prompts/ (every dimension, every language)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.prompts import load_prompts
from bot.render.ids import ActionId, BlockId
from bot.services.config import SettingsRejected
from bot.services.team_leads import merge_team_leads
from bot.slack.parsing import parse_settings_submission
from tests.test_prompts import SEED_FILES

PROMPTS = load_prompts()


def test_the_form_replaces_the_teams_it_showed_and_keeps_the_others() -> None:
    current = {"support": ("U1", "U2"), "sales": ("U3",), "hidden": ("U4",)}
    submitted = {"support": ("U2", "U2", "U5"), "sales": (), "billing": ("U6",)}
    assert merge_team_leads(current, submitted) == {
        "billing": ("U6",),
        "hidden": ("U4",),  # not in the form (beyond its cap): kept as it was
        "support": ("U2", "U5"),
    }


def test_leads_too_many_to_store_are_refused() -> None:
    many = {f"team-{i:03d}": (f"U{i:09d}",) for i in range(200)}
    with pytest.raises(SettingsRejected) as refused:
        merge_team_leads({}, many)
    assert refused.value.problems == {"team_leads": "team_leads.settings_error"}


def _view(leads: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {
        f"{BlockId.SETTINGS_TEAM_LEADS_PREFIX}{team}": {
            ActionId.SETTINGS_TEAM_LEADS: {"type": "multi_users_select", "selected_users": users}
        }
        for team, users in leads.items()
    }
    values[BlockId.SETTINGS_LEADERSHIP_CHANNEL] = {
        ActionId.SETTINGS_LEADERSHIP_CHANNEL: {"selected_conversation": "C0LEAD"}
    }
    values[BlockId.SETTINGS_PULSE_DAY] = {
        ActionId.SETTINGS_PULSE_DAY: {"selected_option": {"value": "tue"}}
    }
    values[BlockId.SETTINGS_PULSE_TIME] = {ActionId.SETTINGS_PULSE_TIME: {"selected_time": "10:00"}}
    values[BlockId.SETTINGS_QUESTIONS] = {
        ActionId.SETTINGS_QUESTIONS: {"selected_option": {"value": "4"}}
    }
    values[BlockId.SETTINGS_ROUND_DAYS] = {ActionId.SETTINGS_ROUND_DAYS: {"value": "5"}}
    values[BlockId.SETTINGS_MIN_GROUP] = {ActionId.SETTINGS_MIN_GROUP: {"value": "5"}}
    values[BlockId.SETTINGS_TEAM_SOURCE] = {
        ActionId.SETTINGS_TEAM_SOURCE: {"selected_option": {"value": "usergroups"}}
    }
    return {"state": {"values": values}}


def test_each_team_picker_is_read_into_team_leads() -> None:
    changes = parse_settings_submission(_view({"support": ["U1", "U2"], "sales": []}))
    assert changes["team_leads"] == {"support": ("U1", "U2"), "sales": ()}
    # A form without pickers (no team known yet) leaves the leads alone.
    assert "team_leads" not in parse_settings_submission(_view({}))


@pytest.mark.parametrize("users", ["U1", [1, 2], {"U1": True}])
def test_an_unreadable_team_picker_is_a_team_leads_problem(users: object) -> None:
    with pytest.raises(SettingsRejected) as refused:
        parse_settings_submission(_view({"support": users}))
    assert refused.value.problems == {"team_leads": "team_leads.settings_error"}


def test_every_dimension_has_team_actions_citing_a_seed_article() -> None:
    french = PROMPTS.for_locale("fr-FR")
    general = {n.id for items in PROMPTS.nudges.nudges.values() for n in items}
    for dimension in PROMPTS.bank.dimensions:
        actions = PROMPTS.nudges.team[dimension.id]
        assert len(actions) >= 2
        assert PROMPTS.nudges.for_team(dimension.id) == actions
        assert {a.source for a in actions} <= SEED_FILES
        assert not {a.id for a in actions} & general
        translated = french.nudges.for_team(dimension.id)
        assert [a.id for a in translated] == [a.id for a in actions]
        assert all(f.text != e.text for f, e in zip(translated, actions, strict=True))
        assert french.nudge_text(actions[0].id, "") == translated[0].text
