"""Sending a round now: what it would do, asked before anything is sent, or why it won't be.

The same words serve `/cx pulse` (an ephemeral reply with Send / Don't send buttons) and
`cxpulse pulse send` (printed before it asks, or refuses without `--yes`).
"""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    MarkdownTextObject,
    SectionBlock,
)

from bot.db.models import RoundKind
from bot.prompts import Copy, Prompts
from bot.render.ids import ActionId, BlockId
from bot.render.timefmt import local_time
from bot.services.ports import OutgoingMessage
from bot.services.rounds import AdhocPlan, RoundReport, ScheduledRound, WeekRound


def _next_line(plan: AdhocPlan, copy: Copy, key: str) -> str:
    if plan.next_scheduled is None:
        return copy.t("scheduling.next_paused")
    return copy.t(key, when=local_time(plan.next_scheduled, plan.zone_name, copy))


def _refusal_lines(plan: AdhocPlan, existing: WeekRound, copy: Copy) -> list[str]:
    opened = local_time(existing.opened_at, plan.zone_name, copy)
    closes = local_time(existing.closes_at, plan.zone_name, copy)
    kind = copy.t(
        "scheduling.kind_scheduled"
        if existing.kind is RoundKind.SCHEDULED
        else "scheduling.kind_adhoc"
    )
    if existing.closes_at <= plan.now:
        title = copy.t("scheduling.refused_title_closed", period=plan.period)
        state = copy.t(
            "scheduling.refused_closed",
            kind=kind,
            opened=opened,
            invited=existing.invited,
            closes=closes,
        )
    elif existing.waiting:
        # Under way: the rest get it at the pulse time on their own clock.
        title = copy.t("scheduling.refused_title", period=plan.period)
        state = copy.t(
            "scheduling.refused_going_out",
            sent=existing.sent,
            invited=existing.invited,
            closes=closes,
        )
    else:
        title = copy.t("scheduling.refused_title", period=plan.period)
        state = copy.t(
            "scheduling.refused_open",
            kind=kind,
            opened=opened,
            invited=existing.invited,
            closes=closes,
        )
    next_line = _next_line(plan, copy, "scheduling.next_scheduled")
    return [title, state, copy.t("scheduling.one_a_week"), next_line]


def _ask_lines(plan: AdhocPlan, copy: Copy, days: int) -> list[str]:
    scheduled_at = local_time(plan.scheduled_at, plan.zone_name, copy)
    effect = {
        ScheduledRound.SKIPPED: copy.t("scheduling.skips_scheduled", when=scheduled_at),
        ScheduledRound.PASSED: copy.t("scheduling.scheduled_passed", when=scheduled_at),
        ScheduledRound.PAUSED: copy.t("scheduling.scheduled_paused"),
    }[plan.scheduled]
    return [
        copy.t(
            "scheduling.ask_what",
            period=plan.period,
            people=plan.people,
            days=days,
            closes=local_time(plan.closes_at, plan.zone_name, copy),
        ),
        effect,
        _next_line(plan, copy, "scheduling.next_after"),
    ]


def plan_lines(plan: AdhocPlan, copy: Copy, *, days: int) -> list[str]:
    """What a round sent now would do (`days`: how long it stays open), or why nothing would
    be sent; the first line is the headline."""
    if plan.existing is not None:
        return _refusal_lines(plan, plan.existing, copy)
    if plan.people == 0:
        return [copy.t("scheduling.nobody_to_ask")]
    return [copy.t("scheduling.ask_title"), *_ask_lines(plan, copy, days)]


def adhoc_round_question(plan: AdhocPlan, prompts: Prompts, *, days: int) -> OutgoingMessage:
    """`/cx pulse`'s reply: the plan and Send / Don't send, or the refusal with no buttons."""
    copy = prompts.copy
    lines = plan_lines(plan, copy, days=days)
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=f"*{lines[0]}*")),
        SectionBlock(text=MarkdownTextObject(text="\n".join(lines[1:]))),
    ]
    if len(lines) == 1:
        blocks = blocks[:1]
    if plan.may_send:
        blocks.append(
            ActionsBlock(
                block_id=BlockId.PULSE_NOW,
                elements=[
                    ButtonElement(
                        action_id=ActionId.PULSE_NOW_CONFIRM,
                        text=copy.t("scheduling.confirm_button"),
                        value=plan.period,
                        style="primary",
                    ),
                    ButtonElement(
                        action_id=ActionId.PULSE_NOW_CANCEL,
                        text=copy.t("scheduling.cancel_button"),
                        value=plan.period,
                    ),
                ],
            )
        )
    return OutgoingMessage(text=lines[0], blocks=blocks)


def adhoc_round_sent(report: RoundReport, copy: Copy) -> str:
    """After the confirmed round went out."""
    sent = copy.t(
        "commands.pulse_sent", period=report.period, sent=report.sent, failed=report.failed
    )
    return f"{sent}\n{copy.t('scheduling.sent_is_the_weeks', period=report.period)}"
