"""Reading a published week's comments: all of them, page by page, for leaders."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlmodel import Session

from bot.analytics.anonymity import may_show
from bot.analytics.themes import Theme, decode_tags
from bot.db import published as store
from bot.db import relay
from bot.db.engine import session_scope
from bot.db.models import PublishedWeek
from bot.errors import NotYetPublished
from bot.services.context import Deps
from bot.services.themes import themes_of

COMMENTS_PER_PAGE = 10


def visible_comments(deps: Deps, session: Session, period: str) -> list[store.WeekComment]:
    """A published week's comments if the comment rule is met under today's settings (which
    may be stricter than when it was published), in their fixed order; else none."""
    week = session.get(PublishedWeek, period)
    if week is None:
        return []
    if not may_show(week.respondents or 0, deps.settings.comment_minimum):
        return []
    found = store.week_comments(session=session, period=period)
    # Which may be replied to (opted in, the link still there): they get a Reply button.
    open_ids = relay.replyable(
        session.connection(), comment_ids=[c.id for c in found], now=deps.clock.now()
    )
    return [replace(c, replyable=True) if c.id in open_ids else c for c in found]


@dataclass(frozen=True, slots=True)
class CommentsPage:
    period: str
    dimension: str | None  # the filter; None for every dimension
    page: int  # from 0
    pages: int
    total: int  # comments matching the filter
    comments: list[store.WeekComment]
    dimensions: list[str]  # the dimensions that can be filtered on, in the bank's order
    theme: str | None = None  # the theme filter (a dimension id); None for every theme
    # The week's themes with how many of its comments each has, most first: the theme filter's
    # options (from each comment's words alone, bot.services.themes).
    themes: tuple[Theme, ...] = ()


def comments_page(
    deps: Deps, *, period: str, dimension: str | None, page: int, theme: str | None = None
) -> CommentsPage:
    """One page of a week's comments, optionally of one dimension (only comments whose
    dimension alone met the comment rule carry one: see bot.services.publication) and of one
    theme (what their words speak to: bot.services.themes)."""
    with session_scope(deps.engine) as session:
        if session.get(PublishedWeek, period) is None:
            raise NotYetPublished(period=period[:16])
        everything = visible_comments(deps, session, period)
    order = [d.id for d in deps.prompts.bank.dimensions]
    present = {c.dimension for c in everything if c.dimension}
    dimensions = [d for d in order if d in present]
    chosen = dimension if dimension in present else None
    found = themes_of(deps, [c.themes for c in everything])
    themes = found.themes if found is not None else ()
    theme = theme if theme in {t.dimension for t in themes} else None
    matching = [
        c
        for c in everything
        if (chosen is None or c.dimension == chosen)
        and (theme is None or theme in decode_tags(c.themes))
    ]
    pages = max(1, -(-len(matching) // COMMENTS_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    start = page * COMMENTS_PER_PAGE
    return CommentsPage(
        period=period,
        dimension=chosen,
        page=page,
        pages=pages,
        total=len(matching),
        comments=matching[start : start + COMMENTS_PER_PAGE],
        dimensions=dimensions,
        theme=theme,
        themes=themes,
    )
