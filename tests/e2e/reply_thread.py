"""Acting out a confidential conversation over signed HTTP (shared by tests/e2e/test_replies.py
and tests/privacy/test_reply_*.py): comments opened to replies, a leader's Reply from the
digest, the relay run with the test's clock, and each side's DM."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from cryptography.fernet import Fernet
from sqlalchemy import text

from bot.clock import ManualClock
from bot.db import relay
from bot.db.models import RoundKind
from bot.render.ids import ActionId, BlockId
from bot.runtime import build_deps
from bot.sandbox.emulator import SentRequest, SlackEmulator
from bot.sandbox.harness import ServedBot
from bot.sandbox.people import latest_dm, open_comment_modal, question_ids, wait_for
from bot.services.context import Deps
from bot.services.publishing import post_digest
from bot.services.replies import RelayReport, run_relay
from bot.services.rounds import send_round
from bot.slack.gateway import RELAY_EVENT
from tests.e2e.conftest import LEADERS_CHANNEL, Org, comment_texts, last_digest, make_settings
from tests.privacy.insider import answer_everything, close_rounds

ENCRYPTION_KEY = Fernet.generate_key().decode()
DELAY = (60, 600)


def reply_deps(
    database_url: str, emulator: SlackEmulator, clock: ManualClock, **extra: Any
) -> Deps:
    """The test deployment with replies on (CX_ENCRYPTION_KEY) and a seeded delay source."""
    settings = make_settings(
        emulator,
        database_url,
        CX_ENCRYPTION_KEY=ENCRYPTION_KEY,
        CX_RELAY_DELAY_SECONDS=f"{DELAY[0]},{DELAY[1]}",
        **extra,
    )
    return replace(build_deps(settings, clock=clock), relay_random=random.Random(14))


def write_comment(
    emulator: SlackEmulator, user: str, words: str, *, replies: bool, question: int = -1
) -> SentRequest:
    """The person writes a comment in the modal, ticking "let leaders reply" or not."""
    view = open_comment_modal(emulator, user)
    values: dict[str, dict[str, dict[str, Any]]] = {
        BlockId.COMMENT_QUESTION: {
            ActionId.COMMENT_QUESTION: {
                "type": "static_select",
                "selected_option": {"value": question_ids(latest_dm(emulator, user))[question]},
            }
        },
        BlockId.COMMENT_TEXT: {ActionId.COMMENT_TEXT: {"type": "plain_text_input", "value": words}},
        BlockId.COMMENT_REPLIES: {
            ActionId.COMMENT_REPLIES: {
                "type": "checkboxes",
                "selected_options": [{"value": "replies"}] if replies else [],
            }
        },
    }
    return emulator.submit_view(user, view_id=view["id"], values=values)


@dataclass
class Week:
    """A closed, published week whose digest is posted: `author` opened their comment to
    replies, `other` did not."""

    author: str
    other: str
    words: str
    other_words: str
    digest: dict[str, Any]


def week_with_a_reply_comment(
    deps: Deps,
    bot: ServedBot,
    emulator: SlackEmulator,
    org: Org,
    clock: ManualClock,
    *,
    words: str = "Refunds over $50 need my manager, who is never there",
) -> Week:
    send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
    answer_everything(emulator, deps, {user: 3 + i % 3 for i, user in enumerate(org.participants)})
    author, other = org.teams["beta"][3], org.teams["alpha"][4]
    other_words = "The new tool is slow"
    assert write_comment(emulator, author, words, replies=True).status == 200
    assert write_comment(emulator, other, other_words, replies=False).status == 200
    wait_for(lambda: len(comment_texts(deps)) == 2)
    close_rounds(deps, clock)
    post_digest(deps, bot.gateway)
    return Week(author, other, words, other_words, last_digest(emulator))


def reply_buttons(message: dict[str, Any]) -> dict[str, str]:
    """The comments of a message (or view) with a Reply button: comment id -> section text."""
    found = {}
    for block in message.get("blocks") or []:
        accessory = block.get("accessory") or {}
        if accessory.get("action_id") == ActionId.REPLY_TO_COMMENT:
            found[accessory["value"]] = block["text"]["text"]
    return found


def open_reply_modal(
    emulator: SlackEmulator, user: str, message: dict[str, Any], comment_id: str
) -> SentRequest:
    """A leader presses Reply on a comment in a channel or DM message."""
    return emulator.click_button(
        user,
        channel_id=message["channel"],
        message_ts=message["ts"],
        action_id=ActionId.REPLY_TO_COMMENT,
        block_id=f"{BlockId.COMMENT_PREFIX}{comment_id}",
        value=comment_id,
    )


def reply_values(words: str) -> dict[str, dict[str, dict[str, Any]]]:
    return {BlockId.REPLY_TEXT: {ActionId.REPLY_TEXT: {"type": "plain_text_input", "value": words}}}


def leader_replies(
    emulator: SlackEmulator, leader: str, digest: dict[str, Any], comment_id: str, words: str
) -> SentRequest:
    """Reply on the digest, then Send in the modal it opens; returns the submission's answer."""
    sent = open_reply_modal(emulator, leader, digest, comment_id)
    assert sent.status == 200
    modal = wait_for(lambda: emulator.view_for_trigger(sent.trigger_id or ""))
    assert modal["callback_id"] == "leader_reply_modal"
    return emulator.submit_view(leader, view_id=modal["id"], values=reply_values(words))


def queued(deps: Deps) -> list[relay.Queued]:
    with deps.engine.connect() as connection:
        return relay.waiting(connection)


def relay_at(deps: Deps, bot: ServedBot, clock: ManualClock, moment: datetime) -> RelayReport:
    """Move the clock to `moment` and run the relay job as the scheduler would."""
    clock.set(moment)
    return run_relay(deps, bot.gateway)


def deliver_everything(deps: Deps, bot: ServedBot, clock: ManualClock) -> RelayReport:
    """Run the relay once every message waiting is due (at the latest due time)."""
    waiting: list[relay.Queued] = wait_for(lambda: queued(deps))  # listeners run after the ack
    return relay_at(deps, bot, clock, max(m.due_at for m in waiting))


def dm(emulator: SlackEmulator, user: str) -> list[dict[str, Any]]:
    return emulator.messages(emulator.dm_channel(user))


def thread_of(emulator: SlackEmulator, user: str, root_ts: str) -> list[dict[str, Any]]:
    return [m for m in dm(emulator, user) if m.get("thread_ts") == root_ts]


def conversation_roots(emulator: SlackEmulator, user: str) -> list[dict[str, Any]]:
    """Conversations' first messages in this person's DM (those with Reply/Close, or that had)."""
    return [
        m
        for m in dm(emulator, user)
        if not m.get("thread_ts") and (m.get("metadata") or {}).get("event_type") == RELAY_EVENT
    ]


def root_in_dm(emulator: SlackEmulator, user: str) -> dict[str, Any]:
    """The newest conversation's first message in this person's DM, once there is one."""
    found: list[dict[str, Any]] = wait_for(lambda: conversation_roots(emulator, user))
    return found[-1]


def message_text(message: dict[str, Any]) -> str:
    return json.dumps({"text": message.get("text"), "blocks": message.get("blocks")})


def ephemerals_in_thread(emulator: SlackEmulator, user: str, thread_ts: str) -> list[str]:
    return [e["text"] for e in emulator.ephemerals(user) if e.get("thread_ts") == thread_ts]


def link_count(deps: Deps) -> int:
    with deps.engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM reply_link")).scalar_one())


def later(moment: datetime, seconds: float) -> datetime:
    return moment + timedelta(seconds=seconds)


__all__ = ["LEADERS_CHANNEL"]
