"""The reply relay's guarantees (bot.services.replies), against the emulator over real HTTP:
each message is delivered once whatever Slack does to the connection and however many
workers run at once, its delay is drawn from CX_RELAY_DELAY_SECONDS (and keeps a
conversation's order), and `cxpulse rotate-keys` re-encrypts the links without dating them."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet, MultiFernet
from sqlalchemy import text

from bot.clock import ManualClock
from bot.sandbox.emulator import Chaos, SlackEmulator
from bot.sandbox.harness import ServedBot
from bot.services.context import Deps
from bot.services.encryption_keys import reencrypt_database
from bot.services.replies import relay_due, send_leader_reply
from bot.services.reply_links import LinkCipher
from bot.slack.gateway import RELAY_EVENT
from tests.e2e import conftest as e2e
from tests.e2e.conftest import Org
from tests.e2e.reply_thread import (
    DELAY,
    ENCRYPTION_KEY,
    conversation_roots,
    deliver_everything,
    queued,
    relay_at,
    reply_buttons,
    reply_deps,
    week_with_a_reply_comment,
)

# The end-to-end suite's real parts: the emulator, the org in it, the clock, the served bot.
emulator, org, clock, bot = e2e.emulator, e2e.org, e2e.clock, e2e.bot


@pytest.fixture
def deps(
    database_url: str, emulator: SlackEmulator, org: Org, clock: ManualClock
) -> Iterator[Deps]:
    built = reply_deps(database_url, emulator, clock)
    yield built
    built.engine.dispose()


def _relayed(emulator: SlackEmulator, user: str) -> list[dict[str, object]]:
    return [
        m
        for m in emulator.messages(emulator.dm_channel(user))
        if (m.get("metadata") or {}).get("event_type") == RELAY_EVENT
    ]


def test_a_dropped_connection_after_slack_posted_never_doubles_a_message(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps, clock: ManualClock
) -> None:
    week = week_with_a_reply_comment(deps, bot, emulator, org, clock)
    (comment_id,) = reply_buttons(week.digest)
    send_leader_reply(
        deps, bot.gateway, comment_id=comment_id, leader=org.leaders[0], text="Once only"
    )
    (waiting,) = queued(deps)
    # Slack posts it, then the connection drops: the relay cannot know it arrived.
    emulator.set_chaos("chat.postMessage", Chaos(dropped_after=1.0))
    first = relay_at(deps, bot, clock, waiting.due_at)
    emulator.set_chaos("chat.postMessage", None)
    assert (first.delivered, first.retried) == (0, 1)
    assert len(_relayed(emulator, week.author)) == 1  # it did arrive
    # The next run looks in Slack's history first and finds it: no second copy.
    second = relay_at(deps, bot, clock, waiting.due_at + timedelta(minutes=1))
    assert second.delivered == 1
    assert len(_relayed(emulator, week.author)) == 1
    assert queued(deps) == []


def test_workers_running_at_once_deliver_each_message_once(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps, clock: ManualClock
) -> None:
    week = week_with_a_reply_comment(deps, bot, emulator, org, clock)
    (comment_id,) = reply_buttons(week.digest)
    for words in ("one", "two", "three"):
        send_leader_reply(
            deps, bot.gateway, comment_id=comment_id, leader=org.leaders[0], text=words
        )
    clock.set(max(m.due_at for m in queued(deps)))
    workers = [threading.Thread(target=relay_due, args=(deps, bot.gateway)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    relay_due(deps, bot.gateway)  # whatever was still next in line
    messages = _relayed(emulator, week.author)
    words = [str(m["text"]) for m in messages]
    assert len(messages) == 3
    # In the order they were written: the root first, then the thread.
    assert "one" in words[0]
    assert "two" in words[1]
    assert "three" in words[2]
    assert queued(deps) == []


def test_delays_are_drawn_from_the_setting_and_keep_a_conversations_order(
    bot: ServedBot,
    emulator: SlackEmulator,
    org: Org,
    deps: Deps,
    clock: ManualClock,
) -> None:
    week = week_with_a_reply_comment(deps, bot, emulator, org, clock)
    (comment_id,) = reply_buttons(week.digest)
    seeded = replace(deps, relay_random=random.Random(3))
    expected = random.Random(3)
    now = clock.now()
    send_leader_reply(seeded, bot.gateway, comment_id=comment_id, leader=org.leaders[0], text="a")
    send_leader_reply(seeded, bot.gateway, comment_id=comment_id, leader=org.leaders[0], text="b")
    first, second = sorted(queued(deps), key=lambda m: m.due_at)
    draws = [timedelta(seconds=expected.uniform(*DELAY)) for _ in range(2)]
    assert first.due_at == now + draws[0]
    # The second draw may be shorter; it still waits for the first (plus a second).
    assert second.due_at == max(now + draws[1], first.due_at + timedelta(seconds=1))
    assert all(timedelta(seconds=DELAY[0]) <= m.due_at - now for m in (first, second))
    # Nothing is delivered before its time, whatever the job's timing.
    assert relay_at(deps, bot, clock, first.due_at - timedelta(microseconds=1)).delivered == 0
    assert relay_at(deps, bot, clock, first.due_at).delivered == 1
    deliver_everything(deps, bot, clock)
    assert len(conversation_roots(emulator, week.author)) == 1


def test_rotate_keys_reencrypts_the_links_and_keeps_their_coarse_date(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps, clock: ManualClock
) -> None:
    week_with_a_reply_comment(deps, bot, emulator, org, clock)
    with deps.engine.connect() as connection:
        (before,) = connection.execute(text("SELECT sealed FROM reply_link")).scalars().all()
    old = MultiFernet([Fernet(ENCRYPTION_KEY.encode())])
    new_key = Fernet.generate_key().decode()
    report = reencrypt_database(
        deps.engine, keys=(new_key, ENCRYPTION_KEY), scopes=("main", "workspace")
    )
    assert report is not None
    assert report.values == 1
    with deps.engine.connect() as connection:
        (after,) = connection.execute(text("SELECT sealed FROM reply_link")).scalars().all()
    only_new = MultiFernet([Fernet(new_key.encode())])
    assert after != before
    assert only_new.extract_timestamp(after.encode()) == old.extract_timestamp(before.encode())
    author = LinkCipher(only_new).open(after)
    assert author is not None
    assert author == LinkCipher(old).open(before)
