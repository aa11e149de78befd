"""The page handlers (bot/web/pages.py) called as the router calls them, with a PageRequest
for a signed-in viewer, on the published story of tests/services/test_web_report.py: what each
role gets, the refusals, the CSV, escaping, the viewer's language and the pages' weight."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import UTC, datetime

import pytest

from bot.analytics.themes import Theme
from bot.db.engine import session_scope
from bot.db.models import Member
from bot.db.published import WeekComment
from bot.sandbox.report_story import (
    EARLIER_DIGEST,
    LATEST,
    MARKUP_COMMENT,
    SMALL_TEAM,
    TINY_TEAM,
    ReportStory,
    story_people,
)
from bot.services.comments import CommentsPage
from bot.services.context import Deps
from bot.services.web_report import CellView, CommentsView, Dimension, Heatmap, HeatRow
from bot.web import pages
from bot.web.http import PageRequest, PageResponse
from bot.web.templates import render
from bot.web.viewer import Role, Viewer
from tests.e2e.conftest import ADMIN
from tests.services.test_web_report import (  # the module's published story
    LEAD,
    LEADER,
    database_url,
    story,
    story_deps,
    story_emulator,
)

__all__ = ["database_url", "story", "story_deps", "story_emulator"]

MAX_PAGE_BYTES = 100_000
FRENCH = "UFRENCH1"


def leader() -> Viewer:
    return Viewer("T1", LEADER, "Alex <b>Leader</b>", Role.LEADER, frozenset(), "csrf-leader")


def lead() -> Viewer:
    teams = frozenset({"support", TINY_TEAM})
    return Viewer("T1", LEAD, "Lee", Role.TEAM_LEAD, teams, "csrf-lead")


def employee(story: ReportStory) -> Viewer:
    return Viewer("T1", story.employee, "Emma", Role.EMPLOYEE, frozenset(), "csrf-employee")


def get(
    deps: Deps, viewer: Viewer, path: str, query: Mapping[str, str] | None = None
) -> PageResponse:
    """What the router does once the viewer is signed in: find the route, call its handler."""
    for route in pages.ROUTES:
        prefix, _, name = route.pattern.partition("{")
        params = {}
        if name:
            if not path.startswith(prefix):
                continue
            params = {name.rstrip("}"): path[len(prefix) :]}
        elif path != route.pattern:
            continue
        assert route.method == "GET"
        return route.handler(PageRequest(deps, viewer, "GET", path, dict(query or {}), params))
    raise AssertionError(f"no route for {path}")


EVERY_PAGE = (
    "/report",
    "/report/heatmap",
    "/report/heatmap.csv",
    "/report/teams/support",
    f"/report/teams/{SMALL_TEAM}",
    f"/report/teams/{TINY_TEAM}",
    "/report/teams/sales",
    "/report/teams/no-such-team",
    "/report/comments",
    "/report/actions",
    "/report/me",
)


def statuses(deps: Deps, viewer: Viewer) -> dict[str, int]:
    return {path: get(deps, viewer, path).status for path in EVERY_PAGE}


def test_what_each_role_may_open(story_deps: Deps, story: ReportStory) -> None:
    leader_statuses = statuses(story_deps, leader())
    assert leader_statuses.pop("/report/teams/no-such-team") == 404
    assert set(leader_statuses.values()) == {200}
    assert statuses(story_deps, lead()) == {
        "/report": 200,
        "/report/heatmap": 403,
        "/report/heatmap.csv": 403,
        "/report/teams/support": 200,
        f"/report/teams/{SMALL_TEAM}": 404,
        f"/report/teams/{TINY_TEAM}": 200,
        "/report/teams/sales": 404,
        "/report/teams/no-such-team": 404,
        "/report/comments": 403,
        "/report/actions": 403,
        "/report/me": 200,
    }
    assert statuses(story_deps, employee(story)) == {
        "/report": 200,
        "/report/heatmap": 403,
        "/report/heatmap.csv": 403,
        "/report/teams/support": 404,
        f"/report/teams/{SMALL_TEAM}": 404,
        f"/report/teams/{TINY_TEAM}": 404,
        "/report/teams/sales": 404,
        "/report/teams/no-such-team": 404,
        "/report/comments": 403,
        "/report/actions": 403,
        "/report/me": 200,
    }


def test_a_team_not_yours_looks_exactly_like_one_that_does_not_exist(
    story_deps: Deps, story: ReportStory
) -> None:
    for viewer, teams in (
        (lead(), ["sales", SMALL_TEAM]),
        (employee(story), ["support", TINY_TEAM, "sales"]),
    ):
        missing = get(story_deps, viewer, "/report/teams/no-such-team")
        assert b"Nothing here" in missing.body
        assert b"Traceback" not in missing.body
        for team in teams:
            found = get(story_deps, viewer, f"/report/teams/{team}")
            assert (found.status, found.body) == (missing.status, missing.body)
    refused = get(story_deps, employee(story), "/report/heatmap")
    assert b"The teams page is for leaders and cx-pulse admins." in refused.body


def test_no_page_shows_a_user_id_or_a_pseudonym(story_deps: Deps, story: ReportStory) -> None:
    people = {*story_people(), LEADER, LEAD, ADMIN}
    secrets = people | {story_deps.respondent(p) for p in people}
    for viewer in (leader(), lead(), employee(story)):
        for path in EVERY_PAGE:
            body = get(story_deps, viewer, path).body.decode()
            leaked = sorted(s for s in secrets if s in body)
            assert not leaked, (viewer.role, path, leaked)


def test_every_page_is_light(story_deps: Deps, story: ReportStory) -> None:
    for viewer in (leader(), lead(), employee(story)):
        for path in EVERY_PAGE:
            size = len(get(story_deps, viewer, path).body)
            assert size < MAX_PAGE_BYTES, (viewer.role, path, size)


def test_text_is_escaped_by_the_template_engine(story_deps: Deps, story: ReportStory) -> None:
    comments = get(story_deps, leader(), "/report/comments").body.decode()
    assert "&lt;script&gt;alert(&#39;cx&#39;)&lt;/script&gt; &amp; &lt;b&gt;not bold" in comments
    assert MARKUP_COMMENT not in comments
    assert "Alex &lt;b&gt;Leader&lt;/b&gt;" in comments  # the viewer's name, too
    view = Heatmap(
        LATEST,
        5,
        [Dimension("empowerment", "Empowerment", "Empwr")],
        HeatRow(None, 40, [CellView("shown", 0.5, 0.4, 0.6, 40, "none", LATEST)]),
        [HeatRow("<img src=x onerror=alert(1)>", 9, [CellView("none")])],
        0,
    )
    body = render(
        "heatmap.html",
        copy=story_deps.prompts.copy,
        viewer=leader(),
        view=view,
        dimension_name=story_deps.prompts.dimension_name,
    ).decode()
    assert "<img" not in body
    assert "&lt;img src=x onerror=alert(1)&gt;" in body
    assert "/report/teams/%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E" in body


def test_the_csv_is_what_the_heatmap_shows(story_deps: Deps, story: ReportStory) -> None:
    response = get(story_deps, leader(), "/report/heatmap.csv")
    assert response.content_type == "text/csv; charset=utf-8"
    assert dict(response.headers)["Content-Disposition"] == (
        f'attachment; filename="cx-pulse-teams-{LATEST}.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(response.body.decode())))
    assert list(rows[0]) == list(pages.CSV_COLUMNS)
    groups = [r["group"] for r in rows]
    assert groups[0] == "Organisation"
    assert TINY_TEAM not in groups
    ops = {r["dimension_id"]: r for r in rows if r["group"] == SMALL_TEAM}
    assert ops["training"]["favourable_percent"] == "hidden"
    assert ops["training"]["hidden_reason"] == "fewer than 5 people in the team answered"
    assert ops["recognition"]["favourable_percent"] == "hidden"
    assert "worked out by subtraction" in ops["recognition"]["hidden_reason"]
    assert all(r["likely_low_percent"] == "" for r in ops.values() if r["hidden_reason"])
    page = get(story_deps, leader(), "/report/heatmap").body.decode()
    for row in rows:
        if row["favourable_percent"].isdigit():
            low, high = row["likely_low_percent"], row["likely_high_percent"]
            assert f"{row['favourable_percent']}%" in page
            assert f"{low}\u2013{high}%" in page
    assert all(int(r["respondents"]) >= 5 for r in rows if r["respondents"])


def test_the_csv_cannot_carry_a_formula(story_deps: Deps) -> None:
    shown = CellView("shown", 0.5, 0.4, 0.6, 9, "none", LATEST)
    view = Heatmap(
        LATEST,
        5,
        [Dimension("empowerment", "=Empowerment", "E")],
        HeatRow(None, 40, [shown]),
        [
            HeatRow(name, 9, [shown])
            for name in ("=cmd|' /C calc'!A0", "+1", "-1", "@SUM(A1)", "ok")
        ],
        0,
    )
    rows = list(csv.reader(io.StringIO(pages.heatmap_csv(view, story_deps.prompts.copy))))
    groups = [r[2] for r in rows[2:]]
    assert groups == ["'=cmd|' /C calc'!A0", "'+1", "'-1", "'@SUM(A1)", "ok"]
    assert {r[4] for r in rows[1:]} == {"'=Empowerment"}


def test_comment_filters_and_pages(story_deps: Deps, story: ReportStory) -> None:
    earlier = get(story_deps, leader(), "/report/comments", {"week": EARLIER_DIGEST}).body
    assert f"Comments, week {EARLIER_DIGEST}".encode() in earlier
    assert get(story_deps, leader(), "/report/comments", {"week": "2026-W48"}).status == 404
    assert get(story_deps, leader(), "/report/comments", {"week": "<x>"}).status == 404
    odd = get(story_deps, leader(), "/report/comments", {"page": "abc", "dimension": "nope"})
    assert odd.status == 200
    assert b'value="nope"' not in odd.body  # an unknown dimension filters nothing
    assert f"Comments, week {LATEST}".encode() in odd.body
    # Every week's select and filter has a label.
    assert b"<label>Week" in odd.body
    assert b"<label>Dimension" in odd.body


def test_a_page_in_the_viewers_language(story_deps: Deps, story: ReportStory) -> None:
    with session_scope(story_deps.engine) as session:
        if session.get(Member, 999_001) is None:
            session.add(
                Member(
                    id=999_001,
                    slack_user_id=FRENCH,
                    locale="fr-FR",
                    updated_at=datetime(2026, 11, 1, tzinfo=UTC),
                )
            )
    viewer = Viewer("T1", FRENCH, "Fanny", Role.EMPLOYEE, frozenset(), "csrf-fr")
    body = get(story_deps, viewer, "/report").body.decode()
    assert '<html lang="fr">' in body
    assert "Ce qui a changé" in body
    assert "Se déconnecter" in body
    refused = get(story_deps, viewer, "/report/heatmap").body.decode()
    assert "réservée aux dirigeants" in refused


def test_the_sign_out_form_carries_the_csrf_token(story_deps: Deps, story: ReportStory) -> None:
    body = get(story_deps, lead(), "/report").body.decode()
    assert '<form class="signout" method="post" action="/report/logout">' in body
    assert '<input type="hidden" name="csrf_token" value="csrf-lead">' in body
    assert 'href="/report/heatmap"' not in body  # the nav offers only what the lead may see
    assert 'href="/report/teams/support"' in body


@pytest.mark.parametrize("path", ["/report", "/report/heatmap", "/report/teams/support"])
def test_charts_have_text_equivalents(story_deps: Deps, story: ReportStory, path: str) -> None:
    body = get(story_deps, leader(), path).body.decode()
    if path == "/report/heatmap":
        assert "<caption" in body
        headers = body.count('<th scope="col" aria-sort="none"><button type="button"')
        assert headers == len(story_deps.prompts.bank.dimensions) + 1
        assert body.count('<span class="visually-hidden">Sort by </span>') == headers
        return
    assert body.count("<svg") == body.count('role="img"') == body.count("<desc") > 0
    assert body.count("<svg") == body.count('<table class="numbers">')


def test_a_comment_open_to_replies_says_how_to_reply(story_deps: Deps) -> None:
    page = CommentsPage(
        period=LATEST,
        dimension=None,
        page=0,
        pages=1,
        total=2,
        comments=[
            WeekComment("Please ask me about this.", "empowerment", id="c1", replyable=True),
            WeekComment("Not this one.", None, id="c2"),
        ],
        dimensions=["empowerment"],
        theme="training",
        themes=(Theme("training", 2),),
    )
    view = CommentsView(LATEST, [LATEST], 10, page)
    body = render(
        "comments.html",
        copy=story_deps.prompts.copy,
        viewer=leader(),
        view=view,
        page_link=lambda index: f"/report/comments?page={index + 1}",
        per_page=10,
        dimension_name=story_deps.prompts.dimension_name,
    ).decode()
    assert body.count("Its author asked for replies") == 1
    assert '<option value="training" selected>Training and knowledge (2)</option>' in body
    assert "<label>Theme" in body
    assert "c1" not in body  # a comment's id stays out of the page
