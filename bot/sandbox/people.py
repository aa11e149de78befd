"""Acting as a person in the emulator: read your pulse DM, click a score, write a comment, and
read the private confirmation of what you chose.

Shared by the demo, the tests and benchmarks, so they all drive the bot the same way Slack does.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bot.render.ids import ActionId, BlockId
from bot.sandbox.emulator import SentRequest, SlackEmulator


def wait_for(condition: Callable[[], Any], *, timeout: float = 10.0) -> Any:
    """Listeners run after the ack; poll until their effect is visible, and return it."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError("the bot did not finish in time")
        time.sleep(0.02)


def latest_dm(emulator: SlackEmulator, user_id: str) -> dict[str, Any]:
    messages = emulator.messages(emulator.dm_channel(user_id))
    if not messages:
        raise LookupError(f"{user_id} has no DM")
    return messages[-1]


def question_ids(message: dict[str, Any]) -> list[str]:
    """The statements of a pulse DM, in order."""
    return [
        block["block_id"].removeprefix(BlockId.QUESTION_PREFIX)
        for block in message["blocks"]
        if block.get("block_id", "").startswith(BlockId.QUESTION_PREFIX)
    ]


def answered_in(message: dict[str, Any]) -> list[str]:
    """The statements a pulse DM shows as answered (it never shows with what), in order."""
    return [
        block["block_id"].removeprefix(BlockId.ANSWERED_PREFIX)
        for block in message["blocks"]
        if block.get("block_id", "").startswith(BlockId.ANSWERED_PREFIX)
    ]


def confirmations(emulator: SlackEmulator, user_id: str) -> list[dict[str, Any]]:
    """The ephemeral confirmations of their choices the person saw in their DM, oldest first."""
    channel = emulator.dm_channel(user_id)
    return [
        shown
        for shown in emulator.ephemerals(user_id)
        if shown["channel"] == channel
        and shown["via"] == "chat.postEphemeral"
        and any(
            block.get("block_id", "").startswith(BlockId.CONFIRMED_PREFIX)
            for block in shown["blocks"]
        )
    ]


def confirmed(emulator: SlackEmulator, user_id: str) -> dict[str, str]:
    """The person's newest confirmation: each answered statement's line (mrkdwn), by id."""
    shown = confirmations(emulator, user_id)
    if not shown:
        return {}
    return {
        block["block_id"].removeprefix(BlockId.CONFIRMED_PREFIX): block["text"]["text"]
        for block in shown[-1]["blocks"]
        if block.get("block_id", "").startswith(BlockId.CONFIRMED_PREFIX)
    }


def click_score(
    emulator: SlackEmulator, user_id: str, question_id: str, score: int, **signing: Any
) -> SentRequest:
    """Click the score button of one statement in the person's newest DM."""
    message = latest_dm(emulator, user_id)
    block_id = f"{BlockId.QUESTION_PREFIX}{question_id}"
    block = next(b for b in message["blocks"] if b.get("block_id") == block_id)
    action_id = f"{ActionId.ANSWER_PREFIX}{score}"
    button = next(e for e in block["elements"] if e["action_id"] == action_id)
    return emulator.click_button(
        user_id,
        channel_id=emulator.dm_channel(user_id),
        message_ts=message["ts"],
        action_id=action_id,
        block_id=block_id,
        value=button["value"],
        **signing,
    )


def open_comment_modal(emulator: SlackEmulator, user_id: str) -> dict[str, Any]:
    """Click "Add a confidential comment" and return the modal the bot opened."""
    message = latest_dm(emulator, user_id)
    block_id, action_id, value = emulator.find_button(
        message, action_id_prefix=ActionId.OPEN_COMMENT
    )
    sent = emulator.click_button(
        user_id,
        channel_id=emulator.dm_channel(user_id),
        message_ts=message["ts"],
        action_id=action_id,
        block_id=block_id,
        value=value,
    )
    if sent.status != 200:
        raise RuntimeError(f"the bot answered {sent.status} to the comment button")
    view: dict[str, Any] = wait_for(lambda: emulator.view_for_trigger(sent.trigger_id or ""))
    return view


def submit_comment(
    emulator: SlackEmulator, user_id: str, view: dict[str, Any], question_id: str, text: str
) -> SentRequest:
    return emulator.submit_view(
        user_id,
        view_id=view["id"],
        values={
            BlockId.COMMENT_QUESTION: {
                ActionId.COMMENT_QUESTION: {
                    "type": "static_select",
                    "selected_option": {"value": question_id},
                }
            },
            BlockId.COMMENT_TEXT: {
                ActionId.COMMENT_TEXT: {"type": "plain_text_input", "value": text}
            },
        },
    )


def ask_to_pulse_now(emulator: SlackEmulator, admin: str) -> dict[str, Any]:
    """Type `/cx pulse` as an admin; returns the reply, which says what a round now would do
    (with Send / Don't send buttons) or why none will be sent."""
    before = len(emulator.ephemerals(admin))
    sent = emulator.send_slash_command(admin, "pulse")
    if sent.status != 200:
        raise RuntimeError(f"the bot answered {sent.status} to /cx pulse")
    shown: list[dict[str, Any]] = wait_for(lambda: emulator.ephemerals(admin)[before:])
    return shown[0]


def answer_pulse_question(
    emulator: SlackEmulator, admin: str, question: dict[str, Any], *, send: bool
) -> SentRequest:
    """Click Send (or Don't send) in the reply `ask_to_pulse_now` returned."""
    action = ActionId.PULSE_NOW_CONFIRM if send else ActionId.PULSE_NOW_CANCEL
    block_id, action_id, value = emulator.find_button(question, action_id_prefix=action)
    sent = emulator.click_button(
        admin,
        channel_id=question["channel"],
        message_ts=question["message_ts"],
        action_id=action_id,
        block_id=block_id,
        value=value,
    )
    if sent.status != 200:
        raise RuntimeError(f"the bot answered {sent.status} to the pulse question's button")
    return sent


def pulse_now(emulator: SlackEmulator, admin: str) -> SentRequest:
    """`/cx pulse`, then Send: the round goes out (the caller waits for it)."""
    return answer_pulse_question(emulator, admin, ask_to_pulse_now(emulator, admin), send=True)
