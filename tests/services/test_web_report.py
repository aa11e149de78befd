"""The web report's view models (bot/services/web_report.py) on a real database: who sees
what, and that nothing a page shows gets round the publishing gate.

One published story per module (bot/sandbox/report_story.py: twelve imported weeks, a team
below the minimum, cells hidden for both reasons, comments, commitments, two posted digests),
read by every test and changed by none.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

import pytest

from bot.analytics.suppression import HiddenReason
from bot.clock import ManualClock
from bot.runtime import build_deps
from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.report_story import (
    EARLIER_DIGEST,
    LATEST,
    NOW,
    PROTECTING_DIMENSION,
    SMALL_TEAM,
    TINY_TEAM,
    TOO_FEW_DIMENSION,
    ReportStory,
    build_report_story,
)
from bot.services import web_report
from bot.services.config import save_changes
from bot.services.context import Deps
from bot.services.digest import build_digest
from bot.services.web_report import (
    PageNotAllowed,
    PageNotFound,
    ReportAccess,
    Scope,
)
from bot.slack.gateway import make_gateway
from tests.e2e.conftest import ADMIN, SECRET, TOKEN, install_org, make_settings

LEADER = "UALPHA0"
LEAD = "ULEADSUP"
LEAD_TEAMS = frozenset({"support", TINY_TEAM})
TEAM_LEADS = "support=ULEADSUP,tiny=ULEADSUP"


@pytest.fixture(scope="module")
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """One database for the module's story (the suite's own fixture is per test)."""
    if request.config.getoption("--database") == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('web-report') / 'cx.db'}"
        return
    server = request.getfixturevalue("postgres_server")
    url = server.create_database()
    yield url
    server.drop_database(url)


@pytest.fixture(scope="module")
def story_emulator() -> Iterator[SlackEmulator]:
    with SlackEmulator(bot_token=TOKEN, signing_secret=SECRET) as emulator:
        install_org(emulator)
        yield emulator


@pytest.fixture(scope="module")
def story_deps(database_url: str, story_emulator: SlackEmulator) -> Iterator[Deps]:
    settings = make_settings(story_emulator, database_url, CX_TEAM_LEADS=TEAM_LEADS)
    deps = build_deps(settings, clock=ManualClock(NOW))
    yield deps
    deps.engine.dispose()


@pytest.fixture(scope="module")
def story(story_deps: Deps) -> ReportStory:
    return build_report_story(story_deps, make_gateway(story_deps.env), admin=ADMIN)


def leader() -> ReportAccess:
    return ReportAccess(Scope.EVERYTHING, frozenset(), LEADER)


def lead() -> ReportAccess:
    return ReportAccess(Scope.LEAD, LEAD_TEAMS, LEAD)


def employee(story: ReportStory) -> ReportAccess:
    return ReportAccess(Scope.OWN, frozenset(), story.employee)


def everyone(story: ReportStory) -> list[ReportAccess]:
    return [leader(), lead(), employee(story)]


def test_the_pages_show_the_latest_posted_digest(story_deps: Deps, story: ReportStory) -> None:
    assert web_report.posted_period(story_deps) == LATEST == story.latest
    report = build_digest(story_deps, period=LATEST)
    view = web_report.overview(story_deps, story_deps.prompts, leader())
    assert view.period == LATEST
    # Exactly the digest's findings, in its order: nothing recomputed, nothing added.
    assert [(f.dimension, f.team) for f in view.findings] == [
        (h.dimension, h.team) for h in report.headlines
    ]
    assert {f.kind for f in view.findings} >= {"change", "say_do", "silo"}
    assert [t.dimension for t in view.trends] == [d.id for d in story_deps.prompts.bank.dimensions]


def test_a_trend_is_the_published_series_with_its_band_and_marked_change(
    story_deps: Deps, story: ReportStory
) -> None:
    report = build_digest(story_deps, period=LATEST)
    page = web_report.team_page(story_deps, story_deps.prompts, leader(), "support")
    [trend] = [t for t in page.trends if t.dimension == "empowerment"]
    assert trend.weeks[-1].period == LATEST
    assert len(trend.weeks) == 12  # every published week (fewer than the chart's 16)
    published = {p.period: p.teams["support"]["empowerment"] for p in report.history}
    for week in trend.weeks:
        cell = published.get(week.period)
        assert week.share == (cell.dist.favourable_share if cell else None)
        assert week.people == (cell.people if cell else None)
    # The digest's finding (a fall over the last 4 weeks) is marked where it is measured from.
    assert trend.direction == "down"
    [marked] = trend.marked
    assert marked.marked == "down"
    assert marked.period == "2026-W44"
    assert all(w.band is not None for w in trend.weeks[2:])
    assert all(w.band.low <= w.band.centre <= w.band.high for w in trend.weeks if w.band)


def test_each_role_sees_its_own_findings(story_deps: Deps, story: ReportStory) -> None:
    prompts = story_deps.prompts
    every = web_report.overview(story_deps, prompts, leader()).findings
    assert any(f.team == "support" for f in every)
    led = web_report.overview(story_deps, prompts, lead())
    own = web_report.overview(story_deps, prompts, employee(story))

    def keys(findings: list[web_report.Finding]) -> list[tuple[str, str, str | None]]:
        return [(f.kind, f.dimension, f.team) for f in findings]

    # A lead: the organisation's findings and their own team's; no silo (it names others).
    assert keys([f for f in every if f.kind != "silo" and f.team in (None, "support")]) == keys(
        led.findings
    )
    assert not led.trends
    assert led.participation is None
    assert led.focus is None
    assert led.own_teams == sorted(LEAD_TEAMS)
    # Anyone else: the organisation-level findings only.
    assert keys(own.findings) == keys([f for f in every if f.team is None and f.kind != "silo"])
    assert own.findings
    # Who leads a commitment is for the leadership digest's readers.
    follow_ups = [f for f in every if f.kind.startswith("follow_up")]
    assert follow_ups
    assert all(f.owner is not web_report.Owner.UNSAID for f in follow_ups)
    for view in (led, own):
        found = [f for f in view.findings if f.kind.startswith("follow_up")]
        assert found
        assert {f.owner for f in found} == {web_report.Owner.UNSAID}
    assert not own.trends
    assert own.hidden_findings


def test_only_leaders_see_the_heatmap_comments_and_actions(
    story_deps: Deps, story: ReportStory
) -> None:
    prompts = story_deps.prompts
    for access in (lead(), employee(story)):
        with pytest.raises(PageNotAllowed):
            web_report.heatmap(story_deps, prompts, access)
        with pytest.raises(PageNotAllowed):
            web_report.comments(story_deps, access, period=None, dimension=None, page=0)
        with pytest.raises(PageNotAllowed):
            web_report.actions(story_deps, access)


def test_team_pages_cannot_be_probed(story_deps: Deps, story: ReportStory) -> None:
    """A lead and an employee get the same PageNotFound for a team that is not theirs as for
    one that does not exist; a leader gets it only for a team the published weeks never had."""
    prompts = story_deps.prompts
    for access, teams in (
        (lead(), ["sales", SMALL_TEAM, "no-such-team"]),
        (employee(story), ["support", TINY_TEAM, "no-such-team"]),
    ):
        for team in teams:
            with pytest.raises(PageNotFound):
                web_report.team_page(story_deps, prompts, access, team)
    with pytest.raises(PageNotFound):
        web_report.team_page(story_deps, prompts, leader(), "no-such-team")
    hidden = web_report.team_page(story_deps, prompts, leader(), TINY_TEAM)
    assert not hidden.shown


def _values(value: Any) -> list[Any]:
    """Every number anywhere in a view, for checking none slipped through."""
    if isinstance(value, dict):
        return [v for item in value.values() for v in _values(item)]
    if isinstance(value, list | tuple):
        return [v for item in value for v in _values(item)]
    return [value] if isinstance(value, int | float) and not isinstance(value, bool) else []


def test_a_team_below_the_minimum_never_shows_a_value_to_anyone(
    story_deps: Deps, story: ReportStory
) -> None:
    prompts = story_deps.prompts
    heatmap = web_report.heatmap(story_deps, prompts, leader())
    assert TINY_TEAM not in {row.team for row in heatmap.teams}
    assert heatmap.hidden_teams >= 1
    for access in everyone(story):
        view = web_report.overview(story_deps, prompts, access)
        assert all(TINY_TEAM not in (f.team, f.highest, f.lowest) for f in view.findings)
        if access.may_see_team(TINY_TEAM):
            page = web_report.team_page(story_deps, prompts, access, TINY_TEAM)
            assert not page.shown
            assert page.hidden_reason is HiddenReason.TOO_FEW
            assert page.people is None
            assert page.trends == []
            assert page.findings == []
            cells = [row.team for row in page.rows]
            assert {c.state for c in cells} <= {"hidden", "none"}
            assert _values([asdict(c) for c in cells]) == []
            assert {c.reason for c in cells if c.state == "hidden"} == {HiddenReason.TOO_FEW}


def test_hidden_cells_say_why(story_deps: Deps, story: ReportStory) -> None:
    heatmap = web_report.heatmap(story_deps, story_deps.prompts, leader())
    ops = next(row for row in heatmap.teams if row.team == SMALL_TEAM)
    by_dimension = {d.id: c for d, c in zip(heatmap.dimensions, ops.cells, strict=True)}
    too_few, protecting = by_dimension[TOO_FEW_DIMENSION], by_dimension[PROTECTING_DIMENSION]
    assert (too_few.state, too_few.reason) == ("hidden", HiddenReason.TOO_FEW)
    assert (protecting.state, protecting.reason) == ("hidden", HiddenReason.PROTECTS_SMALLER)
    for cell in (too_few, protecting):
        assert (cell.share, cell.low, cell.high, cell.people) == (None, None, None, None)
    # Everything else of ops is shown, with its likely range around it.
    shown = [
        c for d, c in by_dimension.items() if d not in (TOO_FEW_DIMENSION, PROTECTING_DIMENSION)
    ]
    assert {c.state for c in shown} == {"shown"}
    assert all(c.low is not None and c.low <= (c.share or 0) <= (c.high or 1) for c in shown)
    assert all((c.people or 0) >= heatmap.min_group_size for c in shown)
    assert heatmap.hidden_cells == 2


def raise_to(deps: Deps, minimum: int) -> None:
    """An admin's App Home change of CX_MIN_GROUP_SIZE."""
    save_changes(
        deps.workspace, deps.engine, changes={"min_group_size": minimum}, admin=ADMIN, now=NOW
    )


def test_a_raised_minimum_hides_more_and_shows_nothing_new(
    story_deps: Deps, story: ReportStory
) -> None:
    """The view follows the gate in force: under a minimum raised to 7, ops (six people) is
    gone from every page, though its week was published under 5."""
    prompts = story_deps.prompts
    before = web_report.heatmap(story_deps, prompts, leader())
    raise_to(story_deps, 7)
    try:
        after = web_report.heatmap(story_deps, prompts, leader())
        assert SMALL_TEAM in {r.team for r in before.teams}
        assert SMALL_TEAM not in {r.team for r in after.teams}
        assert after.min_group_size == 7
        shown = [c for row in after.teams for c in row.cells if c.state == "shown"]
        assert all((c.people or 0) >= 7 for c in shown)
    finally:
        raise_to(story_deps, 5)


def test_comments_by_week_and_dimension(story_deps: Deps, story: ReportStory) -> None:
    view = web_report.comments(story_deps, leader(), period=None, dimension=None, page=0)
    assert view.period == LATEST
    assert view.weeks[0] == LATEST
    assert EARLIER_DIGEST in view.weeks
    assert view.page is not None
    assert view.page.total > 0
    earlier = web_report.comments(
        story_deps, leader(), period=EARLIER_DIGEST, dimension=None, page=0
    )
    assert earlier.period == EARLIER_DIGEST
    with pytest.raises(PageNotFound):
        web_report.comments(story_deps, leader(), period="2026-W48", dimension=None, page=0)


def test_actions_with_owners_due_dates_and_follow_ups(story_deps: Deps, story: ReportStory) -> None:
    view = web_report.actions(story_deps, ReportAccess(Scope.EVERYTHING, frozenset(), ADMIN))
    assert view.period == LATEST
    [due] = view.due
    assert (due.dimension, due.owner, due.measured_in) == ("empowerment", "you", LATEST)
    assert due.now is not None
    assert due.before is not None
    [running] = view.running
    assert (running.dimension, running.owner, running.measured_in) == (
        "collaboration",
        "nobody",
        "",
    )
    [done] = view.done
    assert (done.dimension, done.measured_in) == ("root_cause", EARLIER_DIGEST)
    assert done.owner == "someone"  # another leader: named in Slack, never by ID here
    assert done.now is not None


def test_own_answers_are_the_viewers_alone(story_deps: Deps, story: ReportStory) -> None:
    prompts = story_deps.prompts
    mine = web_report.own_answers(story_deps, prompts, employee(story))
    assert mine
    assert mine[0].period == LATEST
    labels = {p.label for p in prompts.bank.choices}
    assert all(a.label in labels for week in mine for a in week.answers)
    assert web_report.own_answers(story_deps, prompts, lead()) == []  # no answers of their own


def test_comments_by_theme(story_deps: Deps, story: ReportStory) -> None:
    """The theme filter (what a comment's words speak to, tagged when its week was
    published) narrows the page to that theme's comments, counted as the filter says."""
    every = web_report.comments(story_deps, leader(), period=None, dimension=None, page=0)
    assert every.page is not None
    assert every.page.themes, "the story's comments carry no theme"
    theme = every.page.themes[0]
    one = web_report.comments(
        story_deps, leader(), period=None, dimension=None, page=0, theme=theme.dimension
    )
    assert one.page is not None
    assert one.page.theme == theme.dimension
    assert one.page.total == theme.comments
    assert all(theme.dimension in (c.themes or "").split(",") for c in one.page.comments)
