"""`cxpulse rotate-pseudonym-key`: every pseudonym re-keyed in one transaction, history joined,
nothing made with the old key left behind, and an interrupted run that changes nothing.

The history is made the way people make it: pulse DMs answered and commented on over HTTP
against the emulator, a week published, someone forgotten, a CSV imported.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session, select

from bot.clock import ManualClock
from bot.db.models import Answer, ForgottenMember, PseudonymKey, PublishedComment, RoundKind
from bot.pseudonym import (
    PseudonymKeyMismatch,
    click_offset,
    pseudonym,
    rekeyed,
)
from bot.render.json_report import report_json
from bot.runtime import build_deps
from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.harness import ServedBot
from bot.sandbox.people import (
    open_comment_modal,
    submit_comment,
    wait_for,
)
from bot.services.context import Deps
from bot.services.digest import build_digest
from bot.services.importer import ImportRejected, import_answers, read_file
from bot.services.privacy import forget_member
from bot.services.pseudonym_keys import (
    NeedsDirectory,
    NotUnderKey,
    Step,
    rotate_pseudonym_key,
)
from bot.services.publication import publish_due_weeks
from bot.services.rounds import send_round
from tests.e2e.conftest import (
    PSEUDONYM_KEY,
    Org,
    answer_each,
    answers,
    comment_texts,
    cxpulse,
    make_settings,
    process_env,
)

NEW_KEY = "the-new-pseudonym-key-9876543210"
IMPORTED = [f"hr-{i:03d}" for i in range(6)]  # the CSV's opaque respondent ids
# Every table a rotation may touch, and those it must not.
TABLES = (
    "answer",
    "pending_roster",
    "published_comment",
    "forgotten_member",
    "pseudonym_key",
    "member",
    "delivery",
    "pulse_round",
    "published_week",
    "published_cell",
)


@dataclass
class History:
    leaver: str  # forgotten after week 1
    commenter: str  # wrote a published comment in week 1
    week: str  # week 1, published
    csv: Path  # imported history (a closed week, and one in the open week)


def _answer(emulator: SlackEmulator, deps: Deps, users: list[str], score: int) -> None:
    answer_each(emulator, deps, dict.fromkeys(users, score), timeout=60)


def _comment(emulator: SlackEmulator, deps: Deps, user: str, words: str) -> None:
    view = open_comment_modal(emulator, user)
    question = deps.prompts.bank.outcome_questions[-1]
    assert submit_comment(emulator, user, view, question, words).status == 200
    wait_for(lambda: words in comment_texts(deps))


def _csv(tmp_path: Path, deps: Deps) -> Path:
    question = deps.prompts.bank.outcome_questions[-1]
    rows = ["date,respondent,team,is_leader,question_id,score"]
    rows += [f"2026-10-06,{r},ops,false,{question},{3 + i % 3}" for i, r in enumerate(IMPORTED)]
    # The week the clock is in: imported, but not published until it closes.
    rows += [f"2026-11-30,{r},ops,false,{question},4" for r in IMPORTED[:3]]
    path = tmp_path / "history.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _import(deps: Deps, path: Path) -> None:
    import_answers(deps, read_file(path, deps.prompts.bank.known_question_ids))


def make_history(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps, clock: ManualClock, tmp: Path
) -> History:
    people = org.participants
    leaver, commenter = org.teams["beta"][2], org.teams["alpha"][3]
    send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
    _answer(emulator, deps, people[:9], 4)
    _answer(emulator, deps, people[9:], 2)
    _comment(emulator, deps, commenter, "the queue tool keeps losing tickets")
    _comment(emulator, deps, leaver, "more time for hard cases please")
    clock.advance(timedelta(days=deps.settings.round_days, hours=1))
    published = publish_due_weeks(deps)
    assert len(published) == 1
    forget_member(deps, bot.gateway, slack_user_id=leaver)
    # Next week's round is open, and half answered, when the key is rotated.
    clock.advance(timedelta(days=2))
    send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
    _answer(emulator, deps, people[:6], 5)
    csv = _csv(tmp, deps)
    _import(deps, csv)
    return History(leaver=leaver, commenter=commenter, week=published[0], csv=csv)


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    found = {}
    with engine.connect() as connection:
        for table in TABLES:
            rows = connection.execute(text(f"SELECT * FROM {table}")).all()  # noqa: S608
            found[table] = sorted((tuple(row) for row in rows), key=repr)
    return found


def _directory(bot: ServedBot) -> list[str]:
    return [user.user_id for user in bot.gateway.list_users()]


@pytest.fixture
def history(
    bot: ServedBot,
    emulator: SlackEmulator,
    org: Org,
    deps: Deps,
    clock: ManualClock,
    tmp_path: Path,
) -> History:
    return make_history(bot, emulator, org, deps, clock, tmp_path)


@pytest.fixture
def rotated_deps() -> Iterator[list[Deps]]:
    """Dependencies built with the new key, once the test has rotated to it."""
    built: list[Deps] = []
    yield built
    for deps in built:
        deps.engine.dispose()


def test_rotation_keeps_history_joined_and_leaves_nothing_made_with_the_old_key(
    history: History,
    bot: ServedBot,
    emulator: SlackEmulator,
    org: Org,
    deps: Deps,
    clock: ManualClock,
    database_url: str,
    rotated_deps: list[Deps],
) -> None:
    old, new = PSEUDONYM_KEY.encode(), NEW_KEY.encode()
    before = snapshot(deps.engine)
    digest_before = report_json(build_digest(deps, period=history.week))
    members = [u for u in org.participants if u != history.leaver]
    old_rows = {(a.round_id, a.respondent, a.question_id): a for a in answers(deps)}

    report = rotate_pseudonym_key(
        deps.engine, current=PSEUDONYM_KEY, new=NEW_KEY, now=clock.now(), directory=_directory(bot)
    )
    assert report.generation == 2
    assert report.from_members == len(members)
    assert report.without_id == len(IMPORTED)
    assert report.tombstones_rekeyed == 1
    assert report.tombstones_dropped == 0

    # The old key is refused from now on; the new one is the database's.
    with pytest.raises(PseudonymKeyMismatch, match="rotate-pseudonym-key"):
        build_deps(make_settings(emulator, database_url), clock=clock)
    fresh = build_deps(make_settings(emulator, database_url, CX_PSEUDONYM_KEY=NEW_KEY), clock=clock)
    rotated_deps.append(fresh)

    after = snapshot(deps.engine)
    # Comments carry nothing keyed (issue 14): a rotation leaves them exactly as they were.
    for unchanged in (
        "member",
        "delivery",
        "pulse_round",
        "published_week",
        "published_cell",
        "published_comment",
    ):
        assert after[unchanged] == before[unchanged], unchanged
    assert len(after["answer"]) == len(before["answer"])

    # Every member's answers are under the pseudonym the app now computes for them, with the
    # same scores, and their own click order kept.
    new_rows = {(a.round_id, a.respondent, a.question_id): a for a in answers(fresh)}
    for user in members:
        was, now = pseudonym(old, user), pseudonym(new, user)
        assert fresh.respondent(user) == now
        mine_before = {k[0::2]: a for k, a in old_rows.items() if k[1] == was}
        mine_after = {k[0::2]: a for k, a in new_rows.items() if k[1] == now}
        assert mine_before.keys() == mine_after.keys()
        assert mine_before
        for key, answer in mine_after.items():
            earlier = mine_before[key]
            assert answer.score == earlier.score
            assert answer.click_order - click_offset(new, now) == (
                earlier.click_order - click_offset(old, was)
            )
    # Imported respondents: chained from their old pseudonym, their answers still together.
    stored = {a.respondent for a in answers(fresh)}
    for respondent in IMPORTED:
        assert rekeyed(new, pseudonym(old, respondent)) in stored
        assert pseudonym(new, respondent) not in stored  # a file can't be matched to them
    imported = {rekeyed(new, pseudonym(old, respondent)) for respondent in IMPORTED}
    assert {a.click_order for a in answers(fresh) if a.respondent in imported} == {0}
    # The open imported week's roster still names its answers' respondents, for publication.
    roster = {row[1] for row in after["pending_roster"]}
    assert roster == {rekeyed(new, pseudonym(old, respondent)) for respondent in IMPORTED[:3]}

    # Nothing stored can be tied to anyone with the old key.
    everyone = [*org.participants, *org.bots, *org.deleted, *IMPORTED]
    old_values = {pseudonym(old, u) for u in everyone}
    dumped = repr(after)
    assert not any(value in dumped for value in old_values)
    with Session(fresh.engine) as session:
        tombstones = [t.pseudonym for t in session.exec(select(ForgottenMember))]
        state = session.get(PseudonymKey, 1)
    assert tombstones == [pseudonym(new, history.leaver)]
    assert state is not None
    assert state.generation == 2

    # What leaders were shown has not moved.
    assert report_json(build_digest(fresh, period=history.week)) == digest_before

    with ServedBot(fresh) as served:
        emulator.set_app_url(served.events_url)
        # The forgotten person stays out of the next round's directory refresh and DMs.
        clock.advance(timedelta(weeks=1))
        emulator.reset_calls()
        sent = send_round(fresh, served.gateway, kind=RoundKind.ADHOC)
        assert sent.sent == len(members)
        assert history.leaver not in {
            c.params["channel"] for c in emulator.calls("chat.postMessage")
        }
        # New answers join the same person's history.
        _answer(emulator, fresh, [history.commenter], 3)
        mine = [a for a in answers(fresh) if a.respondent == fresh.respondent(history.commenter)]
        assert len({a.round_id for a in mine}) == 3  # weeks 1 and 2 (before), week 3 (after)
        # Their comment was not opened to replies: it is linked to nobody, before the
        # rotation and after it, so forget-me finds no comment (and says so).
        forgotten = forget_member(fresh, served.gateway, slack_user_id=history.commenter)
    assert forgotten.comments == 0
    assert forgotten.answers == len(mine)
    with Session(fresh.engine) as session:
        texts = sorted(c.text for c in session.exec(select(PublishedComment)).all())
    assert texts == ["more time for hard cases please", "the queue tool keeps losing tickets"]


class Explode(RuntimeError):
    pass


class FailAt:
    """Progress that raises once the rotation reaches `step`: mid-way through its writes."""

    def __init__(self, step: Step) -> None:
        self._at = step
        self.reached: list[Step] = []

    def step(self, step: Step, total: int) -> None:
        self.reached.append(step)
        if step == self._at:
            raise Explode(step)

    def advance(self, done: int) -> None:
        pass


@pytest.mark.parametrize("step", [Step.TOMBSTONES, Step.STORAGE_ORDER])
def test_a_rotation_that_fails_mid_way_changes_nothing(
    history: History,
    bot: ServedBot,
    deps: Deps,
    clock: ManualClock,
    emulator: SlackEmulator,
    database_url: str,
    step: Step,
) -> None:
    before = snapshot(deps.engine)
    failing = FailAt(step)
    with pytest.raises(Explode):
        rotate_pseudonym_key(
            deps.engine,
            current=PSEUDONYM_KEY,
            new=NEW_KEY,
            now=clock.now(),
            directory=_directory(bot),
            progress=failing,
        )
    assert Step.RESPONDENTS in failing.reached  # the answers had been re-keyed by then
    assert snapshot(deps.engine) == before
    # Still under the old key: the app starts with it, and the rotation can simply be rerun.
    build_deps(make_settings(emulator, database_url), clock=clock).engine.dispose()
    report = rotate_pseudonym_key(
        deps.engine, current=PSEUDONYM_KEY, new=NEW_KEY, now=clock.now(), directory=_directory(bot)
    )
    assert report.generation == 2
    assert snapshot(deps.engine) != before


KILLED_ROTATION = """
import sys, time
from bot.db.engine import make_engine
from bot.services.pseudonym_keys import Step, rotate_pseudonym_key
from bot.clock import SystemClock

class Stall:
    def step(self, step, total):
        if step == Step.TOMBSTONES:  # the answers are re-keyed, not yet committed
            print("stalled", flush=True)
            time.sleep(600)
    def advance(self, done):
        pass

rotate_pseudonym_key(
    make_engine(sys.argv[1]), current=sys.argv[2], new=sys.argv[3], now=SystemClock().now(),
    directory=sys.argv[4].split(","), progress=Stall(),
)
"""


def test_a_rotation_killed_mid_way_changes_nothing(
    history: History, bot: ServedBot, deps: Deps, database_url: str
) -> None:
    before = snapshot(deps.engine)
    child = subprocess.Popen(  # noqa: S603 - our own interpreter and script
        [
            sys.executable,
            "-c",
            KILLED_ROTATION,
            database_url,
            PSEUDONYM_KEY,
            NEW_KEY,
            ",".join(_directory(bot)),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "stalled", child.stderr
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
        if child.stdout is not None:
            child.stdout.close()
        if child.stderr is not None:
            child.stderr.close()
    assert child.returncode == -signal.SIGKILL
    assert snapshot(deps.engine) == before


def test_tombstones_need_the_slack_directory_and_a_wrong_current_key_is_refused(
    history: History, deps: Deps, clock: ManualClock
) -> None:
    before = snapshot(deps.engine)
    with pytest.raises(NeedsDirectory):
        rotate_pseudonym_key(deps.engine, current=PSEUDONYM_KEY, new=NEW_KEY, now=clock.now())
    with pytest.raises(NotUnderKey):
        rotate_pseudonym_key(
            deps.engine, current="not-the-key-at-all-0000", new=NEW_KEY, now=clock.now()
        )
    assert snapshot(deps.engine) == before


def test_a_tombstone_nobody_in_slack_matches_is_deleted(
    history: History, bot: ServedBot, deps: Deps, clock: ManualClock
) -> None:
    everyone_but_the_leaver = [u for u in _directory(bot) if u != history.leaver]
    report = rotate_pseudonym_key(
        deps.engine,
        current=PSEUDONYM_KEY,
        new=NEW_KEY,
        now=clock.now(),
        directory=everyone_but_the_leaver,
    )
    assert (report.tombstones_rekeyed, report.tombstones_dropped) == (0, 1)
    with Session(deps.engine) as session:
        assert session.exec(select(ForgottenMember)).all() == []


def test_the_same_csv_after_a_rotation_is_refused_and_new_weeks_import(
    history: History,
    bot: ServedBot,
    deps: Deps,
    clock: ManualClock,
    emulator: SlackEmulator,
    database_url: str,
    rotated_deps: list[Deps],
    tmp_path: Path,
) -> None:
    # Before the rotation: the same file again adds nothing.
    present = snapshot(deps.engine)
    _import(deps, history.csv)
    assert snapshot(deps.engine) == present

    rotate_pseudonym_key(
        deps.engine, current=PSEUDONYM_KEY, new=NEW_KEY, now=clock.now(), directory=_directory(bot)
    )
    fresh = build_deps(make_settings(emulator, database_url, CX_PSEUDONYM_KEY=NEW_KEY), clock=clock)
    rotated_deps.append(fresh)
    before = snapshot(fresh.engine)
    with pytest.raises(ImportRejected) as refused:
        _import(fresh, history.csv)
    message = str(refused.value)
    # Both weeks of the file, the published one and the one still open, each said once.
    assert message.count("was imported before CX_PSEUDONYM_KEY was rotated") == 2
    assert "2026-W41" in message
    assert "2026-W49" in message
    assert snapshot(fresh.engine) == before

    question = fresh.prompts.bank.outcome_questions[-1]
    later = tmp_path / "later.csv"
    rows = [f"2026-10-13,{r},ops,false,{question},4" for r in IMPORTED]
    later.write_text("date,respondent,team,is_leader,question_id,score\n" + "\n".join(rows) + "\n")
    _import(fresh, later)
    with Session(fresh.engine) as session:
        stored = set(session.exec(select(Answer.respondent)).all())
    assert {pseudonym(NEW_KEY.encode(), r) for r in IMPORTED} <= stored


def test_the_command_asks_first_rotates_once_and_the_old_key_is_refused_afterwards(
    history: History, emulator: SlackEmulator, database_url: str, deps: Deps
) -> None:
    env = process_env(emulator, database_url)
    before = snapshot(deps.engine)

    unasked = cxpulse(env, "rotate-pseudonym-key", "--new", NEW_KEY)
    assert unasked.returncode == 2, unasked.stdout + unasked.stderr
    assert "--yes" in unasked.stdout
    assert "1 forgotten-member tombstone(s)" in unasked.stdout
    assert snapshot(deps.engine) == before

    short = cxpulse(env, "rotate-pseudonym-key", "--new", "short", "--yes")
    assert short.returncode == 2
    assert "at least 16 characters" in short.stdout
    same = cxpulse(env, "rotate-pseudonym-key", "--new", PSEUDONYM_KEY, "--yes")
    assert same.returncode == 2
    wrong = cxpulse(
        {**env, "CX_PSEUDONYM_KEY": "not-the-key-at-all-0000"},
        "rotate-pseudonym-key",
        "--new",
        NEW_KEY,
        "--yes",
    )
    assert wrong.returncode == 1
    assert "neither CX_PSEUDONYM_KEY nor the new key" in wrong.stdout
    assert snapshot(deps.engine) == before

    # The new key from the environment rather than the command line (no `ps` can see it).
    rotated = cxpulse({**env, "CX_NEW_PSEUDONYM_KEY": NEW_KEY}, "rotate-pseudonym-key", "--yes")
    assert rotated.returncode == 0, rotated.stdout + rotated.stderr
    assert "now key generation 2" in rotated.stdout
    assert "destroy every copy of it" in rotated.stdout
    assert "Traceback" not in rotated.stderr
    assert PSEUDONYM_KEY not in rotated.stdout + rotated.stderr
    assert NEW_KEY not in rotated.stdout + rotated.stderr

    # Run again (say after an interruption elsewhere): nothing left to do.
    again = cxpulse(env, "rotate-pseudonym-key", "--new", NEW_KEY, "--yes")
    assert again.returncode == 0, again.stdout
    assert "already under the new key" in again.stdout

    stale = cxpulse(env, "digest", "--json")
    assert stale.returncode == 2
    assert "CX_PSEUDONYM_KEY is not the key this database's answers are stored under" in (
        stale.stdout
    )
    assert "Traceback" not in stale.stderr
    current = cxpulse({**env, "CX_PSEUDONYM_KEY": NEW_KEY}, "digest", "--json")
    assert current.returncode == 0, current.stdout + current.stderr
    assert history.week in current.stdout


def test_without_a_bot_token_tombstones_stop_the_command_before_anything_changes(
    history: History, emulator: SlackEmulator, database_url: str, deps: Deps
) -> None:
    env = {k: v for k, v in process_env(emulator, database_url).items() if k != "SLACK_BOT_TOKEN"}
    before = snapshot(deps.engine)
    refused = cxpulse(env, "rotate-pseudonym-key", "--new", NEW_KEY, "--yes")
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "can only be re-keyed from the Slack directory" in refused.stdout
    assert snapshot(deps.engine) == before


def test_help_says_the_order_of_operations_and_what_happens_to_whom() -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "bot", "rotate-pseudonym-key", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert shown.returncode == 0
    words = " ".join(shown.stdout.split())
    for said in (
        "stop every cx-pulse process",
        "Imported respondents",
        "tombstones",
        "interrupted, it changes nothing",
        "CX_NEW_PSEUDONYM_KEY",
    ):
        assert said in words, said


def test_comments_hold_nothing_a_rotation_would_have_to_re_make(
    history: History, bot: ServedBot, deps: Deps, clock: ManualClock
) -> None:
    """Before issue 14 each published comment carried a tag keyed to its author, which a
    rotation re-made; now no comment row holds anything made with either key."""
    old, new = PSEUDONYM_KEY.encode(), NEW_KEY.encode()
    before = snapshot(deps.engine)["published_comment"]
    rotate_pseudonym_key(
        deps.engine, current=PSEUDONYM_KEY, new=NEW_KEY, now=clock.now(), directory=_directory(bot)
    )
    after = snapshot(deps.engine)["published_comment"]
    assert after == before
    assert len(after) == 2
    keyed = {pseudonym(key, u) for key in (old, new) for u in (history.commenter, history.leaver)}
    assert not {str(v) for row in after for v in row} & keyed
