"""`/cx forget-me` and the retention purge, driven over real HTTP against the emulator."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import Session, select

from bot.clock import ManualClock
from bot.db.models import Delivery, ForgottenMember, PublishedCell, PulseRound, RoundKind
from bot.render.ids import ActionId, BlockId
from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.harness import ServedBot
from bot.sandbox.people import (
    latest_dm,
    open_comment_modal,
    question_ids,
    submit_comment,
    wait_for,
)
from bot.services.context import Deps
from bot.services.digest import build_digest
from bot.services.privacy import purge_old_answers
from bot.services.rounds import send_round
from tests.e2e.conftest import Org, answer_each, answers, comment_texts, make_settings, member


def _answer_all(emulator: SlackEmulator, deps: Deps, users: list[str], score: int) -> None:
    answer_each(emulator, deps, dict.fromkeys(users, score))


def _last_ephemeral(emulator: SlackEmulator, user: str) -> dict[str, Any]:
    return wait_for(lambda: emulator.ephemerals(user))[-1]


def _click_in(emulator: SlackEmulator, user: str, ephemeral: dict[str, Any], action: str) -> None:
    sent = emulator.click_button(
        user,
        channel_id=ephemeral["channel"],
        message_ts=ephemeral["message_ts"],
        action_id=action,
        block_id=BlockId.FORGET_ME,
        value="confirm" if action == ActionId.FORGET_ME_CONFIRM else "cancel",
    )
    assert sent.status == 200


def _deliveries(deps: Deps) -> list[Delivery]:
    with Session(deps.engine) as session:
        return list(session.exec(select(Delivery)).all())


def test_forget_me_asks_first_then_deletes_only_that_persons_data(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps, clock: ManualClock
) -> None:
    send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
    leaver, stayer = org.teams["alpha"][3], org.teams["alpha"][4]
    _answer_all(emulator, deps, [leaver, stayer], 2)
    view = open_comment_modal(emulator, leaver)
    submit_comment(emulator, leaver, view, deps.prompts.bank.outcome_questions[-1], "my own words")
    wait_for(lambda: comment_texts(deps))
    before = len(answers(deps))
    per_person = before // 2

    leaver_row = member(deps, leaver)
    assert leaver_row is not None
    emulator.send_slash_command(leaver, "forget-me")
    # The comment's private confirmation may land after the command's reply: wait for the question.
    question = wait_for(
        lambda: [e for e in emulator.ephemerals(leaver) if "Delete everything" in e["text"]]
    )[-1]
    assert "Delete everything cx-pulse holds about you?" in question["text"]
    buttons = [
        e["action_id"] for b in question["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]
    assert buttons == [ActionId.FORGET_ME_CONFIRM, ActionId.FORGET_ME_CANCEL]
    assert len(answers(deps)) == before  # asking deletes nothing

    _click_in(emulator, leaver, question, ActionId.FORGET_ME_CANCEL)
    wait_for(lambda: "Nothing was deleted." in emulator.responses()[-1]["text"])
    assert len(answers(deps)) == before
    assert member(deps, leaver) is not None

    _click_in(emulator, leaver, question, ActionId.FORGET_ME_CONFIRM)
    wait_for(lambda: emulator.responses()[-1]["text"].startswith("Done:"))
    assert f"{per_person} answers" in emulator.responses()[-1]["text"]
    assert emulator.responses()[-1]["replace_original"] is True
    left = answers(deps)
    assert len(left) == per_person
    # The comment was not opened to replies (no CX_ENCRYPTION_KEY here): it is linked to
    # nobody, so nothing can find it; it stays, unattributed, and forget-me says so.
    assert comment_texts(deps) == ["my own words"]
    assert "No comment can be found" in emulator.responses()[-1]["text"]
    assert member(deps, leaver) is None
    assert member(deps, stayer) is not None
    assert all(d.member_id != leaver_row.id for d in _deliveries(deps))
    assert len(_deliveries(deps)) == len(org.participants) - 1
    with Session(deps.engine) as session:
        tombstones = session.exec(select(ForgottenMember)).all()
    assert [t.pseudonym for t in tombstones] == [deps.respondent(leaver)]

    # The next round (next week's: one a week) does not enrol them again; `/cx optin` does.
    emulator.reset_calls()
    clock.advance(timedelta(weeks=1))
    report = send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
    assert report.sent == len(org.participants) - 1
    assert leaver not in {c.params["channel"] for c in emulator.calls("chat.postMessage")}
    emulator.send_slash_command(leaver, "optin")
    wait_for(lambda: member(deps, leaver) is not None)
    emulator.reset_calls()
    clock.advance(timedelta(weeks=1))
    send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
    assert leaver in {c.params["channel"] for c in emulator.calls("chat.postMessage")}


def test_forget_me_works_for_someone_who_never_answered(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps
) -> None:
    user = org.no_team[1]
    emulator.send_slash_command(user, "forget-me")
    _click_in(emulator, user, _last_ephemeral(emulator, user), ActionId.FORGET_ME_CONFIRM)
    wait_for(lambda: emulator.responses()[-1]["text"].startswith("Done: 0 answers"))


def test_retention_deletes_raw_answers_and_comments_and_keeps_every_published_figure(
    bot: ServedBot,
    emulator: SlackEmulator,
    org: Org,
    deps: Deps,
    clock: ManualClock,
    database_url: str,
) -> None:
    send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
    _answer_all(emulator, deps, org.participants, 4)
    writer = org.teams["beta"][2]
    view = open_comment_modal(emulator, writer)
    submit_comment(emulator, writer, view, deps.prompts.bank.outcome_questions[-1], "old words")
    wait_for(lambda: comment_texts(deps))
    old_answers = len(answers(deps))
    clock.advance(timedelta(days=40))
    first_week = build_digest(deps, period=None)
    assert [c.text for c in first_week.comments] == ["old words"]
    send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
    _answer_all(emulator, deps, org.participants[:6], 3)

    # Retention off (the default): nothing happens.
    assert purge_old_answers(deps).rounds == 0
    assert len(answers(deps)) == old_answers + 6 * len(question_ids(latest_dm(emulator, writer)))

    keep_30 = Deps(
        env=make_settings(emulator, database_url, CX_RETENTION_DAYS=30),
        engine=deps.engine,
        clock=clock,
        prompts=deps.prompts,
    )
    report = purge_old_answers(keep_30)
    assert (report.rounds, report.answers, report.comments) == (1, old_answers, 1)
    assert purge_old_answers(keep_30).rounds == 0  # already done: nothing twice
    with Session(deps.engine) as session:
        rounds = session.exec(select(PulseRound).order_by(PulseRound.sequence)).all()
        cells = session.exec(
            select(PublishedCell).where(PublishedCell.period == rounds[0].period)
        ).all()
    assert rounds[0].answers_purged_at is not None
    assert rounds[1].answers_purged_at is None
    remaining = answers(deps)
    assert {a.round_id for a in remaining} == {rounds[1].id}
    assert comment_texts(deps) == []

    # The published week reads exactly as before, except for the comment, which is gone.
    after = build_digest(deps, period=rounds[0].period)
    assert after.comments == []
    assert after.history == first_week.history
    assert after.findings.dimensions == first_week.findings.dimensions
    groups = {(c.group_kind, c.group_name) for c in cells}
    # 18 people: teams alpha and beta (6 each) pass; gamma (3) does not, nor do the 3 leaders.
    assert groups == {("org", ""), ("team", "alpha"), ("team", "beta")}
    for cell in cells:
        assert cell.score_4 >= cell.people  # everyone answered 4 to every statement
        assert cell.score_1 + cell.score_2 + cell.score_3 + cell.score_5 == 0
