"""The contract between the web router (bot/web/app.py) and the page handlers (bot/web/pages.py).

The router signs people in, checks CSRF, sets security headers and finds the route; a handler
gets a `PageRequest` for a signed-in viewer and returns a `PageResponse`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from bot.services.context import Deps
from bot.web.viewer import Viewer


@dataclass(frozen=True)
class PageRequest:
    deps: Deps  # the viewer's own workspace's dependencies
    viewer: Viewer
    method: str
    path: str
    query: Mapping[str, str]  # the first value of each query parameter
    path_params: Mapping[str, str]  # from the route's {placeholders}, already URL-decoded
    form: Mapping[str, str] = field(default_factory=dict)  # POST bodies, CSRF already checked


@dataclass(frozen=True)
class PageResponse:
    body: bytes
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()


PageHandler = Callable[[PageRequest], PageResponse]


@dataclass(frozen=True)
class Route:
    """GET or POST `pattern`, such as "/report/teams/{team}", answered by `handler`."""

    method: str
    pattern: str
    handler: PageHandler
