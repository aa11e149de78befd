"""Forget-me with confidential replies (issue 14): the person's comments are found only through
their reply links. An opted-in comment goes, from the database and from the digest already
posted, and its conversation ends (the leader told after the relay's delay); a comment they
left without a link stays, linked to nobody, and the reply says so plainly."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import text

from bot.clock import ManualClock
from bot.db.models import RoundKind
from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.harness import ServedBot
from bot.sandbox.people import wait_for
from bot.services.context import Deps
from bot.services.publishing import post_digest
from bot.services.rounds import send_round
from tests.e2e.conftest import LEADERS_CHANNEL, Org, comment_texts, last_digest
from tests.e2e.reply_thread import (
    DELAY,
    deliver_everything,
    dm,
    leader_replies,
    link_count,
    queued,
    reply_buttons,
    reply_deps,
    root_in_dm,
    thread_of,
    write_comment,
)
from tests.privacy.insider import answer_everything, close_rounds, forget_me, slash_reply


@pytest.fixture
def deps(
    database_url: str, emulator: SlackEmulator, org: Org, clock: ManualClock
) -> Iterator[Deps]:
    built = reply_deps(database_url, emulator, clock)
    yield built
    built.engine.dispose()


def test_forget_me_removes_the_linked_comment_and_ends_its_conversation(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps, clock: ManualClock
) -> None:
    send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
    answer_everything(emulator, deps, dict.fromkeys(org.participants, 4))
    leaver = org.teams["alpha"][3]
    assert write_comment(emulator, leaver, "LINKED WORDS", replies=True).status == 200
    assert (
        write_comment(emulator, leaver, "UNLINKED WORDS", replies=False, question=0).status == 200
    )
    wait_for(lambda: len(comment_texts(deps)) == 2)
    close_rounds(deps, clock)
    post_digest(deps, bot.gateway)
    digest = last_digest(emulator)
    (comment_id,) = reply_buttons(digest)
    leader = org.leaders[1]
    leader_replies(emulator, leader, digest, comment_id, "Thank you, tell me more")
    deliver_everything(deps, bot, clock)
    leader_root = root_in_dm(emulator, leader)
    author_root = root_in_dm(emulator, leaver)

    forget_me(emulator, leaver)
    done = next(r["text"] for r in reversed(emulator.responses()) if r["text"].startswith("Done:"))
    assert "1 comment(s) opened to replies" in done
    assert "linked to nobody" in done
    # The linked comment is gone: from the database, and from the digest already posted.
    assert comment_texts(deps) == ["UNLINKED WORDS"]
    posted = next(m for m in emulator.messages(LEADERS_CHANNEL) if m["ts"] == digest["ts"])
    assert "LINKED WORDS" not in json.dumps(posted).replace("UNLINKED WORDS", "")
    assert link_count(deps) == 0
    # The conversation in their DM is cleared like their pulse DMs.
    cleared = next(m for m in dm(emulator, leaver) if m["ts"] == author_root["ts"])
    assert cleared["blocks"] == []
    assert "forget-me" in cleared["text"]
    # The leader is told it ended, after the relay's delay (not at the moment of forget-me).
    (notice,) = queued(deps)
    assert not notice.to_author
    assert notice.due_at - clock.now() >= timedelta(seconds=DELAY[0])
    deliver_everything(deps, bot, clock)
    assert "withdrew" in json.dumps(thread_of(emulator, leader, leader_root["ts"])[-1])
    # Nothing anywhere links the comment left behind to them.
    with deps.engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM published_comment")).mappings().all()
    assert [row["text"] for row in rows] == ["UNLINKED WORDS"]
    assert not {str(v) for row in rows for v in row.values()} & {leaver, deps.respondent(leaver)}
    # Admins still read what the leader wrote (the audit log is kept), never the author.
    audit = json.dumps(slash_reply(emulator, org.no_team[0], "replies-audit"))
    assert "Thank you, tell me more" in audit
    assert leaver not in audit
