"""The nudge loop over real HTTP: the digest's focus is taken on in a modal, followed up at its
due date with a measured result, and leaders read every comment page by page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import Session, select

from bot.clock import ManualClock
from bot.db.models import ActionItem, RoundKind
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
from bot.services.publishing import post_digest
from bot.services.rounds import send_round
from tests.e2e.conftest import (
    LEADERS_CHANNEL,
    Org,
    answers,
    comment_texts,
    ephemeral_texts,
    last_digest,
)
from tests.privacy.insider import answer_everything, close_rounds


def _week_with_comments(
    deps: Deps,
    bot: ServedBot,
    emulator: SlackEmulator,
    org: Org,
    clock: ManualClock,
    commenters: int,
) -> None:
    send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
    answer_everything(emulator, deps, dict.fromkeys(org.participants, 4))
    for index, user in enumerate(org.participants[:commenters]):
        view = open_comment_modal(emulator, user)
        question = question_ids(latest_dm(emulator, user))[index % 2]
        assert (
            submit_comment(emulator, user, view, question, f"comment number {index}").status == 200
        )
    wait_for(lambda: len(comment_texts(deps)) == commenters)
    close_rounds(deps, clock)


def _click_in_digest(
    emulator: SlackEmulator, user: str, digest: dict[str, Any], block_id: str, action_id: str
) -> Any:
    element = emulator.find_button(digest, action_id_prefix=action_id)
    sent = emulator.click_button(
        user,
        channel_id=LEADERS_CHANNEL,
        message_ts=digest["ts"],
        action_id=action_id,
        block_id=block_id,
        value=element[2],
    )
    assert sent.status == 200
    return sent


def test_a_leader_takes_on_the_focus_and_the_other_leaders_see_who_owns_it(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps, clock: ManualClock
) -> None:
    _week_with_comments(deps, bot, emulator, org, clock, commenters=0)
    report, _ = post_digest(deps, bot.gateway)
    assert report.focus is not None
    digest = last_digest(emulator)
    leader = org.leaders[0]
    sent = _click_in_digest(emulator, leader, digest, BlockId.DIGEST_FOCUS, ActionId.COMMIT_FOCUS)
    modal = wait_for(lambda: emulator.view_for_trigger(sent.trigger_id or ""))
    assert modal["callback_id"] == "commitment_modal"
    blocks = {b.get("block_id"): b for b in modal["blocks"]}
    dimension = blocks[BlockId.COMMITMENT_DIMENSION]["element"]["initial_option"]["value"]
    assert dimension == report.focus.dimension
    assert blocks[BlockId.COMMITMENT_OWNER]["element"]["initial_user"] == leader
    due = blocks[BlockId.COMMITMENT_DUE]["element"]["initial_date"]

    def values(text: str, when: str) -> dict[str, Any]:
        return {
            BlockId.COMMITMENT_DIMENSION: {
                ActionId.COMMITMENT_DIMENSION: {
                    "type": "static_select",
                    "selected_option": {"value": dimension},
                }
            },
            BlockId.COMMITMENT_TEXT: {
                ActionId.COMMITMENT_TEXT: {"type": "plain_text_input", "value": text}
            },
            BlockId.COMMITMENT_DUE: {
                ActionId.COMMITMENT_DUE: {"type": "datepicker", "selected_date": when}
            },
            BlockId.COMMITMENT_OWNER: {
                ActionId.COMMITMENT_OWNER: {"type": "users_select", "selected_user": org.leaders[1]}
            },
        }

    # A date in the past is refused beside the date field; nothing is stored.
    refused = emulator.submit_view(
        leader, view_id=modal["id"], values=values("Fix it", "2020-01-01")
    )
    assert refused.json_body is not None
    assert refused.json_body["response_action"] == "errors"
    assert BlockId.COMMITMENT_DUE in refused.json_body["errors"]
    with Session(deps.engine) as session:
        assert session.exec(select(ActionItem)).all() == []

    done = emulator.submit_view(
        leader, view_id=modal["id"], values=values("Refunds up to $200 <!channel>", due)
    )
    assert done.json_body is not None
    assert done.json_body["response_action"] == "update"
    with Session(deps.engine) as session:
        (item,) = session.exec(select(ActionItem)).all()
    assert (item.dimension, item.owner, item.created_by) == (dimension, org.leaders[1], leader)
    assert item.due_on is not None
    assert item.due_on.isoformat() == due
    announced = wait_for(
        lambda: [m for m in emulator.messages(LEADERS_CHANNEL) if "took this on" in m["text"]]
    )
    assert f"<@{org.leaders[1]}>" in announced[-1]["text"]
    assert "<!channel>" not in announced[-1]["text"]  # what was typed is escaped
    # Committed to, so it may stay the focus; and the digest now lists it as running.
    assert build_digest(deps).commitments[0].text == "Refunds up to $200 <!channel>"


def test_only_leaders_can_take_on_the_focus(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps, clock: ManualClock
) -> None:
    _week_with_comments(deps, bot, emulator, org, clock, commenters=0)
    post_digest(deps, bot.gateway)
    digest = last_digest(emulator)
    outsider = org.teams["gamma"][0]
    sent = _click_in_digest(emulator, outsider, digest, BlockId.DIGEST_FOCUS, ActionId.COMMIT_FOCUS)
    wait_for(lambda: any("Only leaders" in t for t in ephemeral_texts(emulator)))
    assert emulator.view_for_trigger(sent.trigger_id or "") is None


def test_cx_act_alone_opens_the_commitment_modal(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps
) -> None:
    before = set(emulator.views())
    assert emulator.send_slash_command(org.leaders[0], "act").status == 200
    opened = wait_for(lambda: [v for k, v in emulator.views().items() if k not in before])
    assert opened[0]["callback_id"] == "commitment_modal"


def test_leaders_read_every_comment_page_by_page_and_by_dimension(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps, clock: ManualClock
) -> None:
    _week_with_comments(deps, bot, emulator, org, clock, commenters=12)
    report, _ = post_digest(deps, bot.gateway)
    assert (len(report.comments), report.comments_total) == (5, 12)
    digest = last_digest(emulator)
    text = str(digest["blocks"])
    assert "5 of 12 comments" in text
    leader = org.leaders[0]
    sent = _click_in_digest(
        emulator, leader, digest, BlockId.DIGEST_COMMENTS, ActionId.READ_ALL_COMMENTS
    )
    modal = wait_for(lambda: emulator.view_for_trigger(sent.trigger_id or ""))

    def shown(view: dict[str, Any]) -> list[str]:
        return [
            line[1:]
            for b in view["blocks"]
            if b["type"] == "section"
            for line in b["text"]["text"].splitlines()
            if line.startswith(">")
        ]

    first = shown(modal)
    assert len(first) == 10
    # The digest's five are the first five, in the same order.
    assert first[:5] == [c.text for c in report.comments]
    assert "page 1 of 2" in str(modal["blocks"])
    next_button = emulator.find_button(modal, action_id_prefix=ActionId.COMMENTS_NEXT)
    emulator.click_in_view(
        leader,
        view_id=modal["id"],
        action_id=ActionId.COMMENTS_NEXT,
        block_id=next_button[0],
        value=next_button[2],
    )
    second = wait_for(
        lambda: (
            shown(emulator.views()[modal["id"]])
            if "page 2" in str(emulator.views()[modal["id"]]["blocks"])
            else None
        )
    )
    assert sorted(first + second) == sorted(f"comment number {i}" for i in range(12))
    # Filtering on one dimension shows only that dimension's comments.
    dimension = next(c.dimension for c in report.comments if c.dimension)
    emulator.select_in_view(
        leader,
        view_id=modal["id"],
        action_id=ActionId.COMMENTS_FILTER,
        block_id=BlockId.COMMENTS_NAV + "_filter",
        value=dimension,
    )
    filtered = wait_for(
        lambda: (
            shown(emulator.views()[modal["id"]])
            if "page 1 of 1" in str(emulator.views()[modal["id"]]["blocks"])
            else None
        )
    )
    assert 0 < len(filtered) < 12


def test_a_commitment_is_followed_up_at_its_due_date_with_a_measured_result(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps, clock: ManualClock
) -> None:
    from bot.services.commitments import record_commitment

    for week in range(2):  # two readings before the commitment, to measure against
        if week:
            clock.advance(timedelta(days=7 - deps.settings.round_days))
        _week_with_comments(deps, bot, emulator, org, clock, commenters=0)
    post_digest(deps, bot.gateway)
    # The outcome dimension is asked every round, so the due week has a reading to measure.
    outcome = deps.prompts.bank.dimensions[0].id
    today = clock.now().date()
    record_commitment(
        deps,
        created_by=org.leaders[0],
        dimension=outcome,
        text="Weekly customer story",
        owner=org.leaders[0],
        due_on=today + timedelta(days=8),
    )
    # Next week: not due yet, listed as running; the week after: followed up, once.
    weeks = []
    for _ in range(2):
        clock.advance(timedelta(days=7 - deps.settings.round_days))
        _week_with_comments(deps, bot, emulator, org, clock, commenters=0)
        report, _ = post_digest(deps, bot.gateway)
        weeks.append(report)
    assert [len(r.commitments) for r in weeks] == [1, 0]
    assert [len(r.follow_ups) for r in weeks] == [0, 1]
    follow = weeks[1].follow_ups[0]
    assert follow.action == "Weekly customer story"
    assert follow.now is not None
    assert any(h.kind == "follow_up" for h in weeks[1].headlines)
    assert (
        "Commitment due on" in last_digest(emulator)["text"]
        or "commitment on" in last_digest(emulator)["text"]
    )
    with Session(deps.engine) as session:
        (item,) = session.exec(select(ActionItem)).all()
    assert item.followed_up_at is not None
    assert item.outcome is not None
    assert weeks[1].period in item.outcome


def test_the_focus_rotates_after_two_weeks_unless_someone_committed_to_it(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps, clock: ManualClock
) -> None:
    from bot.analytics.periods import shift_period
    from bot.db.models import FocusProposal
    from bot.services.commitments import record_commitment

    _week_with_comments(deps, bot, emulator, org, clock, commenters=0)
    first = build_digest(deps)
    assert first.focus is not None
    weakest = first.focus.dimension
    assert build_digest(deps).focus == first.focus  # fixed once proposed

    def proposed_twice_before() -> None:
        with Session(deps.engine) as session:
            for row in session.exec(select(FocusProposal)).all():
                session.delete(row)
            for weeks in (1, 2):
                session.add(
                    FocusProposal(period=shift_period(first.period, -weeks), dimension=weakest)
                )
            session.commit()
        deps.reports.invalidate()

    proposed_twice_before()
    rotated = build_digest(deps).focus
    assert rotated is not None
    assert rotated.dimension != weakest  # a third week running is not news

    record_commitment(
        deps,
        created_by=org.leaders[0],
        dimension=weakest,
        text="We are on it",
        owner=None,
        due_on=None,
    )
    proposed_twice_before()
    kept = build_digest(deps).focus
    assert kept is not None
    assert kept.dimension == weakest  # someone took it on: it may stay


def test_the_next_pulse_says_what_was_done_and_what_came_of_it(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps, clock: ManualClock
) -> None:
    from bot.services.commitments import record_commitment

    for week in range(2):
        if week:
            clock.advance(timedelta(days=7 - deps.settings.round_days))
        _week_with_comments(deps, bot, emulator, org, clock, commenters=0)
    post_digest(deps, bot.gateway)
    record_commitment(
        deps,
        created_by=org.leaders[0],
        dimension=deps.prompts.bank.dimensions[0].id,
        text="Refunds <b>without</b> asking",
        owner=None,
        due_on=clock.now().date() + timedelta(days=1),
    )
    clock.advance(timedelta(days=7 - deps.settings.round_days))
    _week_with_comments(deps, bot, emulator, org, clock, commenters=0)
    report, _ = post_digest(deps, bot.gateway)
    assert len(report.follow_ups) == 1
    clock.advance(timedelta(days=7 - deps.settings.round_days))
    send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
    dm = latest_dm(emulator, org.teams["gamma"][0])
    text = "\n".join(
        b["text"]["text"] for b in dm["blocks"] if b["type"] == "section" and "text" in b
    )
    assert "*You said, we did*" in text
    assert "We did: Refunds &lt;b&gt;without&lt;/b&gt; asking." in text


def test_no_comment_is_labelled_when_one_commented_dimension_is_small(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps, clock: ManualClock
) -> None:
    """An insider filtering Read-all by dimension, or noticing the one unlabelled comment,
    must not narrow a comment's author to a dimension fewer than the comment rule answered."""
    from bot.sandbox.people import click_score

    send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
    everyone = org.participants  # 18: the comment rule is 10
    first, second = question_ids(latest_dm(emulator, everyone[0]))[:2]
    expected = 0
    for index, user in enumerate(everyone):
        assert click_score(emulator, user, first, 4).status == 200
        expected += 1
        if index < 9:  # only 9 answer the second statement: below the comment rule
            assert click_score(emulator, user, second, 4).status == 200
            expected += 1
    wait_for(lambda: len(answers(deps)) == expected)
    for user, question, words in (
        (everyone[10], first, "big group"),
        (everyone[0], second, "small"),
    ):
        view = open_comment_modal(emulator, user)
        assert submit_comment(emulator, user, view, question, words).status == 200
    wait_for(lambda: len(comment_texts(deps)) == 2)
    close_rounds(deps, clock)
    report = build_digest(deps)
    assert sorted(c.text for c in report.comments) == ["big group", "small"]
    assert [c.dimension for c in report.comments] == [None, None]
