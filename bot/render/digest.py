"""The leadership digest as a Block Kit message."""

from __future__ import annotations

from collections.abc import Iterable

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.prompts import Copy, Prompts
from bot.render.escape import escape_text, quote_block
from bot.render.timefmt import local_time
from bot.services.digest import Digest, DimensionLine, TeamLine
from bot.services.ports import OutgoingMessage

SECTION_LIMIT = 2900  # Slack allows 3000 characters per section; keep a margin.


def pct(share: float) -> str:
    return f"{round(share * 100)}%"


def change_text(copy: Copy, change: float | None) -> str:
    if change is None:
        return copy.t("digest.change_none")
    points = round(change * 100)
    if points > 0:
        return copy.t("digest.change_up", points=points)
    if points < 0:
        return copy.t("digest.change_down", points=-points)
    return copy.t("digest.change_flat")


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text))


def _chunks(lines: Iterable[str], limit: int = SECTION_LIMIT) -> list[str]:
    """Pack lines into section-sized texts, never splitting a line."""
    chunks: list[str] = []
    current = ""
    for line in lines:
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit and current:
            chunks.append(current)
            candidate = line
        current = candidate
    if current:
        chunks.append(current)
    return chunks


def _dimension_line(copy: Copy, line: DimensionLine) -> str:
    key = "digest.dimension_line_new" if line.asked_this_round else "digest.dimension_line"
    return copy.t(
        key,
        name=line.name,
        favourable=pct(line.latest.favourable_share),
        mean=f"{line.latest.mean:.1f}",
        n=line.latest.respondents,
        change=change_text(copy, line.favourable_change),
        period=line.latest.period,
        previous=line.previous.period if line.previous else "-",
    )


def _team_line(copy: Copy, prompts: Prompts, team: TeamLine) -> str:
    parts = []
    for dimension in prompts.bank.dimensions:
        cell = team.cells.get(dimension.id)
        if cell is None:
            continue
        change = (
            ""
            if cell.favourable_change is None
            else f" ({change_text(copy, cell.favourable_change)})"
        )
        parts.append(f"{dimension.name} {pct(cell.favourable_share)}{change}")
    return copy.t(
        "digest.team_line", team=escape_text(team.team), n=team.respondents, cells=", ".join(parts)
    )


def _headline(copy: Copy, digest: Digest) -> str:
    if digest.response_rate is None:
        return copy.t("digest.rate_hidden", min_group=digest.min_group_size, invited=digest.invited)
    rate = copy.t(
        "digest.rate",
        rate=pct(digest.response_rate),
        respondents=digest.respondents,
        invited=digest.invited,
    )
    if digest.previous_response_rate is not None:
        rate += " " + copy.t(
            "digest.rate_trend",
            change=change_text(copy, digest.response_rate - digest.previous_response_rate),
        )
    return rate


def digest_message(digest: Digest, prompts: Prompts, *, zone_name: str) -> OutgoingMessage:
    copy = prompts.copy
    title_key = "digest.title_provisional" if digest.provisional else "digest.title"
    blocks: list[Block] = [HeaderBlock(text=copy.t(title_key, period=digest.period))]
    blocks.append(_section(_headline(copy, digest)))
    if digest.provisional:
        closes = local_time(digest.closes_at, zone_name)
        blocks.append(
            ContextBlock(
                elements=[MarkdownTextObject(text=copy.t("digest.provisional_note", closes=closes))]
            )
        )

    blocks.append(DividerBlock())
    if digest.dimensions:
        lines = [copy.t("digest.dimensions_heading")]
        lines += [_dimension_line(copy, line) for line in digest.dimensions]
        blocks += [_section(chunk) for chunk in _chunks(lines)]
    else:
        blocks.append(_section(copy.t("digest.no_dimensions", min_group=digest.min_group_size)))
    if digest.hidden_dimensions:
        note = copy.t(
            "digest.hidden_dimensions",
            names=", ".join(digest.hidden_dimensions),
            min_group=digest.min_group_size,
        )
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=note)]))

    if digest.teams or digest.hidden_teams:
        blocks.append(DividerBlock())
        lines = [copy.t("digest.teams_heading", min_group=digest.min_group_size)]
        lines += [_team_line(copy, prompts, team) for team in digest.teams]
        blocks += [_section(chunk) for chunk in _chunks(lines)]
        if digest.hidden_teams:
            note = copy.t(
                "digest.hidden_teams", count=digest.hidden_teams, min_group=digest.min_group_size
            )
            blocks.append(ContextBlock(elements=[MarkdownTextObject(text=note)]))

    if digest.focus is not None:
        blocks.append(DividerBlock())
        blocks.append(
            _section(
                copy.t(
                    "digest.focus",
                    name=digest.focus.name,
                    favourable=pct(digest.focus.favourable_share),
                    nudge=escape_text(digest.focus.nudge),
                )
            )
        )

    if digest.comments:
        blocks.append(DividerBlock())
        lines = [copy.t("digest.comments_heading")]
        lines += [quote_block(comment) for comment in digest.comments]
        blocks += [_section(chunk) for chunk in _chunks(lines)]

    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(text=copy.t("digest.footer", min_group=digest.min_group_size))
            ]
        )
    )
    fallback = copy.t("digest.fallback", period=digest.period)
    return OutgoingMessage(text=fallback, blocks=blocks)
