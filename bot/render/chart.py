"""The digest's trend chart: what changed, as small multiples of % favourable by week (PNG).

One small panel per finding: the organisation first (its dimensions that really changed, or,
in a steady week, its strongest and weakest), then each team's real change, biggest first,
then say-do gaps and silos. Each change panel has its noise band (where the week would likely
land had nothing changed, `bot.analytics.bands`) and a marker at the week the change is
measured from. Only gated cells are drawn: a week a group was not asked or was hidden is a
gap in its line, never a guess.

Drawn for Slack on a phone, where the image is scaled to about 360 px wide: big type, few
ticks, thick lines, and the Okabe-Ito palette, which reads under every common colour-vision
deficiency. matplotlib is imported only when a picture is drawn, so importing this module
(and the bot) stays cheap.
"""

from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from bot.analytics.bands import Band, noise_bands, share_swing
from bot.analytics.cells import Cell, PeriodCells
from bot.analytics.findings import QUARTER_WEEKS, WINDOW_WEEKS, Reading, week_number
from bot.analytics.headlines import Headline, Kind, Span, headlines
from bot.analytics.noise import Distribution
from bot.analytics.periods import shift_period
from bot.prompts import Copy, Prompts
from bot.render.escape import escape_text

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from bot.services.digest import Report

CHART_WEEKS = 16
MAX_PANELS = 6
ALT_LIMIT = 1000  # Slack's limit on a file's alt text
DPI = 110
WIDTH = 8.0  # inches: 880 px, scaled to about 360 on a phone
TITLE_WRAP = 28  # characters per line of a panel title, at two panels a row
LEGEND_WRAP = 28
# Type sizes (points): at 880 px scaled to 360, 12 pt is still about 7 px tall.
FONT = 12
TITLE_FONT = 14
HEAD_FONT = 16

# Okabe-Ito: distinct for every common colour-vision deficiency, and in greyscale.
BLUE = "#0072B2"
ORANGE = "#E69F00"
VERMILION = "#D55E00"
SKY = "#56B4E9"
INK = "#222222"
GREY = "#777777"
BAND = "#9FCBE8"

PanelKind = Literal["change", "level", "gap"]


@dataclass(frozen=True, slots=True)
class Chart:
    png: bytes
    title: str
    alt_text: str
    panels: tuple[str, ...] = ()  # what each panel (or block) shows, in order


@dataclass(frozen=True, slots=True)
class Line:
    label: str  # "" for a panel's single line
    values: tuple[float | None, ...]  # share per week of the plan; None: not asked or hidden


@dataclass(frozen=True, slots=True)
class Panel:
    kind: PanelKind
    title: str
    lines: tuple[Line, ...]
    bands: tuple[Band | None, ...]  # the first line's, per week; empty for gaps
    marker: int | None  # the week the change is measured from (index into the plan's weeks)
    marker_label: str
    summary: str  # the panel in words, for the alt text (escaped for Slack)


@dataclass(frozen=True, slots=True)
class Plan:
    title: str
    periods: tuple[str, ...]  # every calendar week shown, oldest first
    panels: tuple[Panel, ...]


# --- what to draw -------------------------------------------------------------------------------


def pct(share: float) -> str:
    return f"{round(share * 100)}%"


def _weeks(report: Report) -> tuple[str, ...]:
    """The calendar weeks shown: the last CHART_WEEKS up to the report's, from the first
    published one."""
    if not report.history:
        return ()
    first = max(week_number(report.history[0].period), week_number(report.period) - CHART_WEEKS + 1)
    count = week_number(report.period) - first + 1
    return tuple(shift_period(report.period, offset - count + 1) for offset in range(count))


class _Series:
    """A group's cells over the report's history, aligned to the weeks shown."""

    def __init__(self, report: Report, weeks: Sequence[str]) -> None:
        self.history = report.history
        self.weeks = list(weeks)
        self._slot = {p.period: i for i, p in enumerate(self.history)}
        self._swings: dict[str, float] = {}

    def cells(self, pick: Callable[[PeriodCells], Cell | None]) -> list[Distribution | None]:
        return [cell.dist if (cell := pick(p)) is not None else None for p in self.history]

    def shown(self, over_history: Sequence[Any]) -> tuple[Any, ...]:
        """Values over the history, placed at the weeks shown (None for weeks not published)."""
        return tuple(over_history[self._slot[w]] if w in self._slot else None for w in self.weeks)

    def shares(self, pick: Callable[[PeriodCells], Cell | None]) -> tuple[float | None, ...]:
        dists = self.cells(pick)
        return self.shown([d.favourable_share if d is not None and d.n else None for d in dists])

    def swing(self, group: str) -> float:
        """The weekly swing of shares for the organisation ("") or of all teams together,
        from the weeks before the report's."""
        if group not in self._swings:
            earlier = self.history[:-1]
            if group == "":
                series = [
                    [p.org[d].dist for p in earlier if d in p.org]
                    for d in {d for p in earlier for d in p.org}
                ]
            else:
                pairs = {(t, d) for p in earlier for t, cells in p.teams.items() for d in cells}
                series = [
                    [p.teams[t][d].dist for p in earlier if d in p.teams.get(t, {})]
                    for t, d in sorted(pairs)
                ]
            self._swings[group] = share_swing(series)
        return self._swings[group]

    def index_from(self, period: str) -> int | None:
        """The first week of the history at or after `period`."""
        start = week_number(period)
        return next((i for i, p in enumerate(self.history) if week_number(p.period) >= start), None)


def _span_text(copy: Copy, span: Span | None, previous: str | None) -> str:
    if span is Span.PREVIOUS:
        return copy.t("charts.span_previous", previous=previous or "")
    if span is Span.RECENT:
        return copy.t("charts.span_recent")
    if span is Span.QUARTER:
        return copy.t("charts.span_quarter")
    return copy.t("charts.span_baseline")


def _marker_period(reading: Reading, span: Span | None) -> str:
    """The week a change is measured from: the reading's own for a week's change, the start
    of the later stretch for a change over several weeks."""
    if span is Span.RECENT:
        return shift_period(reading.period, -(WINDOW_WEEKS - 1))
    if span is Span.QUARTER:
        return shift_period(reading.period, -(QUARTER_WEEKS - 1))
    return reading.period


def _reading(report: Report, team: str | None, dimension: str) -> Reading | None:
    if team is None:
        return report.reading(dimension)
    found = next((t for t in report.findings.teams if t.team == team), None)
    return next((r for r in found.readings if r.dimension == dimension), None) if found else None


def _change_panel(
    report: Report, prompts: Prompts, series: _Series, headline: Headline
) -> Panel | None:
    copy = prompts.copy
    reading = _reading(report, headline.team, headline.dimension)
    if reading is None:
        return None
    dimension, team = headline.dimension, headline.team
    group = copy.t("charts.organisation") if team is None else team

    def pick(p: PeriodCells) -> Cell | None:
        cells = p.org if team is None else p.teams.get(team, {})
        return cells.get(dimension)

    marker_period = _marker_period(reading, headline.span)
    anchor = series.index_from(marker_period)
    bands = noise_bands(series.cells(pick), swing=series.swing(team or ""), anchor=anchor)
    marker = series.weeks.index(marker_period) if marker_period in series.weeks else None
    name = prompts.dimension_name(dimension)
    down = headline.direction == "down"
    points = round(headline.size)
    if headline.mixed:
        label = copy.t("charts.marker_mixed_down" if down else "charts.marker_mixed_up")
    else:
        label = copy.t("charts.marker_down" if down else "charts.marker_up", points=points)
    words = {
        "group": escape_text(group),
        "name": name,
        "now": pct(headline.now or 0.0),
        "before": pct(headline.before or 0.0),
        "span": _span_text(copy, headline.span, headline.previous_period),
        "verb": copy.t("charts.verb_fell" if down else "charts.verb_rose"),
    }
    summary = copy.t("charts.alt_mixed" if headline.mixed else "charts.alt_change", **words)
    return Panel(
        kind="change",
        title=copy.t("charts.panel", group=group, name=name),
        lines=(Line("", series.shares(pick)),),
        bands=series.shown(bands),
        marker=marker,
        marker_label=label,
        summary=summary,
    )


def _level_panel(
    report: Report, prompts: Prompts, series: _Series, reading: Reading, strongest: bool
) -> Panel:
    copy = prompts.copy
    dimension = reading.dimension

    def pick(p: PeriodCells) -> Cell | None:
        return p.org.get(dimension)

    bands = noise_bands(series.cells(pick), swing=series.swing(""))
    group = copy.t("charts.organisation")
    name = prompts.dimension_name(dimension)
    key = "charts.alt_strongest" if strongest else "charts.alt_weakest"
    return Panel(
        kind="level",
        title=copy.t(
            "charts.panel_strongest" if strongest else "charts.panel_weakest",
            group=group,
            name=name,
        ),
        lines=(Line("", series.shares(pick)),),
        bands=series.shown(bands),
        marker=None,
        marker_label="",
        summary=copy.t(key, group=group, name=name, now=pct(reading.favourable_share)),
    )


def _gap_panel(prompts: Prompts, series: _Series, headline: Headline) -> Panel:
    copy = prompts.copy
    dimension = headline.dimension
    name = prompts.dimension_name(dimension)
    high, low = pct(headline.now or 0.0), pct(headline.before or 0.0)
    if headline.kind is Kind.SAY_DO:
        title = copy.t("charts.say_do_panel", name=name)
        first = series.shares(lambda p: p.leaders.get(dimension))
        second = series.shares(lambda p: p.others.get(dimension))
        labels = (copy.t("charts.leaders"), copy.t("charts.others"))
        summary = copy.t("charts.alt_say_do", name=name, leaders=high, others=low)
    else:
        top, bottom = headline.highest or "", headline.lowest or ""
        title = copy.t("charts.silo_panel", name=name)
        first = series.shares(lambda p: p.teams.get(top, {}).get(dimension))
        second = series.shares(lambda p: p.teams.get(bottom, {}).get(dimension))
        labels = (top, bottom)
        summary = copy.t(
            "charts.alt_silo",
            name=name,
            highest=escape_text(top),
            high=high,
            lowest=escape_text(bottom),
            low=low,
        )
    lines = (
        Line(copy.t("charts.gap_label", label=labels[0], share=high), first),
        Line(copy.t("charts.gap_label", label=labels[1], share=low), second),
    )
    return Panel("gap", title, lines, (), None, "", summary)


def plan_chart(report: Report, prompts: Prompts) -> Plan | None:
    """What the trend chart shows, or None when there is nothing to draw."""
    weeks = _weeks(report)
    if not weeks:
        return None
    series = _Series(report, weeks)
    found = [h for h in headlines(report.findings) if h.kind is not Kind.FOLLOW_UP]
    org: list[Panel] = []
    rest: list[Panel] = []
    for headline in found:
        if headline.kind is Kind.CHANGE:
            panel = _change_panel(report, prompts, series, headline)
            if panel is not None:
                (org if headline.team is None else rest).append(panel)
        else:
            rest.append(_gap_panel(prompts, series, headline))
    if not org:
        readings = sorted(
            report.findings.dimensions, key=lambda r: (-r.favourable_share, r.dimension)
        )
        if readings:
            org.append(_level_panel(report, prompts, series, readings[0], strongest=True))
        if len(readings) > 1:
            org.append(_level_panel(report, prompts, series, readings[-1], strongest=False))
    # The organisation leads, but never crowds out every team's or gap's panel.
    keep = max(2, MAX_PANELS - len(rest))
    panels = (org[:keep] + rest)[:MAX_PANELS]
    if not panels:
        return None
    title = prompts.copy.t("charts.trend_title", period=report.period)
    return Plan(title, weeks, tuple(panels))


def fit_alt(copy: Copy, lead: str, items: Sequence[str], limit: int = ALT_LIMIT) -> str:
    """`lead`, then as many whole items as fit in `limit` characters."""
    separator, end = copy.t("charts.alt_separator"), copy.t("charts.alt_end")
    text = lead if len(lead) <= limit else lead[: limit - 1] + "…"
    for index, item in enumerate(items):
        joined = (
            f"{text} {item}{end}" if index == 0 else f"{text[: -len(end)]}{separator}{item}{end}"
        )
        if len(joined) > limit:
            break
        text = joined
    return text


# --- drawing ----------------------------------------------------------------------------------


def new_figure(width: float, height: float) -> Figure:
    """A figure drawn without pyplot (no global state, safe in the bot's worker threads)."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def png_bytes(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, facecolor="white")
    return buffer.getvalue()


def _ticks(count: int) -> list[int]:
    """Every 2nd to 4th week, always the latest."""
    step = 2 if count <= 8 else 3 if count <= 15 else 4
    return list(range(count - 1, -1, -step))[::-1]


def _values(values: Sequence[float | None]) -> list[float]:
    return [math.nan if v is None else v * 100 for v in values]


def _plot_line(axes: Axes, values: Sequence[float | None], colour: str, **style: Any) -> None:
    """The line, broken where a week was not asked or hidden, with a thin dotted bridge over
    each gap so the eye can follow it."""
    ys = _values(values)
    xs = list(range(len(ys)))
    known = [(x, y) for x, y in zip(xs, ys, strict=True) if not math.isnan(y)]
    if len(known) > 1:
        axes.plot(
            [x for x, _ in known],
            [y for _, y in known],
            color=colour,
            linestyle=":",
            linewidth=1.4,
            alpha=0.8,
            zorder=2,
        )
    axes.plot(xs, ys, color=colour, linewidth=3, markersize=7, zorder=3, **style)


def _draw_panel(axes: Axes, panel: Panel, periods: Sequence[str], copy: Copy) -> None:
    count = len(periods)
    shown = [(x, b) for x, b in enumerate(panel.bands) if b is not None]
    if shown:
        axes.bar(
            [x for x, _ in shown],
            [(b.high - b.low) * 100 for _, b in shown],
            bottom=[b.low * 100 for _, b in shown],
            width=1.0,
            color=BAND,
            alpha=0.55,
            linewidth=0,
            zorder=1,
        )
    if panel.kind == "gap":
        styles = [
            (ORANGE, {"marker": "s", "linestyle": "-"}),
            (BLUE, {"marker": "o", "linestyle": "--"}),
        ]
        for line, (colour, style) in zip(panel.lines, styles, strict=False):
            _plot_line(axes, line.values, colour, label=line.label, **style)
        # Above the plot, under the title: never over a point.
        axes.legend(
            loc="lower left",
            bbox_to_anchor=(0, 1.0),
            ncol=1,
            frameon=False,
            fontsize=FONT,
            handlelength=2.2,
            borderaxespad=0.2,
        )
    else:
        values = panel.lines[0].values
        _plot_line(axes, values, BLUE, marker="o", linestyle="-")
        last = next((i for i in range(count - 1, -1, -1) if values[i] is not None), None)
        if last is not None:
            share = values[last] or 0.0
            axes.annotate(
                pct(share),
                (last, share * 100),
                xytext=(0, -20 if share > 0.8 else 10),
                textcoords="offset points",
                ha="center",
                fontsize=FONT + 1,
                fontweight="bold",
                color=BLUE,
                zorder=5,
                bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.75, "pad": 1},
            )
    if panel.marker is not None:
        axes.axvline(panel.marker, color=VERMILION, linestyle="--", linewidth=2, zorder=4)
        near = [
            v
            for line in panel.lines
            for v in line.values[max(0, panel.marker - 1) : panel.marker + 3]
            if v is not None
        ]
        high = any(v > 0.7 for v in near)
        right = panel.marker > count * 0.6
        axes.text(
            panel.marker + (-0.25 if right else 0.25),
            6 if high else 94,
            panel.marker_label,
            ha="right" if right else "left",
            va="bottom" if high else "top",
            fontsize=FONT,
            fontweight="bold",
            color=VERMILION,
            zorder=6,
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1},
        )
    axes.set_xlim(-0.6, count - 0.4)
    axes.set_ylim(-4, 104)  # room for a point at 0% or 100%
    axes.set_yticks([0, 50, 100], ["0%", "50%", "100%"], fontsize=FONT)
    axes.set_yticks([25, 75], minor=True)
    ticks = _ticks(count)
    axes.set_xticks(ticks, [periods[i][-3:] for i in ticks], fontsize=FONT)
    axes.grid(axis="y", which="both", color="#dddddd", linewidth=0.8, zorder=0)
    axes.tick_params(length=0)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.set_title(
        textwrap.fill(panel.title, TITLE_WRAP),
        loc="left",
        fontsize=TITLE_FONT,
        fontweight="bold",
        color=INK,
        pad=46 if panel.kind == "gap" else 6,
    )


def _legend(figure: Figure, plan: Plan, copy: Copy, spare: Axes | None) -> None:
    """One legend for every panel: in the grid's empty cell if it has one, else below."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles: list[Any] = [
        Line2D([], [], color=BLUE, linewidth=3, marker="o", label=copy.t("charts.legend_line")),
        Patch(color=BAND, alpha=0.55, label=copy.t("charts.legend_band")),
    ]
    if any(p.marker is not None for p in plan.panels):
        handles.append(
            Line2D(
                [],
                [],
                color=VERMILION,
                linestyle="--",
                linewidth=2,
                label=copy.t("charts.legend_marker"),
            )
        )
    if any(v is None for p in plan.panels for line in p.lines for v in line.values):
        handles.append(
            Line2D(
                [], [], color=BLUE, linestyle=":", linewidth=1.4, label=copy.t("charts.legend_gap")
            )
        )
    for handle in handles:  # long words (French) wrap rather than run off the edge
        handle.set_label(textwrap.fill(handle.get_label(), LEGEND_WRAP))
    if spare is not None:
        # Out of the layout's reckoning, so it cannot squeeze the panels beside it.
        spare.legend(
            handles=handles,
            loc="center left",
            bbox_to_anchor=(0.0, 0.5),
            frameon=False,
            fontsize=FONT,
            labelspacing=0.8,
        ).set_in_layout(False)
        return
    figure.legend(handles=handles, loc="outside lower center", ncol=2, frameon=False, fontsize=FONT)


def draw_chart(plan: Plan, copy: Copy) -> bytes:
    columns = 1 if len(plan.panels) == 1 else 2
    rows = math.ceil(len(plan.panels) / columns)
    spare_row = len(plan.panels) % columns == 0
    figure = new_figure(WIDTH, 0.8 + 2.9 * rows + (0.7 if spare_row else 0.0))
    grid = figure.subplots(rows, columns, squeeze=False)
    spare = None
    for index, axes in enumerate(grid.flat):
        if index < len(plan.panels):
            _draw_panel(axes, plan.panels[index], plan.periods, copy)
        else:
            axes.set_axis_off()
            spare = axes
    figure.suptitle(plan.title, fontsize=HEAD_FONT, fontweight="bold", color=INK)
    _legend(figure, plan, copy, spare)
    return png_bytes(figure)


def trend_chart(report: Report, prompts: Prompts) -> Chart | None:
    """The trend chart of a report's findings, or None when there is nothing to draw."""
    plan = plan_chart(report, prompts)
    if plan is None:
        return None
    copy = prompts.copy
    lead = copy.t("charts.trend_alt", first=plan.periods[0], last=plan.periods[-1])
    alt = fit_alt(copy, lead, [p.summary for p in plan.panels])
    return Chart(draw_chart(plan, copy), plan.title, alt, tuple(p.title for p in plan.panels))
