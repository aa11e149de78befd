"""Threads in the Slack emulator: `conversations.replies`, and a person writing in their DM
with the bot (stored like Slack stores it, then sent to the app as a signed `message` event,
as the `message.im` subscription delivers it).

Wired into `SlackEmulator` (its `_methods` table and `SlackEmulator.write_in_dm`); it works on
the emulator's own state, under its lock.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from bot.sandbox.actors import SentRequest

if TYPE_CHECKING:
    from bot.sandbox.emulator import SlackEmulator


def conversations_replies(emulator: SlackEmulator, params: dict[str, Any]) -> dict[str, Any]:
    """A thread: its parent, then its replies, oldest first (Slack's order), paginated."""
    from bot.sandbox import emulator as slack

    channel_id = emulator._target_channel(params.get("channel"), allow_user=False)
    ts = str(params.get("ts") or "")
    if not ts:
        raise slack.SlackError("thread_not_found")
    stored = emulator._state.messages.get(channel_id, [])
    thread = [m for m in stored if m["ts"] == ts or m.get("thread_ts") == ts]
    if not any(m["ts"] == ts for m in thread):
        raise slack.SlackError("thread_not_found")
    shown = []
    for message in sorted(thread, key=lambda m: slack._ts_key(m["ts"])):
        copied = slack._copied(message)
        if not slack._truthy(params.get("include_all_metadata")):
            copied.pop("metadata", None)
        shown.append(copied)
    page, metadata = slack._page(shown, params, f"replies:{channel_id}:{ts}")
    return {
        "messages": page,
        "has_more": bool(metadata["next_cursor"]),
        "response_metadata": metadata,
    }


def write_in_dm(
    emulator: SlackEmulator,
    user_id: str,
    text: str,
    *,
    thread_ts: str | None = None,
    signing_secret: str | None = None,
) -> tuple[dict[str, Any], SentRequest]:
    """The person types `text` in their DM with the bot (in a thread, with `thread_ts`):
    Slack stores the message and sends the app a `message` event from an `im` channel.
    Returns the stored message and the app's answer to the event."""
    from bot.sandbox import emulator as slack

    channel_id = emulator.dm_channel(user_id)
    with emulator._lock:
        emulator._user(user_id)
        if channel_id not in emulator._state.dms:
            raise slack.SlackError("channel_not_found")
        if thread_ts is not None:
            emulator._find_message(channel_id, thread_ts)  # a thread under a real message
        fields: dict[str, Any] = {"user": user_id, "text": text, "bot_id": None, "app_id": None}
        if thread_ts is not None:
            fields["thread_ts"] = thread_ts
        message = emulator._store_message(channel_id, fields)
        stored = slack._copied(message)
    event: dict[str, Any] = {
        "type": "message",
        "channel": channel_id,
        "channel_type": "im",
        "user": user_id,
        "text": text,
        "ts": stored["ts"],
        "event_ts": f"{time.time():.6f}",
    }
    if thread_ts is not None:
        event["thread_ts"] = thread_ts
    return stored, emulator.send_event(event, signing_secret=signing_secret)
