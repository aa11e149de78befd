"""The "Doesn't apply to me" button over signed HTTP: recorded as 0 through the same path as
every click, confirmed privately, listed in App Home, counted for participation and left out
of every published n; forged scores outside 0-5 are refused politely."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from bot.clock import ManualClock
from bot.db.models import NOT_APPLICABLE, PublishedCell, PublishedWeek, RoundKind
from bot.render.ids import ActionId
from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.harness import ServedBot
from bot.sandbox.people import (
    answered_in,
    click_score,
    confirmed,
    latest_dm,
    question_ids,
    wait_for,
)
from bot.services.context import Deps
from bot.services.publication import publish_due_weeks
from bot.services.rounds import send_round
from tests.e2e.conftest import Org, answers, ephemeral_texts


def _home_text(emulator: SlackEmulator, user: str) -> str:
    assert emulator.open_home(user).status == 200
    view: dict[str, Any] = wait_for(lambda: emulator.home_view(user))
    return json.dumps(view["blocks"], ensure_ascii=False)


def test_doesnt_apply_is_a_button_recorded_as_zero_and_confirmed_privately(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps
) -> None:
    send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
    person = org.teams["alpha"][2]
    dm = latest_dm(emulator, person)
    first = question_ids(dm)[0]
    block = next(b for b in dm["blocks"] if b.get("block_id") == f"q:{first}")
    labels = [e["text"]["text"] for e in block["elements"]]
    assert labels[-1] == "Doesn't apply to me"
    assert len(labels) == 6
    assert "past month" in dm["blocks"][0]["text"]["text"]

    assert click_score(emulator, person, first, NOT_APPLICABLE).status == 200
    wait_for(lambda: [(a.question_id, a.score) for a in answers(deps)] == [(first, 0)])
    # The DM says only that it is answered; the person alone sees what they chose.
    wait_for(lambda: answered_in(latest_dm(emulator, person)) == [first])
    line = wait_for(lambda: confirmed(emulator, person).get(first))
    assert line.startswith("Recorded: *Doesn't apply to me* for “")
    statement = deps.prompts.bank.questions_by_id[first][1].text
    assert f"{statement} - *Doesn't apply to me*" in _home_text(emulator, person)

    # A change of mind goes through the same row.
    click_score(emulator, person, first, 4)
    wait_for(lambda: [(a.question_id, a.score) for a in answers(deps)] == [(first, 4)])


@pytest.mark.parametrize("score", ["6", "-1", "05", "00", "9"])
def test_forged_scores_outside_the_buttons_are_refused_politely(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps, score: str
) -> None:
    send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
    person = org.teams["beta"][1]
    dm = latest_dm(emulator, person)
    first = question_ids(dm)[0]
    block = next(b for b in dm["blocks"] if b.get("block_id") == f"q:{first}")
    real = next(e for e in block["elements"] if e["action_id"] == f"{ActionId.ANSWER_PREFIX}0")
    round_id = real["value"].split("|")[0]
    sent = emulator.click_button(
        person,
        channel_id=emulator.dm_channel(person),
        message_ts=dm["ts"],
        action_id=f"{ActionId.ANSWER_PREFIX}0",
        block_id=block["block_id"],
        value=f"{round_id}|{first}|{score}",
    )
    assert sent.status == 200
    assert "couldn't read that" in wait_for(lambda: ephemeral_texts(emulator))[0]
    assert answers(deps) == []


def test_doesnt_apply_counts_for_participation_and_is_left_out_of_every_n(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps, clock: ManualClock
) -> None:
    send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
    outcome = set(deps.prompts.bank.outcome_questions)
    opting_out = set(org.teams["alpha"][1:3])  # the outcome doesn't apply to these two
    expected = 0
    for person in org.participants:
        for question in question_ids(latest_dm(emulator, person)):
            not_applicable = person in opting_out and question in outcome
            click_score(emulator, person, question, NOT_APPLICABLE if not_applicable else 4)
            expected += 1
    wait_for(lambda: len(answers(deps)) == expected, timeout=30)
    assert sum(a.score == NOT_APPLICABLE for a in answers(deps)) == 2 * len(outcome)

    clock.advance(timedelta(days=deps.settings.round_days, hours=1))
    [period] = publish_due_weeks(deps)
    with Session(deps.engine) as session:
        week = session.get(PublishedWeek, period)
        cells = {
            (c.dimension, c.group_kind, c.group_name): c
            for c in session.exec(select(PublishedCell).where(PublishedCell.period == period))
        }
    assert week is not None
    assert week.respondents == len(org.participants)  # everyone answered
    assert week.invited == len(org.participants)
    everyone = cells[("customer_outcome", "org", "")]
    assert everyone.people == len(org.participants) - 2
    scored = everyone.people * len(outcome)
    counts = (everyone.score_1, everyone.score_2, everyone.score_3, everyone.score_5)
    assert (everyone.score_4, counts) == (scored, (0, 0, 0, 0))
    # alpha's six all answered, but only four scored the outcome: under the minimum, hidden,
    # while its other dimensions, scored by all six, are shown.
    assert ("customer_outcome", "team", "alpha") not in cells
    rotating = {d for d, kind, name in cells if (kind, name) == ("team", "alpha")}
    assert rotating
    assert all(cells[(d, "team", "alpha")].people == 6 for d in rotating)
