"""Acting as people in the emulator: read a DM, click a score, write a comment."""

from __future__ import annotations

from typing import Any

from bot.render.ids import ActionId, BlockId
from bot.sandbox.emulator import SentRequest, SlackEmulator
from tests.e2e.conftest import wait_for


def latest_dm(emulator: SlackEmulator, user_id: str) -> dict[str, Any]:
    messages = emulator.messages(emulator.dm_channel(user_id))
    assert messages, f"{user_id} has no DM"
    return messages[-1]


def question_ids(message: dict[str, Any]) -> list[str]:
    return [
        block["block_id"].removeprefix(BlockId.QUESTION_PREFIX)
        for block in message["blocks"]
        if block.get("block_id", "").startswith(BlockId.QUESTION_PREFIX)
    ]


def click_score(
    emulator: SlackEmulator, user_id: str, question_id: str, score: int, **kwargs: Any
) -> SentRequest:
    message = latest_dm(emulator, user_id)
    block_id = f"{BlockId.QUESTION_PREFIX}{question_id}"
    block = next(b for b in message["blocks"] if b.get("block_id") == block_id)
    button = next(
        e for e in block["elements"] if e["action_id"] == f"{ActionId.ANSWER_PREFIX}{score}"
    )
    return emulator.click_button(
        user_id,
        channel_id=emulator.dm_channel(user_id),
        message_ts=message["ts"],
        action_id=button["action_id"],
        block_id=block_id,
        value=button["value"],
        **kwargs,
    )


def open_comment_modal(emulator: SlackEmulator, user_id: str) -> dict[str, Any]:
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
    assert sent.status == 200
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
