"""The insider's attacks of issue 12, end to end through real outputs: `/cx` over signed
HTTP, digest JSON, the CSV export, App Home, posted messages and the database file.

Each test keeps what an insider may legitimately see, lets something happen (a deletion, a
click, a purge, a team change, a setting), looks again and subtracts. Every attack must now
fail: the figures of a published week never move, and nothing of an open week is shown.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import inspect, text
from sqlmodel import Session, select

from bot.clock import ManualClock
from bot.db import repositories as repo
from bot.db.engine import session_scope
from bot.db.models import ActionItem, Member, PublishedComment, RoundKind
from bot.errors import NotYetPublished
from bot.render.digest import is_digest
from bot.runtime import build_deps
from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.harness import ServedBot
from bot.sandbox.people import open_comment_modal, submit_comment, wait_for
from bot.services.context import Deps
from bot.services.digest import build_digest
from bot.services.privacy import purge_old_answers
from bot.services.publication import settle_open_answers
from bot.services.publishing import post_digest
from bot.services.rounds import deliver_pending, send_round
from tests.e2e.conftest import LEADERS_CHANNEL, Org, answers, comment_texts, make_settings
from tests.privacy.insider import (
    answer_everything,
    close_rounds,
    digest_json,
    export_rows,
    export_text,
    forget_me,
    reply_text,
    slash_reply,
)
from tests.privacy.oracle import determined_groups

SECRET_WORDS = "my manager blocks every refund, ask anyone on the night shift"


def _scores(org: Org) -> dict[str, int]:
    """Everyone answers, with scores that differ person to person."""
    return {user: 1 + index % 5 for index, user in enumerate(org.participants)}


def test_deleting_a_person_changes_no_published_figure_and_removes_every_trace(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps, clock: ManualClock
) -> None:
    """Attacks 2 and 8: export before and after forget-me and subtract; look for leftovers."""
    leaver = org.leaders[0]  # alpha's only leader, the easiest person to single out
    send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
    answer_everything(emulator, deps, _scores(org))
    view = open_comment_modal(emulator, leaver)
    submit_comment(emulator, leaver, view, deps.prompts.bank.outcome_questions[-1], SECRET_WORDS)
    wait_for(lambda: comment_texts(deps))
    dimension = deps.prompts.bank.dimensions[0].id
    assert slash_reply(emulator, leaver, f"act {dimension} Refunds up to 200 without asking")
    close_rounds(deps, clock)
    _, posted = post_digest(deps, bot.gateway)
    assert SECRET_WORDS in json.dumps(emulator.messages(LEADERS_CHANNEL))

    export_before, json_before = export_text(deps), digest_json(deps)
    score_before = reply_text(slash_reply(emulator, org.teams["beta"][3], "score"))
    dms = [m["ts"] for m in emulator.messages(emulator.dm_channel(leaver))]
    assert dms

    forget_me(emulator, leaver)

    # Every published figure is exactly as it was: nothing to subtract.
    assert export_text(deps) == export_before
    assert digest_json(deps) == json_before
    assert reply_text(slash_reply(emulator, org.teams["beta"][3], "score")) == score_before
    # Nothing identifying is left: no member row, no answer, no authorship.
    with Session(deps.engine) as session:
        assert session.exec(select(Member).where(Member.slack_user_id == leaver)).first() is None
        assert [a.created_by for a in session.exec(select(ActionItem)).all()] == [None]
        assert [a.owner for a in session.exec(select(ActionItem)).all()] == [None]
        shown = session.exec(select(PublishedComment)).all()
    assert not [a for a in answers(deps) if a.respondent == deps.respondent(leaver)]
    # Their comment was not opened to replies (issue 14): from the moment it was saved it
    # was linked to nobody, so not even forget-me can find it. It stays, unattributed: its
    # row names no one, keyed or not, and no link to anyone exists; forget-me says so.
    assert [c.text for c in shown] == [SECRET_WORDS]
    row = shown[0].model_dump()
    assert not {str(v) for v in row.values()} & {leaver, deps.respondent(leaver)}
    with deps.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM reply_link")).scalar_one() == 0
    assert any("No comment can be found" in r["text"] for r in emulator.responses())
    # The digest already posted is left as it was; their pulse DMs no longer hold answers.
    digest = next(m for m in emulator.messages(LEADERS_CHANNEL) if m["ts"] == posted.ts)
    assert is_digest(digest)
    assert digest["text"].startswith("CX pulse 2")
    for message in emulator.messages(emulator.dm_channel(leaver)):
        if message["ts"] in dms:
            assert message["blocks"] == []
            assert "forget-me" in message["text"]
    # Their App Home was published again, with none of their answers.
    home = wait_for(lambda: emulator.home_view(leaver))
    assert "No answers yet" in json.dumps(home)


def test_nothing_of_an_open_week_moves_when_one_more_person_answers(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps, clock: ManualClock
) -> None:
    """Attack 3: ask `/cx score`, digest and export just before and just after a colleague
    clicks, while their week is open."""
    send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
    answer_everything(emulator, deps, _scores(org))
    close_rounds(deps, clock)
    clock.advance(timedelta(days=3))  # the next week
    send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
    watcher, target = org.teams["beta"][3], org.teams["alpha"][2]
    everyone_else = {u: 3 for u in org.participants if u not in {target, watcher}}
    answer_everything(emulator, deps, everyone_else)

    def everything_visible() -> tuple[str, str, str, str]:
        return (
            reply_text(slash_reply(emulator, watcher, "score")),
            reply_text(slash_reply(emulator, org.leaders[1], "digest")),
            export_text(deps),
            digest_json(deps),
        )

    before = everything_visible()
    answer_everything(emulator, deps, {target: 1})
    assert everything_visible() == before
    open_week = json.loads(before[3])["open_week"]
    assert open_week is not None
    assert open_week["answered_at_least"] in {0.7, 0.8, 0.9}  # 16 of 18 is "at least 80%"
    current = open_week["period"]
    with pytest.raises(NotYetPublished):
        build_digest(deps, period=current)
    assert current not in {row["period"] for row in export_rows(deps)}
    # An hour later the coarse share may move; the results still don't appear.
    clock.advance(timedelta(hours=1))
    assert json.loads(digest_json(deps))["period"] != current


def _legacy_second_round(deps: Deps, bot: ServedBot) -> None:
    """A second ad hoc round in the week, as cx-pulse sent them before one round a week: no
    schedule key, the same statements, everyone invited at once."""
    now = deps.clock.now()
    with session_scope(deps.engine) as session:
        first = repo.latest_round(session=session)
        assert first is not None
        assert first.id is not None
        second = repo.create_round(
            session=session,
            kind=RoundKind.ADHOC,
            schedule_key=None,
            period=first.period,
            opened_at=now,
            closes_at=now + timedelta(days=deps.settings.round_days),
            question_ids=[q.id for q in repo.round_questions(session=session, round_id=first.id)],
        )
        assert second is not None
        assert second.id is not None
        members = repo.participants(session=session)
        repo.create_deliveries(
            session=session, round_id=second.id, members=members, due_at=lambda _: now
        )
    deliver_pending(deps, bot.gateway, round_id=second.id)


def test_a_purge_of_a_week_with_two_rounds_changes_nothing_shown(
    bot: ServedBot,
    emulator: SlackEmulator,
    org: Org,
    deps: Deps,
    clock: ManualClock,
    database_url: str,
) -> None:
    """Attack 4: two rounds in one week, then the retention purge; figures before and after.
    A week has one round now, but a database from before that can hold two."""
    send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
    answer_everything(emulator, deps, _scores(org))
    clock.advance(timedelta(hours=2))
    _legacy_second_round(deps, bot)
    answer_everything(emulator, deps, {u: 5 for u in org.participants[:7]})
    close_rounds(deps, clock)
    before = (export_text(deps), digest_json(deps))
    score = reply_text(slash_reply(emulator, org.teams["beta"][3], "score"))
    clock.advance(timedelta(days=10))
    keep_7 = build_deps(make_settings(emulator, database_url, CX_RETENTION_DAYS=7), clock=clock)
    report = purge_old_answers(keep_7)
    assert report.rounds == 2
    assert answers(deps) == []
    assert (export_text(deps), digest_json(deps)) == before
    assert reply_text(slash_reply(emulator, org.teams["beta"][3], "score")) == score
    keep_7.engine.dispose()


def test_a_three_person_leadership_channel_never_shows_the_leader_split(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps, clock: ManualClock
) -> None:
    """The leaders are alpha0, beta0 and the admin: three, under the minimum of five. Neither
    half of the split may be shown anywhere, nor anything that gives it by subtraction."""
    send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
    answer_everything(emulator, deps, _scores(org))
    close_rounds(deps, clock)
    report = json.loads(digest_json(deps))
    assert report["say_do_gaps"] == []
    assert {row["group_kind"] for row in export_rows(deps)} <= {"organisation", "team"}
    assert report["hidden_teams"] >= 1  # gamma, three people


def test_a_team_change_between_weeks_leaves_the_earlier_week_as_published(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps, clock: ManualClock
) -> None:
    """Someone moves from alpha to beta: last week's alpha and beta must not be re-cut, or the
    difference between two exports would be that person's answers."""
    send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
    answer_everything(emulator, deps, _scores(org))
    close_rounds(deps, clock)
    first_week = export_rows(deps)
    mover = org.teams["alpha"][5]
    alpha = [u for u in org.teams["alpha"] if u != mover]
    emulator.add_usergroup("S0", "alpha", "Alpha", alpha)
    emulator.add_usergroup("S1", "beta", "Beta", [*org.teams["beta"], mover])
    clock.advance(timedelta(days=3))
    send_round(deps, bot.gateway, kind=RoundKind.ADHOC)  # refreshes the directory
    answer_everything(emulator, deps, _scores(org))
    close_rounds(deps, clock)
    rows = export_rows(deps)
    week = first_week[0]["period"]
    assert [r for r in rows if r["period"] == week] == first_week
    second = {
        (r["group_kind"], r["group"]): int(r["respondents"]) for r in rows if r["period"] != week
    }
    # alpha now has 5 answering, beta 7; whatever is shown, each group is at least the minimum.
    assert all(n >= deps.settings.min_group_size for n in second.values())


def test_the_database_file_links_no_answer_to_a_person(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps, clock: ManualClock
) -> None:
    """Attack 7: an operator's copy of the database, without CX_PSEUDONYM_KEY. The answer
    table has no team, leader flag, row id or time; its storage order is not click order."""
    send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
    # Clicked in a known order, one person at a time.
    order = list(reversed(org.participants))
    for user in order:
        answer_everything(emulator, deps, {user: 2})
    # On PostgreSQL the heap holds rows in insertion order, each with its click's xmin, until
    # the publish job settles them (every ten minutes); the dump is taken after it ran.
    settle_open_answers(deps)
    with deps.engine.connect() as connection:
        columns = {c["name"] for c in inspect(connection).get_columns("answer")}
        assert columns == {
            "round_id",
            "respondent",
            "question_id",
            "score",
            "click_order",
        }
        rows = connection.execute(text("SELECT * FROM answer")).mappings().all()
        members = connection.execute(text("SELECT slack_user_id FROM member")).scalars().all()
    values = {str(v) for row in rows for v in row.values()}
    assert not values & set(members)  # no Slack user ID anywhere in an answer
    pseudonyms = [row["respondent"] for row in rows]
    firsts = list(dict.fromkeys(pseudonyms))
    assert firsts != [deps.respondent(u) for u in order]  # not the order people clicked
    if deps.engine.dialect.name == "postgresql":
        with deps.engine.connect() as connection:
            xmins = connection.execute(text("SELECT DISTINCT xmin::text FROM answer")).all()
        assert len(xmins) == 1  # one transaction wrote them all: no click order in xmin
        assert pseudonyms == sorted(pseudonyms)  # the heap is in key order
    if deps.engine.dialect.name == "sqlite":
        assert pseudonyms == sorted(pseudonyms)  # stored in key order (WITHOUT ROWID)
        with deps.engine.connect() as connection, pytest.raises(Exception, match="rowid"):
            connection.execute(text("SELECT rowid FROM answer"))
    # click_order orders a person's own clicks, but across people it is shifted by a keyed
    # offset of up to 35 years: it does not say who clicked first.
    by_person: dict[str, int] = {}
    for row in rows:
        by_person.setdefault(row["respondent"], row["click_order"])
    ranked = sorted(by_person, key=by_person.__getitem__)
    assert ranked != [deps.respondent(u) for u in order]
    spread = max(by_person.values()) - min(by_person.values())
    assert spread > 10**12  # microseconds: far more than the minutes the clicks took
    # After publication, PostgreSQL's heap holds the week in key order too.
    close_rounds(deps, clock)
    digest_json(deps)
    with deps.engine.connect() as connection:
        stored = connection.execute(text("SELECT respondent FROM answer")).scalars().all()
        shown = connection.execute(text("SELECT * FROM published_comment")).mappings().all()
    assert stored == sorted(stored)
    # Comments carry no pseudonym nor anything keyed to one (issue 14: stored apart).
    assert not {str(v) for row in shown for v in row.values()} & set(pseudonyms)


def test_overlapping_user_groups_and_a_person_in_two_teams_give_nobody_away(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps, clock: ManualClock
) -> None:
    """A broad group over alpha and beta, and someone in both alpha and gamma: whatever team
    each person lands in, no combination of what is published isolates anyone."""
    alpha, beta, gamma = org.teams["alpha"], org.teams["beta"], org.teams["gamma"]
    emulator.add_usergroup("S9", "cx-frontline", "Front line", [*alpha, *beta])
    emulator.add_usergroup("S0", "alpha", "Alpha", [*alpha, gamma[0]])
    send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
    answer_everything(emulator, deps, _scores(org))
    close_rounds(deps, clock)
    with Session(deps.engine) as session:
        roster = {m.slack_user_id: (m.team, m.is_leader) for m in session.exec(select(Member))}
    assert roster[gamma[0]][0] in {"alpha", "gamma"}  # one team each, never two
    truth: dict[tuple[str, str], set[str]] = {}
    for user in org.participants:
        team, leader = roster[user]
        for key in [("organisation", ""), ("leaders" if leader else "others", "")] + (
            [("team", team)] if team else []
        ):
            truth.setdefault(key, set()).add(user)
    rows = export_rows(deps)
    assert rows
    for dimension in {row["dimension"] for row in rows}:
        shown = [r for r in rows if r["dimension"] == dimension]
        cells = [truth[(r["group_kind"], r["group"])] for r in shown]
        assert [int(r["respondents"]) for r in shown] == [len(c) for c in cells]
        assert determined_groups(cells, deps.settings.min_group_size, limit=1) == []
