"""Ephemeral replies to `/cx`: help, score, trend, team, gaps, forget-me."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.analytics.findings import week_number
from bot.prompts import Prompts
from bot.render.digest import (
    dimension_name,
    gaps_and_silos_lines,
    pct,
    sections,
    verdict_words,
)
from bot.render.escape import echo_text, escape_text
from bot.render.ids import ActionId, BlockId
from bot.services.digest import Report
from bot.services.ports import OutgoingMessage

BAR_WIDTH = 20


def text_reply(text: str) -> OutgoingMessage:
    return OutgoingMessage(text=text, blocks=[SectionBlock(text=MarkdownTextObject(text=text))])


def forget_me_question(prompts: Prompts) -> OutgoingMessage:
    """Ask before deleting: a danger button behind Slack's own confirmation dialog."""
    copy = prompts.copy
    confirm = ButtonElement(
        action_id=ActionId.FORGET_ME_CONFIRM,
        text=copy.t("commands.forget_me_confirm_button"),
        value="confirm",
        style="danger",
        confirm=ConfirmObject(
            title=PlainTextObject(text=copy.t("commands.forget_me_dialog_title")),
            text=PlainTextObject(text=copy.t("commands.forget_me_dialog_text")),
            confirm=PlainTextObject(text=copy.t("commands.forget_me_dialog_confirm")),
            deny=PlainTextObject(text=copy.t("commands.forget_me_dialog_deny")),
            style="danger",
        ),
    )
    cancel = ButtonElement(
        action_id=ActionId.FORGET_ME_CANCEL,
        text=copy.t("commands.forget_me_cancel_button"),
        value="cancel",
    )
    text = copy.t("commands.forget_me_ask")
    return OutgoingMessage(
        text=text,
        blocks=[
            SectionBlock(text=MarkdownTextObject(text=text)),
            ActionsBlock(block_id=BlockId.FORGET_ME, elements=[confirm, cancel]),
        ],
    )


def help_message(prompts: Prompts, min_group: int) -> OutgoingMessage:
    dimensions = ", ".join(f"`{d.id}`" for d in prompts.bank.dimensions)
    text = prompts.copy.t("commands.help", dimensions=dimensions, min_group=min_group)
    kudos = prompts.copy.t("kudos.help")
    return OutgoingMessage(
        text=f"{text}\n{kudos}",
        blocks=[
            SectionBlock(text=MarkdownTextObject(text=text)),
            SectionBlock(text=MarkdownTextObject(text=kudos)),
        ],
    )


def _footer(prompts: Prompts, min_group: int) -> ContextBlock:
    text = prompts.copy.t("commands.score_footer", min_group=min_group)
    return ContextBlock(elements=[MarkdownTextObject(text=text)])


def score_message(report: Report, prompts: Prompts, dimension_id: str | None) -> OutgoingMessage:
    copy = prompts.copy
    readings = [
        r for r in report.findings.dimensions if dimension_id is None or r.dimension == dimension_id
    ]
    if not readings:
        name = dimension_name(prompts, dimension_id) if dimension_id else ""
        key = "commands.score_none_dimension" if dimension_id else "commands.score_none"
        return text_reply(copy.t(key, name=name, min_group=report.min_group_size))
    lines = [copy.t("commands.score_heading", period=report.period)]
    for reading in readings:
        line = copy.t(
            "commands.score_line",
            name=dimension_name(prompts, reading.dimension),
            favourable=pct(reading.favourable_share),
            mean=f"{reading.mean:.1f}",
            n=reading.respondents,
            period=reading.period,
            verdict=verdict_words(copy, reading),
        )
        if dimension_id is not None:
            line += "\n" + copy.t(
                "commands.score_why", why=prompts.bank.dimension(dimension_id).why
            )
        lines.append(line)
    blocks: list[Block] = [*sections(lines), _footer(prompts, report.min_group_size)]
    return OutgoingMessage(
        text=copy.t("commands.score_fallback", period=report.period), blocks=blocks
    )


def trend_message(
    report: Report, prompts: Prompts, dimension_id: str, weeks: int
) -> OutgoingMessage:
    """One dimension's company-wide readings week by week; hidden weeks say so."""
    copy = prompts.copy
    now = week_number(report.period)
    recent = [c for c in report.history if now - week_number(c.period) < weeks]
    lines = [copy.t("commands.trend_heading", name=dimension_name(prompts, dimension_id))]
    for cells in recent:
        cell = cells.org.get(dimension_id)
        if cell is None:
            continue
        share = cell.dist.favourable_share
        lines.append(
            copy.t(
                "commands.trend_line",
                period=cells.period,
                bar="█" * round(share * BAR_WIDTH) + "░" * (BAR_WIDTH - round(share * BAR_WIDTH)),
                favourable=pct(share),
                mean=f"{cell.dist.mean:.1f}",
                n=cell.people,
            )
        )
    if len(lines) == 1:
        name = dimension_name(prompts, dimension_id)
        return text_reply(
            copy.t("commands.score_none_dimension", name=name, min_group=report.min_group_size)
        )
    latest = report.reading(dimension_id)
    if latest is not None:
        lines.append(copy.t("commands.trend_verdict", verdict=verdict_words(copy, latest)))
    blocks: list[Block] = [*sections(lines), _footer(prompts, report.min_group_size)]
    return OutgoingMessage(text=lines[0], blocks=blocks)


def team_message(report: Report, prompts: Prompts, team: str) -> OutgoingMessage:
    copy = prompts.copy
    shown = {t.team: t for t in report.findings.teams}
    names = ", ".join(f"`{escape_text(name)}`" for name in sorted(shown)) or "-"
    found = shown.get(team)
    if found is None:
        return text_reply(
            copy.t(
                "commands.team_unknown",
                team=echo_text(team, limit=60),
                min_group=report.min_group_size,
                teams=names,
            )
        )
    lines = [
        copy.t(
            "commands.team_heading",
            team=escape_text(found.team),
            period=report.period,
            n=found.respondents,
        )
    ]
    for reading in found.readings:
        lines.append(
            copy.t(
                "commands.team_line",
                name=dimension_name(prompts, reading.dimension),
                favourable=pct(reading.favourable_share),
                mean=f"{reading.mean:.1f}",
                verdict=verdict_words(copy, reading),
            )
        )
    blocks: list[Block] = [*sections(lines), _footer(prompts, report.min_group_size)]
    return OutgoingMessage(text=lines[0], blocks=blocks)


def gaps_message(report: Report, prompts: Prompts) -> OutgoingMessage:
    lines = gaps_and_silos_lines(prompts.copy, prompts, report)
    blocks: list[Block] = [*sections(lines), _footer(prompts, report.min_group_size)]
    return OutgoingMessage(
        text=prompts.copy.t("commands.gaps_fallback", period=report.period), blocks=blocks
    )


def team_names(report: Report) -> str:
    return ", ".join(f"`{escape_text(t.team)}`" for t in report.findings.teams) or "-"
