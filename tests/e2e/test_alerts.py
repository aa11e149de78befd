"""Sensitive comments end to end, over signed HTTP: written in the comment modal, passed to the
admins by DM (at once, or by the scheduler's job within its 20 seconds when Slack fails at
first), never shown to leaders: the digest and its JSON only count them."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.clock import ManualClock
from bot.db import alerts as store
from bot.db.models import RoundKind
from bot.render.json_report import report_json
from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.harness import ServedBot
from bot.sandbox.people import latest_dm, open_comment_modal, question_ids, submit_comment, wait_for
from bot.services.context import Deps
from bot.services.publishing import post_digest
from bot.services.rounds import send_round
from tests.e2e.conftest import ADMIN, Org, last_digest, sandbox_env
from tests.privacy.insider import answer_everything, close_rounds

HARASSMENT = "My supervisor keeps harassing me and <@UALPHA0> laughs along."
FRENCH_SAFETY = "La sortie de secours de la réserve est bloquée par des palettes."
NEAR_MISS = "We had good harassment training this month, very practical."


def _comment(emulator: SlackEmulator, user: str, text: str) -> None:
    view = open_comment_modal(emulator, user)
    question = question_ids(latest_dm(emulator, user))[0]
    assert submit_comment(emulator, user, view, question, text).status == 200


def _alert_dms(emulator: SlackEmulator) -> list[dict[str, Any]]:
    return [
        m
        for m in emulator.messages(emulator.dm_channel(ADMIN))
        if "passed to you" in json.dumps(m.get("blocks"))
    ]


def _rows(deps: Deps) -> list[Any]:
    with deps.engine.connect() as connection:
        return list(connection.execute(select(store.ALERTS)))


def _week(deps: Deps, bot: ServedBot, emulator: SlackEmulator, org: Org) -> None:
    send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
    answer_everything(emulator, deps, dict.fromkeys(org.participants, 4))


def test_a_sensitive_comment_reaches_the_admins_and_the_digest_only_counts_it(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps, clock: ManualClock
) -> None:
    _week(deps, bot, emulator, org)
    author = org.teams["beta"][2]
    _comment(emulator, author, HARASSMENT)
    _comment(emulator, org.teams["beta"][3], FRENCH_SAFETY)
    _comment(emulator, org.teams["alpha"][3], NEAR_MISS)
    # Passed on right after the submission, before any scheduled run.
    dms = wait_for(lambda: (found := _alert_dms(emulator)) and len(found) == 2 and found)
    shown = [json.dumps(m["blocks"]) for m in dms]
    harassment = next(s for s in shown if "harassment" in s)
    assert "keeps harassing me and &lt;@UALPHA0&gt; laughs along" in harassment  # escaped
    assert "What to do next" in harassment
    assert author not in harassment  # no author: cx-pulse does not know it
    assert any("sortie de secours" in s and "a safety risk" in s for s in shown)
    assert _alert_dms(emulator) == dms  # the near miss went nowhere near the admins
    # Once delivered, the texts are gone; the rows stay, to be counted.
    assert [(r.delivered, r.text, r.sealed_text) for r in _rows(deps)] == [(True, None, None)] * 2

    close_rounds(deps, clock)
    report, _ = post_digest(deps, bot.gateway)
    digest = json.dumps(last_digest(emulator))
    assert "2 comments were passed to admins." in digest
    assert "harassing" not in digest
    assert "palettes" not in digest
    assert NEAR_MISS in digest  # an ordinary comment is shown as ever
    found = report_json(report)
    assert found["comments_passed_to_admins"] == 2
    assert "harassing" not in json.dumps(found)
    assert [c.text for c in report.comments] == [NEAR_MISS]


def test_when_slack_fails_at_submission_the_scheduler_delivers_within_its_twenty_seconds(
    bot: ServedBot,
    emulator: SlackEmulator,
    org: Org,
    deps: Deps,
    clock: ManualClock,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot import jobs

    _week(deps, bot, emulator, org)
    emulator.fail_next("chat.postMessage", error="fatal_error", status=200, times=1)
    _comment(emulator, org.teams["beta"][1], HARASSMENT)
    wait_for(lambda: [r for r in _rows(deps) if r.last_error == "fatal_error"])
    assert _alert_dms(emulator) == []
    (row,) = _rows(deps)
    assert not row.delivered
    assert row.text == HARASSMENT  # kept, queued, until it reaches an admin

    # The scheduler's job, as `cxpulse scheduler` runs it (its settings from the environment),
    # 20 seconds later on the injected clock.
    for name, value in sandbox_env(emulator, database_url).items():
        monkeypatch.setenv(name, value)
    clock.advance(timedelta(seconds=20))
    jobs.scheduled_alerts(clock=clock)
    (dm,) = _alert_dms(emulator)
    assert "keeps harassing me" in json.dumps(dm["blocks"])
    assert [(r.delivered, r.text) for r in _rows(deps)] == [(True, None)]
    jobs.scheduled_alerts(clock=clock)
    assert len(_alert_dms(emulator)) == 1  # once
