"""The trend chart: a panel per finding, gaps where nothing was shown, a band and a marker,
alt text that says the same, and a PNG that stays legible on a phone."""

from __future__ import annotations

import io
import subprocess
import sys
from dataclasses import replace

import pytest
from PIL import Image

from bot.analytics.cells import PeriodCells
from bot.analytics.periods import shift_period
from bot.render.chart import ALT_LIMIT, MAX_PANELS, Plan, plan_chart, trend_chart
from bot.sandbox.org import Story
from bot.services.digest import Report
from tests.render.reports import PROMPTS, report_of, story_report

FRENCH = PROMPTS.for_locale("fr-FR")


@pytest.fixture(scope="module")
def story() -> Report:
    """The planted story (seed 1000): support's Empowerment slides over the last weeks,
    product's Root-cause fixing drops, leaders rate Leadership far higher, sales is a silo."""
    return story_report()


@pytest.fixture(scope="module")
def rotated() -> Report:
    """The same organisation with its last four weeks asked in rotation."""
    return story_report(rotate=True)


def _plan(report: Report) -> Plan:
    plan = plan_chart(report, PROMPTS)
    assert plan is not None
    return plan


def _cell_share(period: PeriodCells, title: str) -> float | None:
    """The share a single-group panel should show for a week, from the cells themselves."""
    group, name = title.split(" · ")
    name = name.removesuffix(" (strongest)").removesuffix(" (weakest)")
    dimension = next(d.id for d in PROMPTS.bank.dimensions if d.name == name)
    cells = period.org if group == "Organisation" else period.teams.get(group, {})
    cell = cells.get(dimension)
    return None if cell is None else cell.dist.favourable_share


def test_the_planted_story_gets_a_panel_for_each_finding_and_none_for_anyone_else(
    story: Report,
) -> None:
    titles = [p.title for p in _plan(story).panels]
    # The organisation first: nothing of it really changed, so its strongest and weakest.
    assert titles[0].startswith("Organisation · ")
    assert titles[0].endswith("(strongest)")
    assert titles[1] == "Organisation · Leadership walks the talk (weakest)"
    assert set(titles[2:]) == {
        "Silo · Cross-team collaboration",
        "Say-do gap · Leadership walks the talk",
        "support · Empowerment",
        "product · Root-cause fixing",
    }
    # Teams without a real finding get no panel.
    assert not [t for t in titles if t.split(" · ")[0] in {"billing", "engineering", "success"}]


def test_every_team_panel_is_a_real_change_and_the_biggest_comes_first(story: Report) -> None:
    changes = [p for p in _plan(story).panels if p.kind == "change"]
    readings = {(t.team, r.dimension): r for t in story.findings.teams for r in t.readings}
    assert [p.title for p in changes] == ["support · Empowerment", "product · Root-cause fixing"]
    assert readings[("support", "empowerment")].real_direction == "down"
    assert readings[("product", "root_cause")].real_direction != "none"
    assert changes[0].marker_label == "fell 52 pts"
    assert changes[1].marker_label.startswith(("fell", "rose"))


def test_a_change_is_marked_at_the_week_it_is_measured_from(story: Report) -> None:
    plan = _plan(story)
    panels = {p.title: p for p in plan.panels}
    support = panels["support · Empowerment"]
    # A slide over the last four weeks (the `recent` comparison): marked where they start.
    assert support.marker is not None
    assert plan.periods[support.marker] == shift_period(story.period, -3) == "2026-W44"
    # From there on, the band stays where the weeks before had it: one centre throughout.
    after = [b for b in support.bands[support.marker :] if b is not None]
    assert after
    assert len({round(b.centre, 9) for b in after}) == 1
    last = support.lines[0].values[-1]
    assert last is not None
    assert last < after[-1].low  # the fall lies outside it
    # A change against the last eight weeks is marked at the week itself.
    product = panels["product · Root-cause fixing"]
    assert product.marker is not None
    assert plan.periods[product.marker] == story.period
    # Gap panels are comparisons of two groups: no band, no marker.
    for panel in plan.panels:
        if panel.kind == "gap":
            assert (panel.bands, panel.marker, len(panel.lines)) == ((), None, 2)


def test_weeks_not_asked_are_gaps_in_the_line_and_nothing_is_invented(rotated: Report) -> None:
    plan = _plan(rotated)
    by_period = {p.period: p for p in rotated.history}
    gaps = 0
    for panel in plan.panels:
        if panel.kind == "gap":
            continue
        values = panel.lines[0].values
        assert len(values) == len(plan.periods) == len(panel.bands)
        for week, value, band in zip(plan.periods, values, panel.bands, strict=True):
            expected = _cell_share(by_period[week], panel.title)
            assert value == expected
            if value is None:
                gaps += 1
                assert band is None  # no band where nothing was shown
    # Rotation asks each dimension once in the last four weeks: three gaps per panel.
    assert gaps >= 3 * sum(p.kind != "gap" for p in plan.panels)


def test_the_chart_is_a_png_sized_for_a_phone(story: Report) -> None:
    chart = trend_chart(story, PROMPTS)
    assert chart is not None
    image = Image.open(io.BytesIO(chart.png))
    assert image.format == "PNG"
    width, height = image.size
    assert 700 <= width <= 900  # scaled to 360 px by Slack on a phone: type stays big
    assert 400 <= height <= 1400  # three rows of two panels
    assert len(chart.png) < 400_000
    assert chart.panels == tuple(p.title for p in _plan(story).panels)
    assert chart.title == "What changed: % favourable by week, 2026-W47"


def test_the_alt_text_says_what_the_panels_show(story: Report) -> None:
    chart = trend_chart(story, PROMPTS)
    assert chart is not None
    alt = chart.alt_text
    assert len(alt) <= ALT_LIMIT
    assert alt.startswith("Small charts of % favourable (Agree or Strongly agree) by week")
    assert "2026-W34 to 2026-W47" in alt
    assert "support: Empowerment fell to " in alt
    assert "in the 8 weeks before the last 4; beyond normal swings" in alt
    assert "Say-do gap on Leadership walks the talk: leaders 100% favourable" in alt
    assert "Silo on Cross-team collaboration: " in alt
    assert "sales at " in alt
    assert "is the strongest reading at" in alt
    assert "is the weakest reading at" in alt
    for panel in _plan(story).panels:
        assert panel.summary in alt


def test_a_steady_organisation_shows_its_strongest_and_weakest() -> None:
    report = story_report(Story.pure_noise(), seed=5)
    plan = _plan(report)
    assert [p.kind for p in plan.panels] == ["level", "level"]
    shares = {r.dimension: r.favourable_share for r in report.findings.dimensions}
    strongest = max(shares, key=lambda d: shares[d])
    weakest = min(shares, key=lambda d: shares[d])
    name = PROMPTS.dimension_name
    assert plan.panels[0].title == f"Organisation · {name(strongest)} (strongest)"
    assert plan.panels[1].title == f"Organisation · {name(weakest)} (weakest)"
    assert all(p.marker is None for p in plan.panels)
    chart = trend_chart(report, PROMPTS)
    assert chart is not None
    assert "beyond normal swings" not in chart.alt_text
    assert Image.open(io.BytesIO(chart.png)).size[0] <= 900


def test_at_most_six_panels_and_the_organisation_leads() -> None:
    report = story_report()
    # Every team's Customer-first reading declared a real fall, as a busy week might have.
    for team in report.findings.teams:
        for reading in team.readings:
            if reading.dimension == "customer_outcome":
                reading.vs_baseline.real = True
                reading.vs_baseline.delta = -0.5 - len(team.team) / 100
    plan = _plan(report)
    assert len(plan.panels) == MAX_PANELS
    assert [p.kind for p in plan.panels[:2]] == ["level", "level"]
    chart = trend_chart(report, PROMPTS)
    assert chart is not None
    assert len(chart.panels) == MAX_PANELS


def test_team_names_are_escaped_in_the_alt_text_but_drawn_as_they_are() -> None:
    found = story_report()
    renamed = [
        replace(
            period,
            teams={
                ("<!here> support" if team == "support" else team): cells
                for team, cells in period.teams.items()
            },
        )
        for period in found.history
    ]
    report = report_of(renamed)
    chart = trend_chart(report, PROMPTS)
    assert chart is not None
    assert "<!here> support · Empowerment" in chart.panels
    assert "&lt;!here&gt; support: Empowerment fell to" in chart.alt_text
    assert "<!here>" not in chart.alt_text


def test_in_french_the_chart_speaks_french(story: Report) -> None:
    chart = trend_chart(story, FRENCH)
    assert chart is not None
    assert chart.title == "Ce qui a changé : % favorables par semaine, 2026-W47"
    assert "support : Autonomie a baissé à " in chart.alt_text
    assert " ; " in chart.alt_text


def test_nothing_to_draw_without_history(story: Report) -> None:
    empty = Report(
        period=story.period,
        min_group_size=5,
        participation=story.participation,
        previous_rate=None,
        findings=replace(story.findings, dimensions=[], teams=[], say_do=[], silos=[]),
        history=[],
    )
    assert plan_chart(empty, PROMPTS) is None
    assert trend_chart(empty, PROMPTS) is None


def test_importing_the_renderers_leaves_matplotlib_unloaded() -> None:
    """Start-up time: matplotlib loads only when a picture is drawn."""
    code = (
        "import sys, bot.render.chart, bot.render.heatmap, bot.services.publishing; "
        "print('matplotlib' in sys.modules)"
    )
    out = subprocess.run(  # noqa: S603 - this interpreter, a fixed snippet
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"
