"""The web report's templates: one Jinja2 environment, autoescaping on, undefined names an error.

Every page (the sign-in pages too) extends templates/base.html. Pass `copy` (a
`bot.prompts.Copy`: the viewer's language, or `deps.prompts.copy` before sign-in), and when
someone is signed in `viewer` (a `bot.web.viewer.Viewer`) and `csrf_token`; base.html then shows
the navigation the viewer may use and the sign-out form. Templates compute no figures: they get
them ready to show from bot/services/web_report.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from bot.prompts import Copy
from bot.web.svg import trend_geometry
from bot.web.viewer import Viewer

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
STATIC_PREFIX = "/report/static/"


@dataclass(frozen=True)
class NavLink:
    href: str
    label: str
    current: bool


def nav_links(viewer: Viewer | None, copy: Copy, current_path: str = "") -> list[NavLink]:
    """The pages `viewer` may open, in the order the navigation shows them."""
    if viewer is None:
        return []
    links: list[tuple[str, str]] = [("/report", copy.t("web.nav.overview"))]
    if viewer.sees_every_team:
        links.append(("/report/heatmap", copy.t("web.nav.heatmap")))
    else:
        links.extend(
            (team_path(team), copy.t("web.nav.team", team=team)) for team in sorted(viewer.lead_of)
        )
    if viewer.sees_every_team:
        links.append(("/report/comments", copy.t("web.nav.comments")))
        links.append(("/report/actions", copy.t("web.nav.actions")))
    links.append(("/report/me", copy.t("web.nav.mine")))
    return [NavLink(href, label, href == current_path) for href, label in links]


def team_path(team: str) -> str:
    """A team's page; team names are fine in a URL (user IDs and pseudonyms never are)."""
    return f"/report/teams/{quote(team, safe='')}"


def pct(share: float | None) -> str:
    """A share (0-1) as people read it: "63%"; a dash when there is none."""
    return "\u2013" if share is None else f"{round(share * 100)}%"


def points(share: float | None) -> str:
    """A share as a bare number of percent ("63"), for ranges such as "55-71%"."""
    return "\u2013" if share is None else str(round(share * 100))


HEAT_STEPS = 20  # report.css colours the heatmap in steps of 5% (classes h0 to h20)


def heat_class(share: float | None) -> str:
    """The heatmap cell's colour class: cividis at the nearest 5% (report.css)."""
    if share is None:
        return ""
    return f"h{max(0, min(HEAT_STEPS, round(share * HEAT_STEPS)))}"


def svg_number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


@cache
def environment() -> Environment:
    """Built once per process on first use (not at import), then shared: it holds no state."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["static"] = lambda name: f"{STATIC_PREFIX}{name}"
    env.globals["team_path"] = team_path
    env.globals["trend_geometry"] = trend_geometry
    env.filters["pct"] = pct
    env.filters["points"] = points
    env.filters["heat_class"] = heat_class
    env.filters["svgnum"] = svg_number
    return env


def render(name: str, **context: Any) -> bytes:
    """The template `name` (for example "overview.html") filled with `context`, as UTF-8.

    `copy` is required; `viewer`, `csrf_token` and `current_path` are optional.
    """
    copy = context.get("copy")
    if not isinstance(copy, Copy):
        raise TypeError("render() needs copy=<bot.prompts.Copy> (deps.prompts.copy)")
    viewer = context.setdefault("viewer", None)
    if viewer is not None and not context.get("csrf_token"):
        context["csrf_token"] = viewer.csrf_token
    context.setdefault("csrf_token", None)
    context.setdefault("current_path", "")
    context.setdefault("lang", copy.t("web.lang"))
    context["t"] = copy.t
    context["nav"] = nav_links(viewer, copy, context["current_path"])
    return environment().get_template(name).render(**context).encode("utf-8")
