"""The pulse DM: one section per statement with five scale buttons and "Doesn't apply to me"
(score 0: counted as answered, left out of every figure), and a confidential-comment button;
and the private confirmation that tells the person what they chose.

Slack keeps every version of a DM (history, and the compliance exports of direct messages an
admin can order), so the DM itself never says what was chosen: an answered statement gets the
same "Answered" line whichever button was clicked, no button is highlighted, and nothing says
that a comment was left. The choices are shown only in an ephemeral confirmation (Slack shows it
to that one person and does not store it) and in the person's App Home.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.prompts import Prompts
from bot.render.escape import escape_text
from bot.render.ids import ActionId, BlockId
from bot.render.timefmt import local_time
from bot.services.ports import OutgoingMessage
from bot.services.round_facts import ActionLine


@dataclass(frozen=True, slots=True)
class PulseView:
    round_id: int
    period: str
    closes_at: datetime
    zone_name: str
    questions: tuple[tuple[str, str], ...]
    answers: Mapping[str, int] = field(default_factory=dict)
    commented: frozenset[str] = frozenset()
    min_group_size: int = 5
    # "You told us, here is what we are doing", and what came of what was done.
    actions: tuple[ActionLine, ...] = ()


def you_said_line(prompts: Prompts, action: ActionLine) -> str:
    """One "you said, we did" line: the commitment and whether its dimension moved."""
    copy = prompts.copy
    values = {
        "name": prompts.dimension_name(action.dimension),
        "action": escape_text(action.text),
    }
    if action.result in ("up", "down") and action.now is not None and action.before is not None:
        return copy.t(
            "commitments.you_said_moved",
            **values,
            verb=copy.t("digest.verb_rose" if action.result == "up" else "digest.verb_fell"),
            now=f"{round(action.now * 100)}%",
            before=f"{round(action.before * 100)}%",
        )
    return copy.t("commitments.you_said_flat", **values)


def answer_value(round_id: int, question_id: str, score: int) -> str:
    return f"{round_id}|{question_id}|{score}"


class PrebuiltBlock(Block):
    """A block validated once and reused as its dict: every click re-renders a pulse DM, and
    slack_sdk's validation of the same blocks again would be most of a click's work."""

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__(type=str(data["type"]), block_id=data.get("block_id"))
        self._data = data

    def to_dict(self, *args: Any) -> dict[str, Any]:
        return self._data


def _question_blocks(
    view: PulseView, prompts: Prompts, number: int, qid: str, text: str, *, closes: str
) -> list[Block]:
    cell = _QuestionCell(view.round_id, number, qid, text, qid in view.answers, closes)
    return [PrebuiltBlock(data) for data in _validated_question_blocks(prompts, cell)]


@dataclass(frozen=True, slots=True)
class _QuestionCell:
    """Everything one statement's blocks depend on (a cache key). Whether it was answered, never
    with what: the blocks are the same whichever score was chosen."""

    round_id: int
    number: int
    qid: str
    text: str
    answered: bool
    closes: str


@lru_cache(maxsize=8192)
def _validated_question_blocks(prompts: Prompts, cell: _QuestionCell) -> tuple[dict[str, Any], ...]:
    return tuple(block.to_dict() for block in _question_models(prompts, cell))  # validates


def _question_models(prompts: Prompts, cell: _QuestionCell) -> list[Block]:
    copy, bank = prompts.copy, prompts.bank
    round_id, number, qid, text = cell.round_id, cell.number, cell.qid, cell.text
    buttons = [
        ButtonElement(
            text=point.label,
            action_id=f"{ActionId.ANSWER_PREFIX}{point.score}",
            value=answer_value(round_id, qid, point.score),
        )
        for point in bank.choices
    ]
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(text=copy.t("pulse.question", number=number, text=text))
        ),
        ActionsBlock(block_id=f"{BlockId.QUESTION_PREFIX}{qid}", elements=buttons),
    ]
    if cell.answered:
        note = copy.t("pulse.answered", closes=cell.closes)
        blocks.append(
            ContextBlock(
                block_id=f"{BlockId.ANSWERED_PREFIX}{qid}",
                elements=[MarkdownTextObject(text=note)],
            )
        )
    return blocks


def dm_fingerprint(view: PulseView, prompts: Prompts) -> tuple[object, ...]:
    """Everything `pulse_message` reads, with the answers reduced to which are answered: two
    views with equal fingerprints render the same DM (tests/render/test_pulse_fingerprint.py)."""
    answered = frozenset(qid for qid, _ in view.questions if qid in view.answers)
    return (
        prompts.language,
        view.round_id,
        view.period,
        view.closes_at,
        view.zone_name,
        view.questions,
        answered,
        view.min_group_size,
        view.actions,
    )


def pulse_message(view: PulseView, prompts: Prompts) -> OutgoingMessage:
    copy = prompts.copy
    count = len(view.questions)
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=copy.t(
                    "pulse.intro",
                    period=view.period,
                    count=count,
                    min_group=view.min_group_size,
                )
            )
        )
    ]
    running = [a for a in view.actions if a.result is None]
    done = [a for a in view.actions if a.result is not None]
    if running:
        lines = [copy.t("pulse.actions_intro")]
        lines += [
            copy.t(
                "pulse.action_line",
                name=prompts.dimension_name(a.dimension),
                text=escape_text(a.text),
            )
            for a in running
        ]
        blocks.append(SectionBlock(text=MarkdownTextObject(text="\n".join(lines)[:3000])))
    if done:
        lines = [copy.t("commitments.you_said_intro")] + [you_said_line(prompts, a) for a in done]
        blocks.append(SectionBlock(text=MarkdownTextObject(text="\n".join(lines)[:3000])))
    closes = local_time(view.closes_at, view.zone_name, copy)
    for number, (qid, stored) in enumerate(view.questions, start=1):
        # The statement in the reader's language; the text stored with the round otherwise.
        text = escape_text(prompts.statement(qid, stored))
        blocks.extend(_question_blocks(view, prompts, number, qid, text, closes=closes))
    blocks.append(
        ActionsBlock(
            block_id=BlockId.COMMENT_ACTIONS,
            elements=[
                ButtonElement(
                    text=copy.t("pulse.comment_button"),
                    action_id=ActionId.OPEN_COMMENT,
                    value=str(view.round_id),
                )
            ],
        )
    )
    answered = sum(1 for qid, _ in view.questions if qid in view.answers)
    status = copy.t("pulse.progress", answered=answered, count=count, closes=closes)
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=status)]))
    return OutgoingMessage(
        text=copy.t("pulse.fallback", period=view.period, count=count), blocks=blocks
    )


def confirmation_message(view: PulseView, prompts: Prompts) -> OutgoingMessage | None:
    """The person's choices in this round, for an ephemeral message only they see (never for a
    stored one); None when nothing is answered."""
    copy, bank = prompts.copy, prompts.bank
    blocks: list[Block] = []
    lines: list[str] = []
    for qid, stored in view.questions:
        score = view.answers.get(qid)
        if score is None:
            continue
        line = copy.t(
            "pulse.confirm_line",
            label=bank.label(score),
            text=escape_text(prompts.statement(qid, stored)),
        )
        if qid in view.commented:
            line = f"{line} {copy.t('pulse.confirm_comment')}"
        lines.append(line)
        blocks.append(
            SectionBlock(
                block_id=f"{BlockId.CONFIRMED_PREFIX}{qid}", text=MarkdownTextObject(text=line)
            )
        )
    if not blocks:
        return None
    footer = copy.t("pulse.confirm_footer", closes=local_time(view.closes_at, view.zone_name, copy))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=footer)]))
    return OutgoingMessage(text="\n".join(lines), blocks=blocks)


def reminder_message(
    prompts: Prompts, *, period: str, closes_at: datetime, zone_name: str
) -> OutgoingMessage:
    copy = prompts.copy
    text = copy.t("pulse.reminder", period=period, closes=local_time(closes_at, zone_name, copy))
    return OutgoingMessage(text=text, blocks=[SectionBlock(text=MarkdownTextObject(text=text))])
