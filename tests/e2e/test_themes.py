"""Comment themes end to end, over signed HTTP: comments written in the modal are tagged from
their words when the week is published, the digest names the main theme, and leaders filter
Read all by theme in the real modal."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session, select

from bot.clock import ManualClock
from bot.db.models import PublishedComment, RoundKind
from bot.render.ids import ActionId, BlockId
from bot.render.json_report import report_json
from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.harness import ServedBot
from bot.sandbox.people import latest_dm, open_comment_modal, question_ids, submit_comment, wait_for
from bot.services.context import Deps
from bot.services.digest import build_digest
from bot.services.publishing import post_digest
from bot.services.rounds import send_round
from bot.services.themes import tagger
from tests.e2e.conftest import LEADERS_CHANNEL, Org, last_digest
from tests.privacy.insider import answer_everything, close_rounds

RESOURCES = [
    "We need more people on the phones.",
    "The CRM crashes every afternoon.",
    "No budget for spare parts again.",
    "Our tools are painfully slow, customers wait.",
    "Headcount freeze, the backlog keeps growing.",
    "The new software keeps freezing mid-call.",
    "Two of us left and nobody replaced them, we are understaffed.",
]
TRAINING = [
    "Nobody trained me on the new returns process.",
    "Onboarding was two days of slides.",
    "I'd love coaching on difficult calls.",
]
OTHER = ["Thanks for asking.", "All good this week."]


def _week(
    deps: Deps,
    bot: ServedBot,
    emulator: SlackEmulator,
    org: Org,
    clock: ManualClock,
    texts: list[str],
    question: int = 0,
) -> None:
    send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
    answer_everything(emulator, deps, dict.fromkeys(org.participants, 4))
    for user, text in zip(org.participants, texts, strict=False):
        view = open_comment_modal(emulator, user)
        chosen = question_ids(latest_dm(emulator, user))[question]
        assert submit_comment(emulator, user, view, chosen, text).status == 200
    close_rounds(deps, clock)


def _shown(view: dict[str, Any]) -> list[str]:
    return [
        line[1:]
        for b in view["blocks"]
        if b["type"] == "section"
        for line in b["text"]["text"].splitlines()
        if line.startswith(">")
    ]


def test_the_digest_names_the_main_theme_and_leaders_filter_read_all_by_theme(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps, clock: ManualClock
) -> None:
    _week(deps, bot, emulator, org, clock, RESOURCES + TRAINING + OTHER)
    report, _ = post_digest(deps, bot.gateway)
    assert report.comments_total == 12
    digest = last_digest(emulator)
    assert "Most comments this week are about *Resources* (7 of 12)." in json.dumps(digest)
    found = report_json(report)["themes"]
    assert found["main"] == "resources"
    assert found["comments"] == 12
    assert {"dimension": "resources", "comments": 7} in found["counts"]
    assert {"dimension": "training", "comments": 3} in found["counts"]

    leader = org.leaders[0]
    block_id, action_id, value = emulator.find_button(
        digest, action_id_prefix=ActionId.READ_ALL_COMMENTS
    )
    sent = emulator.click_button(
        leader,
        channel_id=LEADERS_CHANNEL,
        message_ts=digest["ts"],
        action_id=action_id,
        block_id=block_id,
        value=value,
    )
    modal = wait_for(lambda: emulator.view_for_trigger(sent.trigger_id or ""))
    menus = {
        e["action_id"]: e
        for b in modal["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["type"] == "static_select"
    }
    themes = menus[ActionId.COMMENTS_THEME_FILTER]
    labels = [o["text"]["text"] for o in themes["options"]]
    assert labels[:3] == ["Every theme", "Resources (7)", "Training and knowledge (3)"]
    emulator.select_in_view(
        leader,
        view_id=modal["id"],
        action_id=ActionId.COMMENTS_THEME_FILTER,
        block_id=BlockId.COMMENTS_NAV + "_filter",
        value="resources",
    )
    filtered = wait_for(
        lambda: (
            _shown(emulator.views()[modal["id"]])
            if "7 comments" in str(emulator.views()[modal["id"]]["blocks"])
            else None
        )
    )
    assert sorted(filtered) == sorted(RESOURCES)
    assert "About: Resources" in str(emulator.views()[modal["id"]]["blocks"])
    # Back to every theme.
    emulator.select_in_view(
        leader,
        view_id=modal["id"],
        action_id=ActionId.COMMENTS_THEME_FILTER,
        block_id=BlockId.COMMENTS_NAV + "_filter",
        value="*",
    )
    wait_for(lambda: "12 comments" in str(emulator.views()[modal["id"]]["blocks"]))


def test_no_main_theme_without_a_clear_plurality(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps, clock: ManualClock
) -> None:
    _week(deps, bot, emulator, org, clock, RESOURCES[:3] + TRAINING + OTHER)
    report, _ = post_digest(deps, bot.gateway)
    assert report.themes is not None
    assert report.themes.main is None
    digest = json.dumps(last_digest(emulator))
    assert "Most comments this week" not in digest
    assert "Themes: Resources 3, Training and knowledge 3." in digest


def test_a_comments_theme_never_tells_which_statement_it_was_left_on(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps, clock: ManualClock
) -> None:
    """The attack: were a theme taken from the statement a comment was left on, a theme
    filter would label comments by dimension in weeks where the all-or-none rule withholds
    that label. Themes are the tagger's reading of the words, whatever the statement."""
    _week(deps, bot, emulator, org, clock, RESOURCES + TRAINING, question=1)
    build_digest(deps)
    read = tagger(deps)
    with Session(deps.engine) as session:
        rows = session.exec(select(PublishedComment)).all()
    assert len(rows) == 10
    attached = {r.dimension for r in rows}
    for row in rows:
        assert row.themes == ",".join(read.tag(row.text))
    # The statement they were all left on is not what the themes say.
    assert {t for r in rows for t in (r.themes or "").split(",") if t} != attached
