"""The insider with a copy of the database (issue 14), after confidential conversations: without
CX_ENCRYPTION_KEY nothing ties a comment or a conversation to its author, even holding
CX_PSEUDONYM_KEY; the only link is ciphertext that says nothing by its length or its date."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import text
from sqlmodel import Session, select

from bot.clock import ManualClock
from bot.db.models import PulseRound, RoundKind
from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.harness import ServedBot
from bot.sandbox.people import wait_for
from bot.services.context import Deps
from bot.services.publishing import post_digest
from bot.services.reply_links import link_cipher
from bot.services.rounds import send_round
from tests.e2e.conftest import Org, comment_texts, last_digest
from tests.e2e.reply_thread import (
    ENCRYPTION_KEY,
    deliver_everything,
    leader_replies,
    queued,
    reply_buttons,
    reply_deps,
    reply_values,
    root_in_dm,
    write_comment,
)
from tests.privacy.insider import answer_everything, close_rounds

COMMENT_TABLES = (
    "pending_comment",
    "published_comment",
    "reply_link",
    "reply_thread",
    "relay_message",
    "reply_audit",
)


@pytest.fixture
def deps(
    database_url: str, emulator: SlackEmulator, org: Org, clock: ManualClock
) -> Iterator[Deps]:
    built = reply_deps(database_url, emulator, clock)
    yield built
    built.engine.dispose()


def _dump(deps: Deps) -> dict[str, list[dict[str, object]]]:
    with deps.engine.connect() as connection:
        return {
            table: [
                dict(row)
                for row in connection.execute(text(f"SELECT * FROM {table}")).mappings()  # noqa: S608
            ]
            for table in COMMENT_TABLES
        }


def test_a_dump_without_the_encryption_key_attributes_no_comment_or_conversation(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps, clock: ManualClock
) -> None:
    send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
    answer_everything(emulator, deps, dict.fromkeys(org.participants, 4))
    # Two authors whose Slack IDs differ in length, both opening their comment to replies;
    # a third who does not.
    authors = [org.teams["alpha"][4], org.teams["beta"][3]]
    assert len(authors[0]) != len(authors[1])
    for index, author in enumerate(authors):
        assert write_comment(emulator, author, f"words number {index}", replies=True).status == 200
    assert write_comment(emulator, org.no_team[1], "not opened", replies=False).status == 200
    wait_for(lambda: len(comment_texts(deps)) == 3)
    with Session(deps.engine) as session:
        opened = session.exec(select(PulseRound.opened_at)).one()
    close_rounds(deps, clock)
    post_digest(deps, bot.gateway)
    digest = last_digest(emulator)
    leader = org.leaders[0]
    # A conversation with the first author, both ways, and one answer still waiting.
    first = next(i for i, t in reply_buttons(digest).items() if "number 0" in t)
    leader_replies(emulator, leader, digest, first, "Tell me more")
    deliver_everything(deps, bot, clock)
    root = root_in_dm(emulator, authors[0])
    emulator.write_in_dm(authors[0], "the answer", thread_ts=root["ts"])
    deliver_everything(deps, bot, clock)
    emulator.write_in_dm(authors[0], "still waiting", thread_ts=root["ts"])
    wait_for(lambda: queued(deps))

    dump = _dump(deps)
    # Everything that could name an author: Slack IDs, DM channels, the DM message the
    # conversation lives under, and every pseudonym (the insider holds CX_PSEUDONYM_KEY).
    with deps.engine.connect() as connection:
        people = connection.execute(text("SELECT slack_user_id FROM member")).scalars().all()
    names = set(people)
    names |= {emulator.dm_channel(p) for p in people}
    names |= {deps.respondent(p) for p in people}
    names.add(root["ts"])
    leader_side = {leader, emulator.dm_channel(leader)}  # leaders are not anonymous
    stored = json.dumps(dump, default=str)
    for name in names - leader_side:
        assert name not in stored, f"{name} is in the dump"
    assert dump["pending_comment"] == []  # the week is published: nothing pending
    # The links are all the same length (padded) and dated by the round, not by any click.
    tokens = [str(row["sealed"]) for row in dump["reply_link"]]
    assert len(tokens) == 2
    assert len({len(t) for t in tokens}) == 1
    reader = MultiFernet([Fernet(ENCRYPTION_KEY.encode())])
    assert {reader.extract_timestamp(t.encode()) for t in tokens} == {int(opened.timestamp())}
    # Another key reads nothing.
    stranger = MultiFernet([Fernet(Fernet.generate_key())])
    for token in tokens:
        with pytest.raises(InvalidToken):
            stranger.decrypt(token.encode())
    # What CX_ENCRYPTION_KEY's holder can read (and the README says): who wrote those two.
    cipher = link_cipher(deps)
    assert cipher is not None
    opened_by = {a.user_id for t in tokens if (a := cipher.open(t)) is not None}
    assert opened_by == set(authors)
    # The audit keeps the leader's words and nothing about the author.
    assert [row["text"] for row in dump["reply_audit"]] == ["Tell me more"]
    assert [row["leader"] for row in dump["reply_thread"]] == [leader]
    # The answers that were passed on are kept nowhere; the one waiting is, until it goes.
    assert "the answer" not in stored
    assert [row["text"] for row in dump["relay_message"]] == ["still waiting"]
    if deps.engine.dialect.name == "sqlite":
        for table in ("pending_comment", "reply_link", "relay_message"):
            with deps.engine.connect() as connection, pytest.raises(Exception, match="rowid"):
                connection.execute(text(f"SELECT rowid FROM {table}"))  # noqa: S608


def test_the_answers_of_a_comment_modal_reply_are_never_in_slacks_history(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps, clock: ManualClock
) -> None:
    """A leader with Slack's export of every DM sees the relay's messages, never the author's
    words written through the Reply modal, and no read or typing signal."""
    from tests.e2e.reply_thread import week_with_a_reply_comment

    week = week_with_a_reply_comment(deps, bot, emulator, org, clock)
    (comment_id,) = reply_buttons(week.digest)
    leader_replies(emulator, org.leaders[0], week.digest, comment_id, "Hello")
    deliver_everything(deps, bot, clock)
    root = root_in_dm(emulator, week.author)
    _, action_id, value = emulator.find_button(root, action_id_prefix="reply_answer")
    sent = emulator.click_button(
        week.author,
        channel_id=root["channel"],
        message_ts=root["ts"],
        action_id=action_id,
        block_id="reply_actions",
        value=value,
    )
    modal = wait_for(lambda: emulator.view_for_trigger(sent.trigger_id or ""))
    emulator.submit_view(week.author, view_id=modal["id"], values=reply_values("modal words"))
    deliver_everything(deps, bot, clock)
    author_dm = [m for m in emulator.export() if m["channel"] == emulator.dm_channel(week.author)]
    assert "modal words" not in json.dumps(author_dm)
    assert "modal words" in json.dumps(emulator.export())  # it reached the leader's side
