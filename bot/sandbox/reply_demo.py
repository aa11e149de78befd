"""The demo's confidential conversation (issue 14), played over signed HTTP like everything
else: someone opens their comment to replies, a leader finds it in the digest's Read-all
modal and replies, the relay passes it on after its random delay (on the demo's clock), and
the author's answer comes back to the leader signed "the author"."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.clock import ManualClock
from bot.db import relay
from bot.render.digest import is_digest
from bot.render.ids import ActionId, BlockId
from bot.sandbox.emulator import SentRequest, SlackEmulator
from bot.sandbox.people import latest_dm, open_comment_modal, question_ids, wait_for
from bot.services.context import Deps
from bot.services.ports import SlackGateway
from bot.services.replies import run_relay
from bot.slack.gateway import RELAY_EVENT

MAX_PAGES = 50


def comment_with_replies(
    emulator: SlackEmulator, user_id: str, text: str, *, question: str | None = None
) -> SentRequest:
    """Write a comment in the modal with "Let leaders reply to me here" ticked."""
    view = open_comment_modal(emulator, user_id)
    chosen = question or question_ids(latest_dm(emulator, user_id))[-1]
    return emulator.submit_view(
        user_id,
        view_id=view["id"],
        values={
            BlockId.COMMENT_QUESTION: {
                ActionId.COMMENT_QUESTION: {
                    "type": "static_select",
                    "selected_option": {"value": chosen},
                }
            },
            BlockId.COMMENT_TEXT: {
                ActionId.COMMENT_TEXT: {"type": "plain_text_input", "value": text}
            },
            BlockId.COMMENT_REPLIES: {
                ActionId.COMMENT_REPLIES: {
                    "type": "checkboxes",
                    "selected_options": [{"value": "replies"}],
                }
            },
        },
    )


def _reply_button(view: dict[str, Any]) -> str | None:
    for block in view.get("blocks") or []:
        accessory = block.get("accessory") or {}
        if accessory.get("action_id") == ActionId.REPLY_TO_COMMENT:
            return str(accessory["value"])
    return None


def _relayed(emulator: SlackEmulator, user_id: str) -> list[dict[str, Any]]:
    return [
        m
        for m in emulator.messages(emulator.dm_channel(user_id))
        if (m.get("metadata") or {}).get("event_type") == RELAY_EVENT
    ]


def _page_after(
    emulator: SlackEmulator, shown: dict[str, Any]
) -> Callable[[], dict[str, Any] | None]:
    """The modal once the app has replaced `shown` with the next page (None until then)."""

    def changed() -> dict[str, Any] | None:
        now = emulator.views()[shown["id"]]
        return now if now["private_metadata"] != shown["private_metadata"] else None

    return changed


def _waiting(deps: Deps) -> bool:
    with deps.engine.connect() as connection:
        return bool(relay.waiting(connection))


@dataclass(frozen=True, slots=True)
class Conversation:
    leader_side: list[dict[str, Any]]  # the leader's DM: their first message and the thread
    waited_s: float  # how long the relay held the leader's reply


def play_conversation(
    emulator: SlackEmulator,
    deps: Deps,
    gateway: SlackGateway,
    clock: ManualClock,
    *,
    leadership_channel: str,
    leader: str,
    author: str,
    reply: str,
    answer: str,
) -> Conversation | None:
    """None when no comment in the latest digest is open to replies."""
    digest = [m for m in emulator.messages(leadership_channel) if is_digest(m)][-1]
    comment_id = _reply_button(digest)
    if comment_id is None:
        # Not among the five the digest quotes: the leader pages through Read all.
        period = next(
            e["value"]
            for b in digest["blocks"]
            if b.get("block_id") == BlockId.DIGEST_COMMENTS
            for e in b["elements"]
        )
        sent = emulator.click_button(
            leader,
            channel_id=leadership_channel,
            message_ts=digest["ts"],
            action_id=ActionId.READ_ALL_COMMENTS,
            block_id=BlockId.DIGEST_COMMENTS,
            value=period,
        )
        view = wait_for(lambda: emulator.view_for_trigger(sent.trigger_id or ""))
        for _ in range(MAX_PAGES):
            comment_id = _reply_button(view)
            if comment_id is not None:
                break
            nav = next(
                (b for b in view["blocks"] if b.get("block_id") == BlockId.COMMENTS_NAV), None
            )
            forward = [
                e
                for e in (nav or {}).get("elements", [])
                if e["action_id"] == ActionId.COMMENTS_NEXT
            ]
            if not forward:
                return None
            emulator.click_in_view(
                leader,
                view_id=view["id"],
                action_id=ActionId.COMMENTS_NEXT,
                block_id=BlockId.COMMENTS_NAV,
                value=forward[0]["value"],
            )
            view = wait_for(_page_after(emulator, view))
        if comment_id is None:
            return None
        pressed = emulator.click_in_view(
            leader,
            view_id=view["id"],
            action_id=ActionId.REPLY_TO_COMMENT,
            block_id=f"{BlockId.COMMENT_PREFIX}{comment_id}",
            value=comment_id,
        )
    else:
        pressed = emulator.click_button(
            leader,
            channel_id=leadership_channel,
            message_ts=digest["ts"],
            action_id=ActionId.REPLY_TO_COMMENT,
            block_id=f"{BlockId.COMMENT_PREFIX}{comment_id}",
            value=comment_id,
        )
    modal = wait_for(lambda: emulator.view_for_trigger(pressed.trigger_id or ""))
    emulator.submit_view(
        leader,
        view_id=modal["id"],
        values={
            BlockId.REPLY_TEXT: {ActionId.REPLY_TEXT: {"type": "plain_text_input", "value": reply}}
        },
    )
    wait_for(lambda: _relayed(emulator, leader))
    with deps.engine.connect() as connection:
        due = max(m.due_at for m in relay.waiting(connection))
    high = deps.settings.relay_delay_seconds[1]
    started = clock.now()
    waited = 0.0
    while not _relayed(emulator, author) and waited <= high:  # the relay job, every few s
        clock.advance(timedelta(seconds=max(1.0, high / 10)))
        waited = (clock.now() - started).total_seconds()
        run_relay(deps, gateway)
    roots = _relayed(emulator, author)
    if not roots:
        return None
    emulator.write_in_dm(author, answer, thread_ts=roots[-1]["ts"])
    wait_for(lambda: _waiting(deps))  # the listener queues it after acknowledging the event
    leader_root = _relayed(emulator, leader)[0]
    for _ in range(20):
        clock.advance(timedelta(seconds=high))
        run_relay(deps, gateway)
        thread = [
            m
            for m in emulator.messages(emulator.dm_channel(leader))
            if m.get("thread_ts") == leader_root["ts"]
        ]
        if thread:
            return Conversation([leader_root, *thread], (due - started).total_seconds())
    return None
