"""The web report's pages (issue 15): thin handlers that parse the request, ask
bot.services.web_report for what this viewer may see, and render a template.

The router (bot/web/app.py) signs people in, checks CSRF, adds the security headers and calls
these through `ROUTES`. A page a viewer may not see is a friendly refusal, never a stack
trace: 403 for a page their roles do not include, 404 for anything else, and, for anyone who
does not see every team, the same 404 for a team that is not theirs as for one that does not
exist, so nobody can probe which teams there are.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from bot.prompts import Copy, Prompts
from bot.services import web_report
from bot.services.comments import COMMENTS_PER_PAGE
from bot.services.language import prompts_for_member
from bot.services.web_report import (
    CellView,
    Heatmap,
    PageNotAllowed,
    PageNotFound,
    ReportAccess,
    Scope,
)
from bot.web.http import PageHandler, PageRequest, PageResponse, Route
from bot.web.templates import points, render
from bot.web.viewer import Role, Viewer

MAX_TEAM_NAME = 120  # as stored (member.team)
_PERIOD = re.compile(r"^\d{4}-W\d{2}$")
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = (
    "period",
    "reading_period",
    "group",
    "dimension_id",
    "dimension",
    "favourable_percent",
    "likely_low_percent",
    "likely_high_percent",
    "respondents",
    "real_change",
    "hidden_reason",
)


def report_access(viewer: Viewer) -> ReportAccess:
    """What the viewer's roles let them see, for the services (never their ID in a page)."""
    if viewer.sees_every_team:
        scope = Scope.EVERYTHING
    elif viewer.role is Role.TEAM_LEAD or viewer.lead_of:
        scope = Scope.LEAD
    else:
        scope = Scope.OWN
    return ReportAccess(scope, viewer.lead_of, viewer.user_id)


def _prompts(request: PageRequest) -> Prompts:
    """The viewer's language when prompts/ has it (their Slack locale), else the org's."""
    return prompts_for_member(request.deps, slack_user_id=request.viewer.user_id)


def _html(
    request: PageRequest, prompts: Prompts, template: str, *, status: int = 200, **context: Any
) -> PageResponse:
    body = render(
        template,
        copy=prompts.copy,
        viewer=request.viewer,
        current_path=request.path,
        dimension_name=prompts.dimension_name,
        **context,
    )
    return PageResponse(body, status=status)


def refusal_page(request: PageRequest, prompts: Prompts, error: Exception) -> PageResponse:
    """A friendly page for what the viewer may not see: 403 or 404, with a way back."""
    copy = prompts.copy
    if isinstance(error, PageNotAllowed):
        return _html(
            request,
            prompts,
            "error.html",
            status=403,
            heading=copy.t("web.errors.forbidden_title"),
            message=copy.t("web.errors.forbidden", page=copy.t(f"web.errors.page_{error.page}")),
        )
    return not_found_page(request, prompts)


def not_found_page(request: PageRequest, prompts: Prompts) -> PageResponse:
    copy = prompts.copy
    return _html(
        request,
        prompts,
        "error.html",
        status=404,
        heading=copy.t("web.errors.not_found_title"),
        message=copy.t("web.errors.not_found"),
    )


def _refusing(
    handler: Callable[[PageRequest, Prompts], PageResponse],
) -> PageHandler:
    """The handler, with the viewer's prompts, and its refusals as friendly pages."""

    @wraps(handler)
    def handle(request: PageRequest) -> PageResponse:
        prompts = _prompts(request)
        try:
            return handler(request, prompts)
        except (PageNotAllowed, PageNotFound) as error:
            return refusal_page(request, prompts, error)

    return handle


@_refusing
def handle_overview_page(request: PageRequest, prompts: Prompts) -> PageResponse:
    view = web_report.overview(request.deps, prompts, report_access(request.viewer))
    return _html(request, prompts, "overview.html", view=view)


@_refusing
def handle_heatmap_page(request: PageRequest, prompts: Prompts) -> PageResponse:
    view = web_report.heatmap(request.deps, prompts, report_access(request.viewer))
    return _html(request, prompts, "heatmap.html", view=view)


def _csv_text(value: str) -> str:
    """A text cell a spreadsheet shows as text: a leading apostrophe before =, +, -, @."""
    return f"'{value}" if value.startswith(_FORMULA_START) else value


def heatmap_csv(view: Heatmap, copy: Copy) -> str:
    """Exactly the heatmap's cells as shown to this viewer: its rounded values and ranges,
    hidden cells as the word hidden with the reason, dimensions not asked as such."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    if view.organisation is None or view.period is None:
        return out.getvalue()
    rows = [(copy.t("web.csv.organisation"), view.organisation), *((r.team, r) for r in view.teams)]
    for group, row in rows:
        for dimension, cell in zip(view.dimensions, row.cells, strict=True):
            writer.writerow(
                [
                    view.period,
                    cell.period,
                    _csv_text(group or ""),
                    dimension.id,
                    _csv_text(dimension.name),
                    *_csv_values(cell, view.min_group_size, copy),
                ]
            )
    return out.getvalue()


def _csv_values(cell: CellView, min_group: int, copy: Copy) -> list[str]:
    if cell.state == "shown":
        return [
            points(cell.share),
            points(cell.low),
            points(cell.high),
            str(cell.people),
            "" if cell.direction == "none" else cell.direction,
            "",
        ]
    if cell.state == "hidden" and cell.reason is not None:
        reason = copy.t(f"web.hidden.{cell.reason.value}_long", min_group=min_group)
        return [copy.t("web.csv.hidden"), "", "", "", "", _csv_text(reason)]
    return [copy.t("web.csv.not_asked"), "", "", "", "", ""]


@_refusing
def handle_heatmap_csv(request: PageRequest, prompts: Prompts) -> PageResponse:
    view = web_report.heatmap(request.deps, prompts, report_access(request.viewer))
    name = f"cx-pulse-teams-{view.period or 'none'}.csv"
    return PageResponse(
        heatmap_csv(view, prompts.copy).encode("utf-8"),
        content_type="text/csv; charset=utf-8",
        headers=(("Content-Disposition", f'attachment; filename="{name}"'),),
    )


@_refusing
def handle_team_page(request: PageRequest, prompts: Prompts) -> PageResponse:
    team = request.path_params.get("team", "")
    if not team or len(team) > MAX_TEAM_NAME:
        raise PageNotFound()
    view = web_report.team_page(request.deps, prompts, report_access(request.viewer), team)
    return _html(request, prompts, "team.html", view=view)


def _page_number(raw: str | None) -> int:
    """The 1-based ?page= as a 0-based index; anything unreadable is the first page."""
    if raw is None or not raw.isdigit() or len(raw) > 6:
        return 0
    return max(0, int(raw) - 1)


@_refusing
def handle_comments_page(request: PageRequest, prompts: Prompts) -> PageResponse:
    week = request.query.get("week") or None
    if week is not None and not _PERIOD.match(week):
        raise PageNotFound()
    view = web_report.comments(
        request.deps,
        report_access(request.viewer),
        period=week,
        dimension=request.query.get("dimension") or None,
        page=_page_number(request.query.get("page")),
        theme=request.query.get("theme") or None,
    )

    def page_link(index: int) -> str:
        params = {"week": view.period or ""}
        if view.page is not None and view.page.dimension:
            params["dimension"] = view.page.dimension
        if view.page is not None and view.page.theme:
            params["theme"] = view.page.theme
        params["page"] = str(index + 1)
        return f"/report/comments?{urlencode(params)}"

    return _html(
        request,
        prompts,
        "comments.html",
        view=view,
        page_link=page_link,
        per_page=COMMENTS_PER_PAGE,
    )


@_refusing
def handle_actions_page(request: PageRequest, prompts: Prompts) -> PageResponse:
    view = web_report.actions(request.deps, report_access(request.viewer))
    return _html(request, prompts, "actions.html", view=view)


@_refusing
def handle_own_answers_page(request: PageRequest, prompts: Prompts) -> PageResponse:
    weeks = web_report.own_answers(request.deps, prompts, report_access(request.viewer))
    return _html(
        request,
        prompts,
        "mine.html",
        weeks=weeks,
        min_group=request.deps.settings.min_group_size,
    )


ROUTES: list[Route] = [
    Route("GET", "/report", handle_overview_page),
    Route("GET", "/report/heatmap", handle_heatmap_page),
    Route("GET", "/report/heatmap.csv", handle_heatmap_csv),
    Route("GET", "/report/teams/{team}", handle_team_page),
    Route("GET", "/report/comments", handle_comments_page),
    Route("GET", "/report/actions", handle_actions_page),
    Route("GET", "/report/me", handle_own_answers_page),
]
