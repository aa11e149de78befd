"""Kudos below the Slack surface: reading Slack's escaped text, naming people who opted out,
the digest's counts and quote, the one-a-day key under two clicks at once, and forget-me."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session, select

from bot.analytics.kudos import Naming, Shown, naming, pick_quote, tally
from bot.clock import ManualClock
from bot.db.engine import session_scope
from bot.db.kudos import Kudos, add_kudos, forget_person, mark_posted, set_opt_out
from bot.db.models import Member
from bot.errors import CxError
from bot.prompts import load_prompts
from bot.render.kudos import kudos_dm, kudos_post, quoted, story_pieces
from bot.runtime import build_deps
from bot.sandbox.emulator import BOT_USER_ID, SlackEmulator
from bot.services.context import Deps
from bot.services.kudos import (
    KudosAlreadyToday,
    KudosSource,
    kudos_summary,
    post_kudos,
)
from bot.slack.gateway import make_gateway
from bot.slack.parsing import (
    name_prefixes,
    parse_cx,
    parse_kudos,
    slack_plain_text,
    unlabelled_mentions,
)
from tests.e2e.conftest import make_settings

PROMPTS = load_prompts()
KUDOS = "C0KUDOS"
MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # 2026-W48


# --- Slack's escaped text, read back --------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "typed"),
    [
        ("fish&amp;chips", "fish&chips"),
        ("&lt;!channel&gt; &amp;lt;", "<!channel> &lt;"),
        ("<@U123|ana> and <@W456>", "@ana and @W456"),
        ("<#C1|general> <!here> <!subteam^S1|@support>", "#general @here @support"),
        ("<https://x.example/a?b=1&amp;c=2|the page>", "the page (https://x.example/a?b=1&c=2)"),
        ("<https://x.example>", "https://x.example"),
        ("<!date^1700000000^{date}|Nov 14>", "Nov 14"),
        ("<b>bold</b>", "<b>bold</b>"),  # not Slack's markup: sent unescaped, read as it is
    ],
)
def test_slack_plain_text_is_what_was_typed(sent: str, typed: str) -> None:
    assert slack_plain_text(sent) == typed


def test_unlabelled_mentions_are_named_from_elsewhere() -> None:
    sent = "thanks <@U100> and <@U200|bo> and <@U100>"
    assert unlabelled_mentions(sent) == ["U100"]
    assert slack_plain_text(sent, {"U100": "Ana Lima"}) == "thanks @Ana Lima and @bo and @Ana Lima"


def test_every_sub_command_reads_escaped_text_as_typed() -> None:
    assert parse_cx("team R&amp;D").args == ("R&D",)
    assert parse_cx("score empowerment").args == ("empowerment",)
    act = parse_cx("act empowerment Refunds &amp; returns &lt;!channel&gt; <@U9|bo>")
    assert act.args == ("empowerment", "Refunds", "&", "returns", "<!channel>", "@bo")
    assert act.rest == "empowerment Refunds &amp; returns &lt;!channel&gt; <@U9|bo>"


@pytest.mark.parametrize(
    ("rest", "fields"),
    [
        ("", {"choice": "help"}),
        ("optout", {"choice": "optout"}),
        ("OptIn", {"choice": "optin"}),
        ("<@U123|ana>, saved the day", {"user_id": "U123", "story": "saved the day"}),
        ("<@U123> saved\nthe day", {"user_id": "U123", "story": "saved\nthe day"}),
        ("@Ana Lima saved it", {"named": "Ana Lima saved it"}),
        ("<#C1|general> well done", {"not_a_person": True}),
        ("<!here> well done", {"not_a_person": True}),
        ("ana saved it", {"choice": "help"}),
    ],
)
def test_parse_kudos(rest: str, fields: dict[str, object]) -> None:
    parsed = parse_kudos(rest)
    for name, value in fields.items():
        assert getattr(parsed, name) == value


def test_a_plain_name_may_have_several_words() -> None:
    assert name_prefixes("Ana Lima: saved it") == [
        ("ana lima: saved it", ""),
        ("ana lima: saved", " it"),
        ("ana lima", " saved it"),
        ("ana", " Lima: saved it"),
    ]


# --- naming and counting (pure) -------------------------------------------------------------


def test_who_is_named_and_how() -> None:
    assert naming(known=True, opted_out=False, team="a", team_size=1, floor=5) is Naming.NAMED
    assert naming(known=True, opted_out=True, team="a", team_size=5, floor=5) is Naming.TEAM
    # A team smaller than the floor would point at the person.
    assert naming(known=True, opted_out=True, team="a", team_size=4, floor=5) is Naming.COLLEAGUE
    assert naming(known=True, opted_out=True, team="a", team_size=2, floor=2) is Naming.COLLEAGUE
    assert naming(known=True, opted_out=True, team=None, team_size=0, floor=5) is Naming.COLLEAGUE
    # Someone forgotten is never named, nor their team.
    assert naming(known=False, opted_out=False, team="a", team_size=50, floor=5) is (
        Naming.COLLEAGUE
    )


def test_the_tally_folds_small_teams_and_the_tail_into_other_teams() -> None:
    teams = ["support"] * 3 + ["sales"] * 2 + ["tiny"] + [None] + ["ops"] * 2 + ["zeta"]
    sizes = {"support": 20, "sales": 9, "tiny": 2, "ops": 7, "zeta": 6}
    counted = tally(teams, sizes, floor=5, shown=3)
    assert counted.total == 10
    assert [(t.team, t.count) for t in counted.teams] == [("support", 3), ("ops", 2), ("sales", 2)]
    assert counted.other == 3  # tiny, no team, and zeta beyond the first three


def test_the_quote_prefers_a_story_that_may_name_its_recipient_and_is_fixed_per_week() -> None:
    candidates = [(1, False), (2, True), (3, True), (4, False)]
    chosen = pick_quote("2026-W48", candidates)
    assert chosen in {2, 3}
    assert pick_quote("2026-W48", list(reversed(candidates))) == chosen  # order does not matter
    assert pick_quote("2026-W48", [(1, False)]) == 1
    assert pick_quote("2026-W48", []) is None
    weeks = {pick_quote(f"2026-W{week:02d}", candidates) for week in range(1, 30)}
    assert weeks == {2, 3}  # neither story always wins


# --- rendering within Slack's limits --------------------------------------------------------


def test_a_story_of_escapes_is_split_over_sections_and_kept_whole() -> None:
    story = "&<>" * 1000  # 3,000 characters that escape to 12,000
    pieces = story_pieces(story)
    assert "".join(pieces) == story
    assert all(len(quoted(piece)) <= 2900 for piece in pieces)
    for message in (
        kudos_post(
            PROMPTS, giver=Shown(Naming.NAMED, "U1"), recipient=Shown(Naming.COLLEAGUE), story=story
        ),
        kudos_dm(PROMPTS, giver="U1", story=story, channel=KUDOS, named=False),
    ):
        blocks = [block.to_dict() for block in message.blocks]  # to_dict() validates
        assert len(blocks) <= 50
        assert all(len(b["text"]["text"]) <= 3000 for b in blocks if b["type"] == "section")
        assert "<>" not in str(blocks)
        assert len(message.text) < 1000  # 150 characters of the story, escaped


def test_a_long_story_breaks_at_a_word() -> None:
    story = " ".join(["customer"] * 600)
    pieces = story_pieces(story)
    assert len(pieces) == 2
    assert all(piece.endswith("customer") for piece in pieces)


# --- the service on a real database and the emulator ----------------------------------------


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    with SlackEmulator(bot_token="xoxb-test-token", signing_secret="s") as emulator:
        for index in range(6):
            emulator.add_user(f"USUP{index}", f"sup{index}")
        emulator.add_channel(KUDOS, "kudos", [BOT_USER_ID])
        yield emulator


@pytest.fixture
def deps(database_url: str, slack: SlackEmulator) -> Iterator[Deps]:
    settings = make_settings(slack, database_url, CX_KUDOS_CHANNEL=KUDOS)
    built = build_deps(settings, clock=ManualClock(MONDAY))
    with session_scope(built.engine) as session:
        for index in range(6):
            session.add(Member(slack_user_id=f"USUP{index}", team="support", updated_at=MONDAY))
    yield built
    built.engine.dispose()


def test_two_clicks_at_once_post_one_kudos(deps: Deps, slack: SlackEmulator) -> None:
    gateway = make_gateway(deps.settings)
    outcomes: list[object] = []
    start = threading.Barrier(2)

    def give() -> None:
        start.wait()
        try:
            outcomes.append(
                post_kudos(
                    deps,
                    gateway,
                    giver="USUP0",
                    recipient="USUP1",
                    story="helped",
                    source=KudosSource.COMMAND,
                )
            )
        except CxError as error:
            outcomes.append(error)

    threads = [threading.Thread(target=give) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(type(o).__name__ for o in outcomes) == ["KudosAlreadyToday", "KudosGiven"]
    assert any(isinstance(o, KudosAlreadyToday) for o in outcomes)
    assert len(slack.messages(KUDOS)) == 1
    with Session(deps.engine) as session:
        assert len(session.exec(select(Kudos)).all()) == 1


def _posted(session: Session, giver: str, recipient: str, story: str, day: date, ts: str) -> Kudos:
    row = add_kudos(
        session=session,
        giver=giver,
        recipient=recipient,
        recipient_team="support",
        story=story,
        source="command",
        given_on=day,
        period="2026-W48",
        now=MONDAY,
    )
    assert row.id is not None
    mark_posted(session=session, kudos_id=row.id, channel=KUDOS, ts=ts)
    return row


def test_the_quote_is_fixed_once_the_week_is_over(deps: Deps) -> None:
    with session_scope(deps.engine) as session:
        for index in range(1, 5):
            _posted(session, "USUP0", f"USUP{index}", f"story {index}", MONDAY.date(), f"1.{index}")
        set_opt_out(session=session, slack_user_id="USUP1", opted_out=True, now=MONDAY)
    during = kudos_summary(deps, "2026-W48")
    assert during is not None
    assert during.tally.total == 4
    assert [(t.team, t.count) for t in during.tally.teams] == [("support", 4)]
    clock = deps.clock
    assert isinstance(clock, ManualClock)
    clock.advance(timedelta(days=7))
    after = kudos_summary(deps, "2026-W48")
    assert after is not None
    assert after.quote is not None
    assert after.quote.recipient.naming is Naming.NAMED  # USUP1 opted out: never preferred
    # Fixed: a later opt-out shows the same story, now without the name.
    chosen = after.quote.recipient.user_id
    assert chosen is not None
    with session_scope(deps.engine) as session:
        set_opt_out(session=session, slack_user_id=chosen, opted_out=True, now=MONDAY)
    again = kudos_summary(deps, "2026-W48")
    assert again is not None
    assert again.quote is not None
    assert again.quote.story == after.quote.story
    assert again.quote.recipient == Shown(Naming.TEAM, None, "support")


def test_forget_person_clears_the_ids_and_keeps_the_counts(deps: Deps) -> None:
    with session_scope(deps.engine) as session:
        _posted(session, "USUP0", "USUP1", "one", MONDAY.date(), "1.1")
        _posted(session, "USUP1", "USUP2", "two", MONDAY.date(), "1.2")
        _posted(session, "USUP2", "USUP3", "three", MONDAY.date(), "1.3")
        set_opt_out(session=session, slack_user_id="USUP1", opted_out=True, now=MONDAY)
    with session_scope(deps.engine) as session:
        touched, weeks = forget_person(session=session, slack_user_id="USUP1")
    assert [(k.giver, k.recipient) for k in touched] == [("USUP0", None), (None, "USUP2")]
    assert weeks == set()
    summary = kudos_summary(deps, "2026-W48")
    assert summary is not None
    assert summary.tally.total == 3
    with Session(deps.engine) as session:
        rows = session.exec(select(Kudos)).all()
    assert all("USUP1" not in (k.giver, k.recipient) for k in rows)
