"""What an insider does: keep every output they may see, before and after each event."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from typing import Any

from bot.clock import ManualClock
from bot.render.ids import ActionId, BlockId
from bot.render.json_report import report_json
from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.people import wait_for
from bot.services.context import Deps
from bot.services.digest import build_digest
from bot.services.export import plan_export, write_csv
from tests.e2e.conftest import answer_each

answer_everything = answer_each  # the insider's colleagues answering, as everywhere else


def close_rounds(deps: Deps, clock: ManualClock) -> None:
    clock.advance(timedelta(days=deps.settings.round_days, hours=1))


def export_text(deps: Deps) -> str:
    out = io.StringIO()
    write_csv(deps, out, plan_export(deps).periods)
    return out.getvalue()


def export_rows(deps: Deps) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(export_text(deps))))


def digest_json(deps: Deps, period: str | None = None) -> str:
    return json.dumps(report_json(build_digest(deps, period=period)), sort_keys=True)


def slash_reply(emulator: SlackEmulator, user: str, text: str) -> dict[str, Any]:
    """What `/cx text` answered this person (over signed HTTP, through response_url)."""
    before = len(emulator.responses())
    assert emulator.send_slash_command(user, text).status == 200
    replies: list[dict[str, Any]] = wait_for(lambda: emulator.responses()[before:], timeout=15)
    return replies[-1]


def reply_text(reply: dict[str, Any]) -> str:
    parts = [reply.get("text") or ""]
    for block in reply.get("blocks") or []:
        text = block.get("text")
        if isinstance(text, dict):
            parts.append(text.get("text", ""))
        for element in block.get("elements") or []:
            if isinstance(element, dict) and isinstance(element.get("text"), str):
                parts.append(element["text"])
    return "\n".join(parts)


def forget_me(emulator: SlackEmulator, user: str) -> None:
    """`/cx forget-me`, then the confirm button, as the person would."""
    assert emulator.send_slash_command(user, "forget-me").status == 200
    question = wait_for(lambda: emulator.ephemerals(user))[-1]
    before = len(emulator.responses())
    sent = emulator.click_button(
        user,
        channel_id=question["channel"],
        message_ts=question["message_ts"],
        action_id=ActionId.FORGET_ME_CONFIRM,
        block_id=BlockId.FORGET_ME,
        value="confirm",
    )
    assert sent.status == 200
    wait_for(
        lambda: any(r["text"].startswith("Done:") for r in emulator.responses()[before:]),
        timeout=30,
    )
