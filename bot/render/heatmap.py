"""The digest's heatmap: every team on every dimension, in % favourable, as a PNG.

Dimensions are the rows, with their full names; the organisation and then each team shown
are the columns, with how many people answered. A cell is the group's latest reading within
the rotation window (the one the digest reports), its number written in it, coloured on
cividis, a scale that reads the same under every common colour-vision deficiency and in
greyscale, and always from 0 to 100% so a colour means the same every week. A cell the
anonymity gate suppressed is drawn grey, hatched and labelled "hidden"; a real change is
marked ▼ or ▲ and outlined. Teams hidden entirely are counted in a footnote.

Sized for a phone: at most MAX_BLOCK teams side by side (about 880 px wide); more teams are
stacked in further blocks below, each with the dimension names again, so the picture grows
taller, never wider.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from bot.prompts import Copy, Prompts
from bot.render.chart import INK, Chart, fit_alt, new_figure, pct, png_bytes
from bot.render.escape import clip, escape_text

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.colors import Colormap
    from matplotlib.figure import Figure

    from bot.analytics.findings import Reading
    from bot.services.digest import Report

MAX_BLOCK = 6  # teams side by side (with the organisation's column: seven)
MAX_TEAM_LABEL = 24
TEAM_WRAP = 11  # and of a team's name in its column heading
LABEL_WIDTH = 1.85  # inches
CELL_WIDTH = 0.85
CELL_HEIGHT = 0.5
ORG_GAP = 0.18  # between the organisation's column and the teams', in cells
NOTE_WRAP = 84
FONT = 12
HIDDEN_GREY = "#d9d9d9"
HIDDEN_INK = "#555555"

CellState = Literal["shown", "hidden", "none"]


@dataclass(frozen=True, slots=True)
class HeatCell:
    state: CellState  # "none": no reading in the window, for the organisation either
    share: float | None = None
    direction: str = "none"  # "up" / "down": a real change


@dataclass(frozen=True, slots=True)
class Column:
    team: str | None  # None: the organisation
    name: str  # as drawn: the team's name (clipped), or the organisation's
    people: int
    cells: tuple[HeatCell, ...]  # one per dimension, in the plan's order


@dataclass(frozen=True, slots=True)
class HeatmapPlan:
    title: str
    period: str
    dimensions: tuple[str, ...]  # ids
    names: tuple[str, ...]  # full names, in the same order
    organisation: Column
    teams: tuple[Column, ...]
    hidden_teams: int
    min_group: int

    def blocks(self) -> list[tuple[Column, ...]]:
        """The columns of each block: the organisation, then up to MAX_BLOCK teams; blocks
        kept about equally wide."""
        count = max(1, math.ceil(len(self.teams) / MAX_BLOCK))
        size = max(1, math.ceil(len(self.teams) / count))
        chunks = [self.teams[i : i + size] for i in range(0, len(self.teams), size)] or [()]
        return [(self.organisation, *chunk) for chunk in chunks]

    def count(self, state: CellState) -> int:
        return sum(c.state == state for column in self.teams for c in column.cells)


def _cell(reading: Reading | None, asked: bool) -> HeatCell:
    if reading is not None:
        return HeatCell("shown", reading.favourable_share, reading.real_direction)
    return HeatCell("hidden" if asked else "none")


def plan_heatmap(report: Report, prompts: Prompts) -> HeatmapPlan | None:
    """What the heatmap shows, or None when no team is shown at all."""
    findings = report.findings
    if not findings.teams:
        return None
    copy = prompts.copy
    dimensions = tuple(d.id for d in prompts.bank.dimensions)
    org = {r.dimension: r for r in findings.dimensions}
    people = report.participation.respondents or max(
        (r.respondents for r in findings.dimensions), default=0
    )
    organisation = Column(
        None,
        copy.t("charts.organisation"),
        people,
        tuple(_cell(org.get(d), False) for d in dimensions),
    )
    teams = []
    for team in findings.teams:
        readings = {r.dimension: r for r in team.readings}
        # A team's cell is hidden when the organisation has a reading the team's is not shown
        # beside; with no reading for anyone the dimension was not asked (or shown) at all.
        cells = tuple(_cell(readings.get(d), d in org) for d in dimensions)
        teams.append(Column(team.team, clip(team.team, MAX_TEAM_LABEL), team.respondents, cells))
    return HeatmapPlan(
        title=copy.t("charts.heatmap_title", period=report.period),
        period=report.period,
        dimensions=dimensions,
        names=tuple(prompts.dimension_name(d) for d in dimensions),
        organisation=organisation,
        teams=tuple(teams),
        hidden_teams=report.hidden_teams,
        min_group=report.min_group_size,
    )


# --- words --------------------------------------------------------------------------------------


def notes(plan: HeatmapPlan, copy: Copy) -> list[str]:
    """The footnotes under the picture: what a cell is, and what is not shown."""
    lines = [copy.t("charts.note_cells")]
    if plan.count("hidden"):
        lines.append(copy.t("charts.note_hidden", min_group=plan.min_group))
    if plan.count("none") or any(c.state == "none" for c in plan.organisation.cells):
        lines.append(copy.t("charts.note_not_asked"))
    if plan.hidden_teams == 1:
        lines.append(copy.t("charts.note_teams_hidden_one", min_group=plan.min_group))
    elif plan.hidden_teams > 1:
        lines.append(
            copy.t(
                "charts.note_teams_hidden_many", count=plan.hidden_teams, min_group=plan.min_group
            )
        )
    return lines


def alt_text(plan: HeatmapPlan, copy: Copy) -> str:
    """The heatmap in words: the lowest and highest team cells, the real changes, and how
    much is hidden."""
    shown = [
        (cell.share or 0.0, column.team or "", plan.names[row], cell.direction)
        for column in plan.teams
        for row, cell in enumerate(column.cells)
        if cell.state == "shown"
    ]
    ordered = sorted(shown, key=lambda item: (item[0], item[1], item[2]))

    def cell_words(items: Sequence[tuple[float, str, str, str]]) -> str:
        return ", ".join(
            copy.t("charts.alt_cell", team=escape_text(team), name=name, share=pct(share))
            for share, team, name, _ in items
        )

    parts = []
    if ordered:
        parts.append(copy.t("charts.alt_lowest", cells=cell_words(ordered[:2])))
        parts.append(copy.t("charts.alt_highest", cells=cell_words(ordered[::-1][:2])))
    changes = [
        copy.t(
            "charts.alt_cell_change",
            team=escape_text(column.team) if column.team else column.name,
            name=plan.names[row],
            verb=copy.t("charts.verb_fell" if cell.direction == "down" else "charts.verb_rose"),
            share=pct(cell.share or 0.0),
        )
        for column in (plan.organisation, *plan.teams)
        for row, cell in enumerate(column.cells)
        if cell.state == "shown" and cell.direction != "none"
    ]
    if changes:
        parts.append(copy.t("charts.alt_changes", cells=", ".join(changes)))
    else:
        parts.append(copy.t("charts.alt_no_changes"))
    if plan.count("hidden"):
        parts.append(copy.t("charts.alt_hidden_cells", count=plan.count("hidden")))
    if plan.hidden_teams:
        parts.append(
            copy.t("charts.alt_hidden_teams", count=plan.hidden_teams, min_group=plan.min_group)
        )
    lead = copy.t(
        "charts.heatmap_alt",
        period=plan.period,
        teams=len(plan.teams),
        dimensions=len(plan.dimensions),
    )
    # The changes matter most: they go ahead of the extremes when space runs short.
    changes_first = [parts[2], parts[0], parts[1], *parts[3:]] if ordered else parts
    return fit_alt(copy, lead, changes_first)


# --- drawing ----------------------------------------------------------------------------------


def _ink_on(rgba: Sequence[float]) -> str:
    """Black or white, whichever reads better on the colour (relative luminance)."""

    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    red, green, blue = (linear(c) for c in rgba[:3])
    luminance = 0.2126 * red + 0.7152 * green + 0.0722 * blue
    # Contrast against black (L + 0.05) / 0.05 and white 1.05 / (L + 0.05) cross at 0.179.
    return "black" if luminance > 0.179 else "white"


def _column_x(index: int) -> float:
    return 0.0 if index == 0 else index + ORG_GAP


def _draw_block(
    axes: Axes,
    plan: HeatmapPlan,
    columns: Sequence[Column],
    copy: Copy,
    cmap: Colormap,
    *,
    upright: bool,
) -> None:
    from matplotlib.patches import Rectangle

    rows = len(plan.dimensions)
    for index, column in enumerate(columns):
        x = _column_x(index)
        for row, cell in enumerate(column.cells):
            y = row
            if cell.state == "shown":
                colour = cmap(cell.share or 0.0)
                axes.add_patch(
                    Rectangle((x, y), 1, 1, facecolor=colour, edgecolor="white", linewidth=2)
                )
                arrow = {"down": "▼", "up": "▲"}.get(cell.direction, "")
                text = f"{arrow}{round((cell.share or 0.0) * 100)}"
                axes.text(
                    x + 0.5,
                    y + 0.5,
                    text,
                    ha="center",
                    va="center",
                    fontsize=FONT + 1,
                    fontweight="bold",
                    color=_ink_on(colour),
                )
                if arrow:
                    for width, edge in ((4.5, "black"), (1.5, "white")):
                        axes.add_patch(
                            Rectangle(
                                (x + 0.06, y + 0.06),
                                0.88,
                                0.88,
                                fill=False,
                                edgecolor=edge,
                                linewidth=width,
                                zorder=4,
                            )
                        )
            elif cell.state == "hidden":
                axes.add_patch(
                    Rectangle(
                        (x, y),
                        1,
                        1,
                        facecolor=HIDDEN_GREY,
                        edgecolor="white",
                        hatch="///",
                        linewidth=2,
                    )
                )
                axes.text(
                    x + 0.5,
                    y + 0.5,
                    copy.t("charts.hidden"),
                    ha="center",
                    va="center",
                    fontsize=FONT - 2,
                    color=HIDDEN_INK,
                    bbox={"facecolor": HIDDEN_GREY, "edgecolor": "none", "pad": 1},
                )
            else:
                axes.add_patch(
                    Rectangle((x, y), 1, 1, facecolor="white", edgecolor="#eeeeee", linewidth=2)
                )
                axes.text(
                    x + 0.5,
                    y + 0.5,
                    copy.t("charts.not_asked"),
                    ha="center",
                    va="center",
                    fontsize=FONT,
                    color=HIDDEN_INK,
                )
    width = _column_x(len(columns) - 1) + 1
    axes.set_xlim(0, width)
    axes.set_ylim(rows, 0)
    axes.set_yticks(
        [r + 0.5 for r in range(rows)],
        [_wrap_name(name) for name in plan.names],
        fontsize=FONT,
        color=INK,
    )
    centres = [_column_x(i) + 0.5 for i in range(len(columns))]
    if upright:
        axes.set_xticks(centres, [_heading(c, copy) for c in columns], fontsize=FONT - 1)
    else:
        # Slanted, each name on one line, rising leftwards from its column (over the empty
        # corner above the dimensions' names, never past the right edge).
        labels = [f"{c.name} {copy.t('charts.heatmap_people', people=c.people)}" for c in columns]
        axes.set_xticks(
            centres,
            labels,
            fontsize=FONT - 1,
            rotation=-40,
            ha="right",
            rotation_mode="anchor",
        )
    axes.xaxis.tick_top()
    axes.tick_params(length=0, pad=4)
    for spine in axes.spines.values():
        spine.set_visible(False)


def _heading(column: Column, copy: Copy) -> str:
    """A column's heading: the name wrapped onto at most three lines, the count below."""
    # Words are never split ("Organisation" stays whole); a longer one is clipped.
    words = textwrap.wrap(column.name, TEAM_WRAP, break_long_words=False) or [""]
    lines = [clip(line, TEAM_WRAP + 2) for line in words]
    if len(lines) > 3:
        lines = [*lines[:2], clip(" ".join(lines[2:]), TEAM_WRAP)]
    return "\n".join([*lines, copy.t("charts.heatmap_people", people=column.people)])


def _text_width(text: str, size: int = FONT - 1) -> float:
    """How wide a line of type is drawn, in inches (measured, not guessed)."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    width, _, _ = TextToPath().get_text_width_height_descent(
        text, FontProperties(size=size), ismath=False
    )
    return width / 72


def _wrap_name(name: str) -> str:
    """A dimension's full name on as few lines as fit beside the cells."""
    lines: list[str] = []
    for word in name.split():
        if lines and _text_width(f"{lines[-1]} {word}", FONT) <= LABEL_WIDTH - 0.2:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return "\n".join(lines)


def _upright(blocks: Sequence[Sequence[Column]], copy: Copy) -> bool:
    """Whether the headings fit side by side, level: no two neighbours' lines overlap."""
    for columns in blocks:
        widths = [max(_text_width(line) for line in _heading(c, copy).split("\n")) for c in columns]
        for index in range(len(widths) - 1):
            room = (_column_x(index + 1) - _column_x(index)) * CELL_WIDTH - 0.08
            if (widths[index] + widths[index + 1]) / 2 > room:
                return False
    return True


def draw_heatmap(plan: HeatmapPlan, copy: Copy) -> bytes:
    import matplotlib
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    cmap = matplotlib.colormaps["cividis"]
    blocks = plan.blocks()
    widest = max(len(b) for b in blocks)
    rows = len(plan.dimensions)
    upright = _upright(blocks, copy)
    if upright:
        lines = max(_heading(c, copy).count("\n") + 1 for b in blocks for c in b)
        head = 0.22 * lines + 0.15  # column headings, inches
    else:
        longest = max(
            _text_width(f"{c.name} {copy.t('charts.heatmap_people', people=c.people)}")
            for b in blocks
            for c in b
        )
        head = longest * math.sin(math.radians(40)) + 0.35
    # A name on three lines (French runs long) gets a taller row.
    name_lines = max(_wrap_name(name).count("\n") + 1 for name in plan.names)
    row_height = max(CELL_HEIGHT, 0.21 * name_lines + 0.08)
    body = rows * row_height
    footnotes = [textwrap.fill(n, NOTE_WRAP) for n in notes(plan, copy)]
    foot_lines = sum(n.count("\n") + 1 for n in footnotes)
    title_height, bar_height, gap = 0.55, 0.95, 0.3
    notes_height = 0.23 * foot_lines + 0.15
    width = LABEL_WIDTH + (widest + ORG_GAP) * CELL_WIDTH + 0.25
    height = title_height + len(blocks) * (head + body + gap) + bar_height + notes_height
    figure: Figure = new_figure(width, height)
    figure.set_layout_engine("none")
    top = height - title_height
    for columns in blocks:
        top -= head
        block_width = (len(columns) + ORG_GAP) * CELL_WIDTH
        axes = figure.add_axes(
            (LABEL_WIDTH / width, (top - body) / height, block_width / width, body / height)
        )
        _draw_block(axes, plan, columns, copy, cmap, upright=upright)
        top -= body + gap
    figure.text(
        0.02,
        1 - 0.3 / height,
        plan.title,
        fontsize=16,
        fontweight="bold",
        color=INK,
        va="center",
    )
    bar = figure.add_axes(
        (LABEL_WIDTH / width, (notes_height + 0.5) / height, 4.2 / width, 0.2 / height)
    )
    scale = ScalarMappable(norm=Normalize(0, 100), cmap=cmap)
    colourbar = figure.colorbar(scale, cax=bar, orientation="horizontal")
    colourbar.set_ticks([0, 25, 50, 75, 100], labels=["0%", "25%", "50%", "75%", "100%"])
    colourbar.ax.tick_params(labelsize=FONT - 1, length=0)
    colourbar.outline.set_visible(False)
    figure.text(
        LABEL_WIDTH / width,
        (notes_height + 0.78) / height,
        copy.t("charts.scale"),
        fontsize=FONT - 1,
        color=INK,
        va="bottom",
    )
    figure.text(
        0.02,
        (notes_height - 0.05) / height,
        "\n".join(footnotes),
        fontsize=FONT - 1,
        color=INK,
        va="top",
        linespacing=1.35,
    )
    return png_bytes(figure)


def heatmap_image(report: Report, prompts: Prompts) -> Chart | None:
    """The heatmap of a report's teams, or None when no team is shown."""
    plan = plan_heatmap(report, prompts)
    if plan is None:
        return None
    copy = prompts.copy
    titles = [", ".join(c.name for c in block[1:]) for block in plan.blocks()]
    return Chart(draw_heatmap(plan, copy), plan.title, alt_text(plan, copy), tuple(titles))
