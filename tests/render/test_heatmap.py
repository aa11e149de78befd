"""The heatmap: every team on every dimension in % favourable, hidden cells said to be hidden,
real changes marked, legible on a phone, and still drawn for forty teams."""

from __future__ import annotations

import io
import warnings
from dataclasses import replace

import pytest
from PIL import Image

from bot.render.chart import ALT_LIMIT
from bot.render.heatmap import (
    MAX_BLOCK,
    HeatmapPlan,
    _ink_on,
    alt_text,
    draw_heatmap,
    heatmap_image,
    notes,
    plan_heatmap,
)
from bot.services.digest import Report
from tests.render.reports import PROMPTS, many_teams_report, story_report

FRENCH = PROMPTS.for_locale("fr-FR")
COPY = PROMPTS.copy


@pytest.fixture(scope="module")
def story() -> Report:
    return story_report()


@pytest.fixture(scope="module")
def small_teams() -> Report:
    """Teams of seven asked in rotation: some weeks too few of a team answer to be shown."""
    report = story_report(rotate=True, people_per_team=7, seed=1001)
    report.hidden_teams = 2
    return report


def _plan(report: Report) -> HeatmapPlan:
    plan = plan_heatmap(report, PROMPTS)
    assert plan is not None
    return plan


def test_each_cell_is_the_reading_the_digest_reports(story: Report) -> None:
    plan = _plan(story)
    assert plan.names == tuple(d.name for d in PROMPTS.bank.dimensions)  # full names, rows
    assert plan.organisation.team is None
    assert [c.team for c in plan.teams] == [t.team for t in story.findings.teams]
    org = {r.dimension: r for r in story.findings.dimensions}
    for row, dimension in enumerate(plan.dimensions):
        assert plan.organisation.cells[row].share == org[dimension].favourable_share
    for column, team in zip(plan.teams, story.findings.teams, strict=True):
        assert column.people == team.respondents
        readings = {r.dimension: r for r in team.readings}
        for row, dimension in enumerate(plan.dimensions):
            cell = column.cells[row]
            assert cell.state == "shown"
            assert cell.share == readings[dimension].favourable_share
            assert cell.direction == readings[dimension].real_direction


def test_real_changes_are_marked_and_named(story: Report) -> None:
    plan = _plan(story)
    support = next(c for c in plan.teams if c.team == "support")
    empowerment = plan.dimensions.index("empowerment")
    assert support.cells[empowerment].direction == "down"
    marked = [
        (column.team, plan.dimensions[row])
        for column in plan.teams
        for row, cell in enumerate(column.cells)
        if cell.direction != "none"
    ]
    assert ("support", "empowerment") in marked
    alt = alt_text(plan, COPY)
    assert "Real changes: " in alt
    assert "support on Empowerment fell to " in alt
    assert "▼ ▲ outlined: a real fall or rise" in notes(plan, COPY)[0]


def test_hidden_cells_are_drawn_as_hidden_and_counted(small_teams: Report) -> None:
    plan = _plan(small_teams)
    org = {r.dimension for r in small_teams.findings.dimensions}
    hidden = [
        (column.team, plan.dimensions[row])
        for column in plan.teams
        for row, cell in enumerate(column.cells)
        if cell.state == "hidden"
    ]
    assert hidden  # seven-person teams lose some cells to the gate
    for team, dimension in hidden:
        readings = next(t for t in small_teams.findings.teams if t.team == team).readings
        assert dimension not in {r.dimension for r in readings}
        assert dimension in org  # the organisation was asked it: the team's cell is hidden
        cell = plan.teams[[c.team for c in plan.teams].index(team)].cells[
            plan.dimensions.index(dimension)
        ]
        assert cell.share is None  # nothing of it is drawn
    lines = notes(plan, COPY)
    assert "hidden: too few answers to show safely (only groups of 5+ people are shown)." in lines
    assert (
        "2 more teams hidden entirely: fewer than 5 people answered, or they could be worked "
        "out by subtraction." in lines
    )
    alt = alt_text(plan, COPY)
    assert f"Cells hidden: {len(hidden)}" in alt
    assert "Teams hidden entirely: 2 (fewer than 5 people answered)" in alt


def test_one_hidden_team_is_worded_as_one(story: Report) -> None:
    plan = _plan(story)
    one = replace(plan, hidden_teams=1)
    assert notes(one, COPY)[-1].startswith("1 more team hidden entirely: fewer than 5")
    assert not any("hidden" in line for line in notes(plan, COPY)[1:])


def test_the_heatmap_is_a_png_readable_at_phone_width(story: Report) -> None:
    image = heatmap_image(story, PROMPTS)
    assert image is not None
    png = Image.open(io.BytesIO(image.png))
    assert png.format == "PNG"
    width, height = png.size
    assert 700 <= width <= 920
    assert 800 <= height <= 1400
    assert image.title == "% favourable by team, 2026-W47"
    assert image.panels == ("billing, engineering, product, sales, success, support",)


def test_the_alt_text_names_the_extremes_the_changes_and_what_is_hidden(
    small_teams: Report,
) -> None:
    image = heatmap_image(small_teams, PROMPTS)
    assert image is not None
    alt = image.alt_text
    assert len(alt) <= ALT_LIMIT
    assert alt.startswith(
        "Heatmap of % favourable, 2026-W47: the organisation and 6 teams on 13 dimensions."
    )
    plan = _plan(small_teams)
    shown = sorted(
        (cell.share or 0.0, column.team or "", plan.names[row])
        for column in plan.teams
        for row, cell in enumerate(column.cells)
        if cell.state == "shown"
    )
    lowest, highest = shown[0], shown[-1]
    assert f"Lowest: {lowest[1]} on {lowest[2]} ({round(lowest[0] * 100)}%)" in alt
    assert f"{highest[1]} on {highest[2]} ({round(highest[0] * 100)}%)" in alt
    assert "Cells hidden: " in alt


def test_glyphs_and_words_render_without_missing_characters(small_teams: Report) -> None:
    plan = _plan(small_teams)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        draw_heatmap(plan, COPY)
        draw_heatmap(_plan(story_report()), FRENCH.copy)
    assert not [w for w in caught if "missing from" in str(w.message)]


def test_forty_teams_stack_into_blocks_instead_of_widening() -> None:
    report = many_teams_report(40)
    plan = _plan(report)
    assert len(plan.teams) >= 30
    blocks = plan.blocks()
    assert all(block[0] is plan.organisation for block in blocks)  # the reference each time
    assert all(len(block) - 1 <= MAX_BLOCK for block in blocks)
    assert sum(len(block) - 1 for block in blocks) == len(plan.teams)
    image = heatmap_image(report, PROMPTS)
    assert image is not None
    png = Image.open(io.BytesIO(image.png))
    assert png.size[0] <= 920  # never wider: taller
    assert png.size[1] <= 1100 * len(blocks) + 400
    assert len(image.png) < 2_000_000
    assert len(image.alt_text) <= ALT_LIMIT
    hidden = 40 - len(plan.teams)
    assert f"{hidden} more teams hidden entirely" in notes(plan, COPY)[-1]


def test_no_heatmap_without_a_team(story: Report) -> None:
    alone = replace(story, findings=replace(story.findings, teams=[]))
    assert plan_heatmap(alone, PROMPTS) is None
    assert heatmap_image(alone, PROMPTS) is None


def test_numbers_are_written_in_the_colour_that_contrasts_most() -> None:
    assert _ink_on((0.0, 0.13, 0.3, 1.0)) == "white"  # cividis at the low end
    assert _ink_on((1.0, 0.92, 0.27, 1.0)) == "black"  # and at the high end
    assert _ink_on((0.5, 0.5, 0.5, 1.0)) == "black"


def test_in_french_hidden_is_masque(small_teams: Report) -> None:
    image = heatmap_image(small_teams, FRENCH)
    assert image is not None
    assert image.title == "% favorables par équipe, 2026-W47"
    assert image.alt_text.startswith("Carte de chaleur des % favorables")
    plan = plan_heatmap(small_teams, FRENCH)
    assert plan is not None
    assert any(line.startswith("masqué : ") for line in notes(plan, FRENCH.copy))
