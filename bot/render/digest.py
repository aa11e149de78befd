"""The leadership digest as a Block Kit message, within Slack's block and text limits."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.analytics.findings import Reading, Verdict
from bot.prompts import Copy, Prompts
from bot.render.escape import escape_text, quote_block
from bot.render.timefmt import local_time
from bot.services.digest import Report
from bot.services.ports import OutgoingMessage

SECTION_LIMIT = 2900  # Slack allows 3000 characters per section; keep a margin.
MAX_BLOCKS = 50
MAX_DRIVERS = 3
HEATMAP_CELL = 5
MAX_TEAM_LABEL = 24


def pct(share: float) -> str:
    return f"{round(share * 100)}%"


def points(copy: Copy, delta: float) -> str:
    return copy.t("digest.points", value=f"{abs(delta):.1f}")


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text))


def sections(lines: Iterable[str]) -> list[SectionBlock]:
    """Lines packed into as few sections as Slack's 3,000-character limit allows."""
    return [_section(chunk) for chunk in _chunks(lines)]


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=text)])


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


def dimension_name(prompts: Prompts, dimension: str) -> str:
    try:
        return prompts.bank.dimension(dimension).name
    except KeyError:
        return dimension


def _direction(copy: Copy, delta: float) -> str:
    return copy.t("digest.went_up" if delta > 0 else "digest.went_down")


def _comparisons(copy: Copy, reading: Reading) -> list[tuple[str, Verdict]]:
    previous = copy.t("digest.vs_previous", previous=reading.previous_period or "")
    return [
        (previous, reading.vs_previous),
        (copy.t("digest.vs_baseline"), reading.vs_baseline),
        (copy.t("digest.vs_recent"), reading.recent),
        (copy.t("digest.vs_quarter"), reading.quarter),
    ]


def _strongest_real(copy: Copy, reading: Reading) -> tuple[str, Verdict] | None:
    real = [(label, v) for label, v in _comparisons(copy, reading) if v.real and v.delta]
    return max(real, key=lambda item: abs(item[1].delta or 0.0)) if real else None


def _headline(copy: Copy, report: Report) -> str:
    share = report.participation
    if share.invited is None:
        return copy.t("digest.rate_unknown")
    if share.rate is None:
        return copy.t("digest.rate_hidden", min_group=report.min_group_size, invited=share.invited)
    text = copy.t(
        "digest.rate",
        rate=pct(share.rate),
        respondents=share.respondents,
        invited=share.invited,
    )
    if report.previous_rate is not None:
        change = round((share.rate - report.previous_rate) * 100)
        word = copy.t("digest.went_up" if change >= 0 else "digest.went_down")
        text += " " + copy.t("digest.rate_trend", change=f"{word} {abs(change)} pts")
    return text


def _what_changed(copy: Copy, prompts: Prompts, report: Report) -> list[str]:
    lines = [copy.t("digest.changed_heading")]
    for reading in report.findings.dimensions:
        strongest = _strongest_real(copy, reading)
        if strongest:
            label, verdict = strongest
            lines.append(
                copy.t(
                    "digest.change_org",
                    name=dimension_name(prompts, reading.dimension),
                    direction=_direction(copy, verdict.delta or 0.0),
                    points=points(copy, verdict.delta or 0.0),
                    comparison=label,
                )
            )
    for team in report.findings.teams:
        for reading in team.readings:
            strongest = _strongest_real(copy, reading)
            if strongest:
                label, verdict = strongest
                lines.append(
                    copy.t(
                        "digest.change_team",
                        team=escape_text(team.team),
                        name=dimension_name(prompts, reading.dimension),
                        direction=_direction(copy, verdict.delta or 0.0),
                        points=points(copy, verdict.delta or 0.0),
                        comparison=label,
                    )
                )
    if len(lines) == 1:
        lines.append(copy.t("digest.no_real_change"))
        moves = [
            (abs(r.vs_previous.delta), r)
            for r in report.findings.dimensions
            if r.vs_previous.delta is not None
        ]
        if moves:
            _, biggest = max(moves, key=lambda item: item[0])
            delta = biggest.vs_previous.delta or 0.0
            change = f"{_direction(copy, delta)} {points(copy, delta)}"
            lines.append(
                copy.t(
                    "digest.biggest_noise",
                    name=dimension_name(prompts, biggest.dimension),
                    change=change,
                )
            )
    return lines


def verdict_words(copy: Copy, reading: Reading) -> str:
    strongest = _strongest_real(copy, reading)
    if strongest:
        delta = strongest[1].delta or 0.0
        return copy.t(
            "digest.verdict_real", direction=_direction(copy, delta), points=points(copy, delta)
        )
    if all(v.delta is None for _, v in _comparisons(copy, reading)):
        return copy.t("digest.verdict_first")
    return copy.t("digest.verdict_noise")


def _standing_lines(copy: Copy, prompts: Prompts, report: Report) -> list[str]:
    lines = [copy.t("digest.dimensions_heading")]
    for reading in report.findings.dimensions:
        lines.append(
            copy.t(
                "digest.dimension_line",
                name=dimension_name(prompts, reading.dimension),
                favourable=pct(reading.favourable_share),
                unfavourable=pct(reading.unfavourable_share),
                mean=f"{reading.mean:.1f}",
                n=reading.respondents,
                verdict=verdict_words(copy, reading),
            )
            + (
                ""
                if reading.period == report.period
                else " " + copy.t("digest.asked", period=reading.period)
            )
        )
    if len(lines) == 1:
        lines.append(copy.t("digest.no_dimensions", min_group=report.min_group_size))
    return lines


def gaps_and_silos_lines(copy: Copy, prompts: Prompts, report: Report) -> list[str]:
    lines = [copy.t("digest.say_do_heading")]
    gaps = [g for g in report.findings.say_do if g.verdict.real]
    for gap in sorted(gaps, key=lambda g: -g.gap):
        lines.append(
            copy.t(
                "digest.say_do_line",
                name=dimension_name(prompts, gap.dimension),
                leaders=f"{gap.leaders_mean:.1f}",
                others=f"{gap.others_mean:.1f}",
                gap=f"{abs(gap.gap):.1f}",
                direction=copy.t("digest.say_do_higher" if gap.gap > 0 else "digest.say_do_lower"),
            )
        )
    if not gaps:
        lines.append(copy.t("digest.say_do_none"))
    lines.append("")
    lines.append(copy.t("digest.silos_heading"))
    silos = [s for s in report.findings.silos if s.verdict.real]
    for silo in sorted(silos, key=lambda s: -s.spread):
        lines.append(
            copy.t(
                "digest.silo_line",
                name=dimension_name(prompts, silo.dimension),
                spread=f"{silo.spread:.1f}",
                highest=escape_text(silo.highest),
                lowest=escape_text(silo.lowest),
            )
        )
    if not silos:
        lines.append(copy.t("digest.silos_none"))
    return lines


def _drivers(copy: Copy, prompts: Prompts, report: Report) -> list[str]:
    lines = [copy.t("digest.drivers_heading")]
    real = [d for d in report.findings.drivers if d.real and d.rho > 0][:MAX_DRIVERS]
    for driver in real:
        lines.append(
            copy.t(
                "digest.driver_line",
                name=dimension_name(prompts, driver.dimension),
                rho=f"{driver.rho:.2f}",
                low=f"{driver.low:.2f}",
                high=f"{driver.high:.2f}",
                pairs=driver.pairs,
            )
        )
    if not real:
        lines.append(copy.t("digest.drivers_none"))
    return lines


def heatmap_rows(copy: Copy, prompts: Prompts, report: Report) -> tuple[str, list[str]]:
    """A monospace teams x dimensions table of % favourable; team names are escaped."""
    dimensions = [d for d in prompts.bank.dimensions]
    labels = [(f"{t.team[:MAX_TEAM_LABEL]} ({t.respondents})", t) for t in report.findings.teams]
    heading = copy.t("digest.team_column")
    width = max([len(heading), *(len(label) for label, _ in labels)]) + 1
    header = f"{heading:<{width}}" + "".join(f"{d.short[:4]:>{HEATMAP_CELL}}" for d in dimensions)
    rows = []
    for label, team in labels:
        cells = {r.dimension: r for r in team.readings}
        row = escape_text(f"{label:<{width}}")
        for dimension in dimensions:
            reading = cells.get(dimension.id)
            if reading is None:
                row += " " * HEATMAP_CELL
                continue
            mark = {"down": "v", "up": "^"}.get(reading.real_direction, " ")
            row += f"{round(reading.favourable_share * 100):>{HEATMAP_CELL - 1}}{mark}"
        rows.append(row.rstrip())
    return header.rstrip(), rows


def _heatmap_blocks(copy: Copy, prompts: Prompts, report: Report) -> list[Block]:
    header, rows = heatmap_rows(copy, prompts, report)
    blocks: list[Block] = [_section(copy.t("digest.teams_heading"))]
    # Each code block repeats the header, so a table split across sections still reads.
    chunk: list[str] = []
    for row in rows:
        if chunk and len("\n".join([header, *chunk, row])) + 8 > SECTION_LIMIT:
            blocks.append(_section("```\n" + "\n".join([header, *chunk]) + "\n```"))
            chunk = []
        chunk.append(row)
    if chunk:
        blocks.append(_section("```\n" + "\n".join([header, *chunk]) + "\n```"))
    legend = copy.t("digest.teams_legend")
    if report.hidden_teams:
        legend += " " + copy.t(
            "digest.hidden_teams", count=report.hidden_teams, min_group=report.min_group_size
        )
    blocks.append(_context(legend))
    return blocks


def _follow_ups(copy: Copy, prompts: Prompts, report: Report) -> list[str]:
    lines = [copy.t("digest.follow_up_heading")]
    for follow in report.follow_ups:
        if follow.real and follow.delta is not None:
            outcome = copy.t(
                "digest.follow_up_moved",
                direction=_direction(copy, follow.delta),
                points=points(copy, follow.delta),
            )
        else:
            outcome = copy.t("digest.follow_up_waiting")
        lines.append(
            copy.t(
                "digest.follow_up_line",
                name=dimension_name(prompts, follow.dimension),
                since=follow.since,
                action=escape_text(follow.action),
                outcome=outcome,
            )
        )
    return lines


def _focus(copy: Copy, prompts: Prompts, report: Report) -> str | None:
    focus = report.focus
    if focus is None:
        return None
    reading = report.reading(focus.dimension)
    reason = (
        copy.t("digest.focus_declined")
        if focus.declined or reading is None
        else copy.t("digest.focus_weakest", favourable=pct(reading.favourable_share))
    )
    return copy.t(
        "digest.focus",
        name=dimension_name(prompts, focus.dimension),
        reason=reason,
        nudge=escape_text(focus.nudge),
    )


def digest_message(report: Report, prompts: Prompts, *, zone_name: str) -> OutgoingMessage:
    copy = prompts.copy
    blocks: list[Block] = [HeaderBlock(text=copy.t("digest.title", period=report.period))]
    blocks.append(_section(_headline(copy, report)))
    if report.open_week is not None:
        blocks.append(_context(open_week_line(copy, report, zone_name)))
    groups: list[Sequence[str]] = [
        _what_changed(copy, prompts, report),
        _standing_lines(copy, prompts, report),
        gaps_and_silos_lines(copy, prompts, report),
        _drivers(copy, prompts, report),
    ]
    if report.follow_ups:
        groups.append(_follow_ups(copy, prompts, report))
    for lines in groups:
        blocks.append(DividerBlock())
        blocks += sections(lines)
    if report.findings.teams or report.hidden_teams:
        blocks.append(DividerBlock())
        blocks += _heatmap_blocks(copy, prompts, report)
    if report.comments:
        blocks.append(DividerBlock())
        lines = [copy.t("digest.comments_heading")]
        lines += [quote_block(comment) for comment in report.comments]
        blocks += [_section(chunk) for chunk in _chunks(lines)]
    focus = _focus(copy, prompts, report)
    if focus:
        blocks.append(DividerBlock())
        blocks.append(_section(focus))
    blocks.append(_context(copy.t("digest.footer", min_group=report.min_group_size)))
    if len(blocks) > MAX_BLOCKS:
        # Never more than Slack accepts (a safety net: 40 teams and 13 dimensions need ~25).
        blocks = [*blocks[: MAX_BLOCKS - 1], blocks[-1]]
    return OutgoingMessage(text=copy.t("digest.fallback", period=report.period), blocks=blocks)


def open_week_line(copy: Copy, report: Report, zone_name: str) -> str:
    """The week still open, as anyone may see it: a coarse share answered, nothing else."""
    week = report.open_week
    assert week is not None
    closes = local_time(week.closes_at, zone_name, copy)
    if week.share_step is None:
        return copy.t(
            "digest.open_week_few",
            period=week.period,
            closes=closes,
            min_group=report.min_group_size,
        )
    return copy.t(
        "digest.open_week", period=week.period, closes=closes, share=f"{week.share_step * 10}%"
    )


def team_nudge_message(prompts: Prompts, team: str, dimension: str, nudge: str) -> OutgoingMessage:
    text = prompts.copy.t(
        "digest.team_nudge",
        team=escape_text(team),
        name=dimension_name(prompts, dimension),
        nudge=escape_text(nudge),
    )
    return OutgoingMessage(text=text, blocks=[_section(text)])
