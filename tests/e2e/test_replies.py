"""Confidential two-way replies (issue 14) over signed HTTP and the Slack emulator: a leader
replies to an opted-in comment from the digest, the relay passes it on after a random delay
(the test's clock), the author answers in their DM thread and through the Reply modal, and
either side ends it; withdrawal, expiry, who may reply, escaping and oversized text."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import text

from bot.clock import ManualClock
from bot.render.ids import ActionId, BlockId
from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.harness import ServedBot
from bot.sandbox.people import open_comment_modal, wait_for
from bot.services.context import Deps
from bot.services.replies import MAX_REPLY_CHARS
from tests.e2e.conftest import ADMIN, LEADERS_CHANNEL, Org, make_settings
from tests.e2e.reply_thread import (
    DELAY,
    deliver_everything,
    dm,
    ephemerals_in_thread,
    later,
    leader_replies,
    link_count,
    message_text,
    open_reply_modal,
    queued,
    relay_at,
    reply_buttons,
    reply_deps,
    reply_values,
    root_in_dm,
    thread_of,
    week_with_a_reply_comment,
)
from tests.privacy.insider import slash_reply


@pytest.fixture
def deps(
    database_url: str, emulator: SlackEmulator, org: Org, clock: ManualClock
) -> Iterator[Deps]:
    """Replies on (CX_ENCRYPTION_KEY set), delays drawn from a seeded source."""
    built = reply_deps(database_url, emulator, clock)
    yield built
    built.engine.dispose()


def test_a_full_conversation_both_ways_never_names_the_author(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps, clock: ManualClock
) -> None:
    week = week_with_a_reply_comment(deps, bot, emulator, org, clock)
    leader = org.leaders[0]
    # The digest offers Reply on the opted-in comment only.
    buttons = reply_buttons(week.digest)
    assert len(buttons) == 1
    ((comment_id, shown),) = buttons.items()
    assert "Refunds over $50" in shown
    assert week.other_words in json.dumps(week.digest)

    # The leader replies; their words are escaped wherever they go.
    done = leader_replies(emulator, leader, week.digest, comment_id, "Thanks <!channel> & sorry")
    assert done.json_body is not None
    assert done.json_body["response_action"] == "update"
    assert "Sent." in json.dumps(done.json_body["view"])
    leader_root = root_in_dm(emulator, leader)
    assert "Refunds over $50" in message_text(leader_root)

    # The reply waits a delay drawn from CX_RELAY_DELAY_SECONDS: not a moment less.
    (waiting,) = queued(deps)
    sent_at = clock.now()
    assert waiting.to_author
    assert timedelta(seconds=DELAY[0]) <= waiting.due_at - sent_at <= timedelta(seconds=DELAY[1])
    assert relay_at(deps, bot, clock, later(waiting.due_at, -1)).delivered == 0
    assert not [
        m
        for m in dm(emulator, week.author)
        if any(b.get("block_id") == BlockId.REPLY_ACTIONS for b in m["blocks"])
    ]
    assert relay_at(deps, bot, clock, waiting.due_at).delivered == 1
    author_root = root_in_dm(emulator, week.author)
    shown_to_author = message_text(author_root)
    assert f"<@{leader}>" in shown_to_author  # the author sees who is talking to them
    assert "Thanks &lt;!channel&gt; &amp; sorry" in shown_to_author
    assert "<!channel>" not in shown_to_author
    # Slack keeps this DM: it does not quote the comment (the Reply modal shows it instead).
    assert "Refunds over $50" not in json.dumps(dm(emulator, week.author))

    # The author answers in the thread: passed on after a delay, as "the author".
    _, answered = emulator.write_in_dm(
        week.author,
        "It is <@UALPHA1>'s rule <https://x.example|see> & it hurts",
        thread_ts=author_root["ts"],
    )
    assert answered.status == 200
    told = wait_for(lambda: ephemerals_in_thread(emulator, week.author, author_root["ts"]))
    assert "Passed on" in told[-1]
    (waiting,) = queued(deps)
    assert not waiting.to_author
    assert waiting.due_at - clock.now() >= timedelta(seconds=DELAY[0])
    assert relay_at(deps, bot, clock, later(waiting.due_at, -1)).delivered == 0
    assert relay_at(deps, bot, clock, waiting.due_at).delivered == 1
    (first_answer,) = thread_of(emulator, leader, leader_root["ts"])
    assert "*The author:*" in message_text(first_answer)
    assert "It is @UALPHA1's rule see (https://x.example) &amp; it hurts" in message_text(
        first_answer
    )
    assert "<@UALPHA1>" not in message_text(first_answer)  # nobody is mentioned by the relay

    # The author answers through Reply instead: their words stay out of their DM's history.
    _, action_id, value = emulator.find_button(author_root, action_id_prefix=ActionId.REPLY_ANSWER)
    sent = emulator.click_button(
        week.author,
        channel_id=author_root["channel"],
        message_ts=author_root["ts"],
        action_id=action_id,
        block_id=BlockId.REPLY_ACTIONS,
        value=value,
    )
    modal = wait_for(lambda: emulator.view_for_trigger(sent.trigger_id or ""))
    submitted = emulator.submit_view(
        week.author, view_id=modal["id"], values=reply_values("Through the modal")
    )
    assert submitted.json_body is not None
    assert submitted.json_body["response_action"] == "update"
    deliver_everything(deps, bot, clock)
    assert "Through the modal" in message_text(thread_of(emulator, leader, leader_root["ts"])[-1])
    assert "Through the modal" not in json.dumps(dm(emulator, week.author))

    # The leader writes again in their thread; it reaches the author's thread.
    _, again = emulator.write_in_dm(leader, "What would fix it?", thread_ts=leader_root["ts"])
    assert again.status == 200
    deliver_everything(deps, bot, clock)
    follow_up = thread_of(emulator, week.author, author_root["ts"])[-1]
    assert "What would fix it?" in message_text(follow_up)

    # Nothing the leader can see names the author: not their ID, nor their DM.
    everything_leader_saw = json.dumps(
        [dm(emulator, leader), emulator.messages(LEADERS_CHANNEL), emulator.ephemerals(leader)]
    )
    assert week.author not in everything_leader_saw
    assert emulator.dm_channel(week.author) not in everything_leader_saw
    # No read receipt, typing indicator or reaction was ever sent.
    methods = {call.method for call in emulator.calls()}
    assert not methods & {"reactions.add", "conversations.mark", "chat.meMessage"}

    # The leader closes: the author is told after the usual delay, then the link is gone.
    _, action_id, value = emulator.find_button(
        root_in_dm(emulator, leader), action_id_prefix=ActionId.REPLY_CLOSE_LEADER
    )
    closed = emulator.click_button(
        leader,
        channel_id=leader_root["channel"],
        message_ts=leader_root["ts"],
        action_id=action_id,
        block_id=BlockId.REPLY_ACTIONS,
        value=value,
    )
    assert closed.status == 200
    wait_for(lambda: queued(deps))
    assert link_count(deps) == 1  # not before the author is told
    deliver_everything(deps, bot, clock)
    closing = thread_of(emulator, week.author, author_root["ts"])[-1]
    assert "The leader closed" in message_text(closing)
    assert link_count(deps) == 0
    # Further words in either thread get a polite, private answer and go nowhere.
    before = len(ephemerals_in_thread(emulator, week.author, author_root["ts"]))
    emulator.write_in_dm(week.author, "one more thing", thread_ts=author_root["ts"])
    ended = wait_for(
        lambda: ephemerals_in_thread(emulator, week.author, author_root["ts"])[before:]
    )
    assert "not kept or passed on" in ended[-1]
    emulator.write_in_dm(leader, "hello?", thread_ts=leader_root["ts"])
    wait_for(lambda: "ended" in " ".join(ephemerals_in_thread(emulator, leader, leader_root["ts"])))
    assert queued(deps) == []
    # Admins read what leaders wrote (never the author's words, never who they are).
    audit = slash_reply(emulator, ADMIN, "replies-audit")
    audit_text = json.dumps(audit)
    assert "Thanks &lt;!channel&gt; &amp; sorry" in audit_text
    assert "What would fix it?" in audit_text
    assert "Through the modal" not in audit_text
    assert week.author not in audit_text


def test_the_author_withdraws_and_the_link_is_gone_at_once(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps, clock: ManualClock
) -> None:
    week = week_with_a_reply_comment(deps, bot, emulator, org, clock)
    leader = org.leaders[1]
    (comment_id,) = reply_buttons(week.digest)
    leader_replies(emulator, leader, week.digest, comment_id, "Can you tell me more?")
    deliver_everything(deps, bot, clock)
    author_root = root_in_dm(emulator, week.author)
    leader_root = root_in_dm(emulator, leader)

    reply = slash_reply(emulator, week.author, "withdraw")
    assert "1 link(s)" in json.dumps(reply)
    assert link_count(deps) == 0  # at once, before anyone is told
    # The author's first message loses its buttons; the leader is told after a delay.
    refreshed = next(m for m in dm(emulator, week.author) if m["ts"] == author_root["ts"])
    assert not any(b.get("block_id") == BlockId.REPLY_ACTIONS for b in refreshed["blocks"])
    (notice,) = queued(deps)
    assert not notice.to_author
    assert notice.due_at - clock.now() >= timedelta(seconds=DELAY[0])
    deliver_everything(deps, bot, clock)
    assert "withdrew" in message_text(thread_of(emulator, leader, leader_root["ts"])[-1])

    # The comment stays, linked to nobody, and can no longer be replied to.
    sent = open_reply_modal(emulator, leader, week.digest, comment_id)
    assert sent.status == 200
    refusal = wait_for(
        lambda: [r for r in emulator.responses() if "has ended (closed" in r.get("text", "")]
    )
    assert "nothing more can be passed on" in refusal[-1]["text"]
    emulator.write_in_dm(week.author, "still there?", thread_ts=author_root["ts"])
    said = wait_for(lambda: ephemerals_in_thread(emulator, week.author, author_root["ts"]))
    assert "not kept or passed on" in said[-1]
    assert queued(deps) == []


def test_links_expire_after_the_reply_days_and_both_sides_are_told(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps, clock: ManualClock
) -> None:
    week = week_with_a_reply_comment(deps, bot, emulator, org, clock)
    leader = org.leaders[0]
    (comment_id,) = reply_buttons(week.digest)
    leader_replies(emulator, leader, week.digest, comment_id, "Hello")
    deliver_everything(deps, bot, clock)
    author_root = root_in_dm(emulator, week.author)
    leader_root = root_in_dm(emulator, leader)
    with deps.engine.connect() as connection:
        expires = connection.execute(text("SELECT expires_at FROM reply_link")).scalar_one()
    clock.advance(timedelta(days=deps.settings.reply_days))
    report = relay_at(deps, bot, clock, clock.now() + timedelta(days=1))
    assert report.expired == 1
    assert link_count(deps) == 0
    assert expires is not None
    assert "time for replies is over" in message_text(
        thread_of(emulator, week.author, author_root["ts"])[-1]
    )
    assert "time for replies is over" in message_text(
        thread_of(emulator, leader, leader_root["ts"])[-1]
    )
    # The digest, rendered again, no longer offers Reply.
    from bot.services.digest import build_digest

    assert not [c for c in build_digest(deps).comments if c.replyable]


def test_who_may_reply(
    bot: ServedBot,
    emulator: SlackEmulator,
    org: Org,
    deps: Deps,
    clock: ManualClock,
    database_url: str,
) -> None:
    """Leaders and admins only: a team lead outside the leadership channel is refused (comments
    are published for the whole organisation, never per team); a comment of a week not yet
    published, or below the comment rule, cannot be replied to; a second leader cannot
    write in another's conversation, and an admin cannot read it."""
    week = week_with_a_reply_comment(deps, bot, emulator, org, clock)
    (comment_id,) = reply_buttons(week.digest)
    outsider, team_lead = org.teams["alpha"][2], org.teams["gamma"][0]

    open_reply_modal(emulator, outsider, week.digest, comment_id)
    refused = wait_for(lambda: [r for r in emulator.responses() if "Only leaders" in r["text"]])
    assert refused
    assert queued(deps) == []

    # The first leader holds the conversation; the second, and an admin, are refused.
    leader_replies(emulator, org.leaders[0], week.digest, comment_id, "First")
    for person in (org.leaders[1], ADMIN):
        open_reply_modal(emulator, person, week.digest, comment_id)
    taken = wait_for(
        lambda: (
            len(
                found := [
                    r for r in emulator.responses() if "already in a conversation" in r["text"]
                ]
            )
            == 2
            and found
        )
    )
    assert all(f"<@{org.leaders[0]}>" in r["text"] for r in taken)
    deliver_everything(deps, bot, clock)
    root = root_in_dm(emulator, week.author)
    emulator.write_in_dm(week.author, "my private answer", thread_ts=root["ts"])
    wait_for(lambda: queued(deps))
    deliver_everything(deps, bot, clock)
    # The admin sees nothing of the author's words anywhere they can look.
    audit = json.dumps(slash_reply(emulator, ADMIN, "replies-audit"))
    assert "First" in audit
    assert "my private answer" not in audit
    assert "my private answer" not in json.dumps([dm(emulator, ADMIN), emulator.ephemerals(ADMIN)])
    # A non-admin asking for the audit is refused.
    assert "only for" in json.dumps(slash_reply(emulator, outsider, "replies-audit"))

    # A team lead who is not a leader: refused too, with the reason.
    from bot.runtime import build_deps
    from bot.sandbox.harness import ServedBot as Served

    led = build_deps(
        make_settings(
            emulator,
            database_url,
            CX_ENCRYPTION_KEY=deps.env.encryption_keys[0],
            CX_TEAM_LEADS=f"gamma={team_lead}",
        ),
        clock=clock,
    )
    with Served(led) as other:
        emulator.set_app_url(other.events_url)
        # The team lead may see their team's results here...
        assert "gamma" in json.dumps(slash_reply(emulator, team_lead, "team"))
        before = len(emulator.responses())
        open_reply_modal(emulator, team_lead, week.digest, comment_id)
        # ...but not reply to a comment: none is "their team's".
        refused = wait_for(
            lambda: [r for r in emulator.responses()[before:] if "never per team" in r["text"]]
        )
        assert refused[0]["response_type"] == "ephemeral"
    emulator.set_app_url(bot.events_url)
    led.engine.dispose()
    with deps.engine.connect() as connection:
        audited = connection.execute(text("SELECT leader FROM reply_audit")).scalars().all()
    assert audited == [org.leaders[0]]  # nobody refused got a word through


def test_comments_not_shown_to_leaders_cannot_be_replied_to(
    bot: ServedBot,
    emulator: SlackEmulator,
    org: Org,
    deps: Deps,
    clock: ManualClock,
) -> None:
    """A forged Reply on a comment of the open week, or of a week below the comment rule."""
    from bot.db.models import RoundKind
    from bot.services.rounds import send_round
    from tests.e2e.reply_thread import write_comment
    from tests.privacy.insider import answer_everything, close_rounds

    send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
    # Only 8 answer: below the comment rule (10).
    answer_everything(emulator, deps, dict.fromkeys(org.participants[:8], 4))
    author = org.participants[0]
    assert write_comment(emulator, author, "too few of us", replies=True).status == 200
    with deps.engine.connect() as connection:
        pending = connection.execute(text("SELECT id FROM pending_comment")).scalar_one()
    fake = {"channel": LEADERS_CHANNEL, "ts": "1700000000.000100"}
    open_reply_modal(emulator, org.leaders[0], fake, pending)  # still open: not shown
    wait_for(lambda: [r for r in emulator.responses() if "can't be replied to" in r["text"]])
    close_rounds(deps, clock)
    from bot.services.digest import build_digest

    assert build_digest(deps).comments == []
    assert link_count(deps) == 0  # never shown: its link went with it at publication
    before = len(emulator.responses())
    open_reply_modal(emulator, org.leaders[0], fake, pending)
    wait_for(
        lambda: [r for r in emulator.responses()[before:] if "can't be replied to" in r["text"]]
    )
    assert queued(deps) == []


def test_escaped_and_oversized_text_is_refused_politely(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps, clock: ManualClock
) -> None:
    week = week_with_a_reply_comment(deps, bot, emulator, org, clock)
    leader = org.leaders[0]
    (comment_id,) = reply_buttons(week.digest)
    too_long = "x" * (MAX_REPLY_CHARS + 1)
    refused = leader_replies(emulator, leader, week.digest, comment_id, too_long)
    assert refused.json_body is not None
    assert refused.json_body["response_action"] == "errors"
    assert "3001 characters" in refused.json_body["errors"][BlockId.REPLY_TEXT]
    empty = leader_replies(emulator, leader, week.digest, comment_id, "   ")
    assert empty.json_body is not None
    assert empty.json_body["response_action"] == "errors"
    assert queued(deps) == []
    # A reply of exactly the limit, full of characters Slack would read as markup, arrives
    # whole and literal, split over as many sections as its escaped form needs.
    longest = ("<&>" * (MAX_REPLY_CHARS // 3))[:MAX_REPLY_CHARS]
    ok = leader_replies(emulator, leader, week.digest, comment_id, longest)
    assert ok.json_body is not None
    assert ok.json_body["response_action"] == "update"
    deliver_everything(deps, bot, clock)
    root = root_in_dm(emulator, week.author)
    sections = [b["text"]["text"] for b in root["blocks"] if b["type"] == "section"]
    start = next(i for i, t in enumerate(sections) if "wrote:*" in t) + 1
    pieces = [line.removeprefix(">") for t in sections[start:] for line in t.split("\n")]
    assert "".join(pieces) == "&lt;&amp;&gt;" * (MAX_REPLY_CHARS // 3)
    assert len(sections[start:]) > 1  # 13,000 escaped characters: several sections
    assert all(len(b["text"]["text"]) <= 3000 for b in root["blocks"] if b["type"] == "section")
    # The author's answer over the limit: nothing passed on, and they are told why.
    emulator.write_in_dm(week.author, "y" * 3500, thread_ts=root["ts"])
    said = wait_for(lambda: ephemerals_in_thread(emulator, week.author, root["ts"]))
    assert "3500 characters" in said[-1]
    assert queued(deps) == []


def test_the_read_all_modal_offers_reply_too(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps, clock: ManualClock
) -> None:
    """Reply inside the Read-all modal pushes the reply modal over it."""
    from bot.services.digest import build_digest

    week = week_with_a_reply_comment(deps, bot, emulator, org, clock)
    (comment_id,) = reply_buttons(week.digest)
    leader = org.leaders[0]
    sent = emulator.click_button(
        leader,
        channel_id=LEADERS_CHANNEL,
        message_ts=week.digest["ts"],
        action_id=ActionId.READ_ALL_COMMENTS,
        block_id=BlockId.DIGEST_COMMENTS,
        value=build_digest(deps).period,
    )
    read_all = wait_for(lambda: emulator.view_for_trigger(sent.trigger_id or ""))
    assert comment_id in reply_buttons(read_all)
    pressed = emulator.click_in_view(
        leader,
        view_id=read_all["id"],
        action_id=ActionId.REPLY_TO_COMMENT,
        block_id=f"{BlockId.COMMENT_PREFIX}{comment_id}",
        value=comment_id,
    )
    modal = wait_for(lambda: emulator.view_for_trigger(pressed.trigger_id or ""))
    assert modal["callback_id"] == "leader_reply_modal"
    done = emulator.submit_view(leader, view_id=modal["id"], values=reply_values("From Read all"))
    assert done.json_body is not None
    assert done.json_body["response_action"] == "update"
    deliver_everything(deps, bot, clock)
    assert "From Read all" in message_text(root_in_dm(emulator, week.author))
    # Someone who is not a leader pressing it in a (stale) modal is told so, in a modal.
    outsider = org.teams["alpha"][2]
    again = emulator.click_in_view(
        outsider,
        view_id=read_all["id"],
        action_id=ActionId.REPLY_TO_COMMENT,
        block_id=f"{BlockId.COMMENT_PREFIX}{comment_id}",
        value=comment_id,
    )
    notice = wait_for(lambda: emulator.view_for_trigger(again.trigger_id or ""))
    assert "Only leaders" in json.dumps(notice)


def test_the_comment_modal_offers_replies_only_with_a_key(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps, clock: ManualClock
) -> None:
    from bot.db.models import RoundKind
    from bot.services.rounds import send_round

    send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
    view = open_comment_modal(emulator, org.participants[0])
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    box = blocks[BlockId.COMMENT_REPLIES]
    assert box["optional"] is True
    assert "initial_options" not in box["element"]  # unticked by default
    assert box["element"]["options"][0]["text"]["text"] == (
        "Let leaders reply to me here; they will never see my name."
    )
