"""Retries, double clicks and racing clicks: one row per statement, ending on the last click."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from bot.db.models import RoundKind
from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.harness import ServedBot
from bot.sandbox.people import click_score, latest_dm, question_ids, wait_for
from bot.services.answers import record_answer
from bot.services.context import Deps
from bot.services.rounds import send_round
from tests.e2e.conftest import TUESDAY_TEN, Org, answers


def test_racing_clicks_end_on_the_last_click(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps
) -> None:
    report = send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
    user = org.teams["alpha"][2]
    question = question_ids(latest_dm(emulator, user))[0]
    clicks = [(TUESDAY_TEN + timedelta(seconds=i), 1 + i % 5) for i in range(20)]
    last_score = clicks[-1][1]
    random.Random(3).shuffle(clicks)  # processed in an order unrelated to when they were clicked

    def click(moment_score: tuple[object, int]) -> None:
        moment, score = moment_score
        record_answer(
            deps,
            slack_user_id=user,
            round_id=report.round_id,
            question_id=question,
            score=score,
            clicked_at=moment,  # type: ignore[arg-type]
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(click, clicks))
    stored = answers(deps)
    assert [(a.question_id, a.score) for a in stored] == [(question, last_score)]


def test_slack_retries_and_double_clicks_never_add_a_row(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps
) -> None:
    send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
    user = org.teams["beta"][1]
    question = question_ids(latest_dm(emulator, user))[0]
    for retry in (None, 1, 2):
        assert click_score(emulator, user, question, 3, retry_num=retry).status == 200
    for _ in range(3):
        click_score(emulator, user, question, 5)
    wait_for(lambda: [a.score for a in answers(deps)] == [5])
    assert len(answers(deps)) == 1
