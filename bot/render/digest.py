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
from bot.services.digest import Digest, DimensionLine, TeamCell, TeamLine
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


def _code_section(lines: list[str]) -> SectionBlock:
    return _section("```\n" + "\n".join(lines) + "\n```")


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
    change = change_text(copy, line.favourable_change)
    if line.previous is not None:
        change = copy.t("digest.since", change=change, previous=line.previous.period)
    return copy.t(
        key,
        name=line.name,
        favourable=pct(line.latest.favourable_share),
        mean=f"{line.latest.mean:.1f}",
        n=line.latest.respondents,
        change=change,
        period=line.latest.period,
    )


HEATMAP_CELL = 6
MAX_TEAM_LABEL = 32
ARROW_POINTS = 10


def _heat_cell(cell: TeamCell | None) -> str:
    if cell is None:
        return " " * HEATMAP_CELL
    arrow = " "
    if cell.favourable_change is not None and abs(cell.favourable_change) * 100 >= ARROW_POINTS:
        arrow = "↑" if cell.favourable_change > 0 else "↓"
    return f"{round(cell.favourable_share * 100):>4}{arrow} "


def _heatmap_rows(copy: Copy, prompts: Prompts, teams: Iterable[TeamLine]) -> tuple[str, list[str]]:
    """A monospace teams x dimensions table; team names are escaped."""
    dimensions = prompts.bank.dimensions
    # Padding is measured on the text people see, then escaped: `&` shows as one character.
    labels = [(f"{t.team[:MAX_TEAM_LABEL]} ({t.respondents})", t) for t in teams]
    heading = copy.t("digest.team_column")
    width = max([len(heading), *(len(label) for label, _ in labels)]) + 1
    header = f"{heading:<{width}}" + "".join(f"{d.short:>5} " for d in dimensions)
    rows = [
        escape_text(f"{label:<{width}}")
        + "".join(_heat_cell(team.cells.get(d.id)) for d in dimensions)
        for label, team in labels
    ]
    rows = [row.rstrip() for row in rows]
    return header.rstrip(), rows


def _heatmap_blocks(copy: Copy, prompts: Prompts, digest: Digest) -> list[Block]:
    header, rows = _heatmap_rows(copy, prompts, digest.teams)
    blocks: list[Block] = [_section(copy.t("digest.teams_heading"))]
    # Each code block repeats the header, so a table split across sections still reads.
    chunk: list[str] = []
    for row in rows:
        if chunk and len("\n".join([header, *chunk, row])) + 6 > SECTION_LIMIT:
            blocks.append(_code_section([header, *chunk]))
            chunk = []
        chunk.append(row)
    if chunk:
        blocks.append(_code_section([header, *chunk]))
    legend = copy.t("digest.teams_legend", min_group=digest.min_group_size)
    if digest.hidden_teams:
        legend += " " + copy.t(
            "digest.hidden_teams", count=digest.hidden_teams, min_group=digest.min_group_size
        )
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=legend)]))
    return blocks


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
        blocks += _heatmap_blocks(copy, prompts, digest)

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
