"""Comment themes (issue 14): each published comment tagged with the dimensions its text
speaks to, once, when its week is published; a week's themes read back from those tags.

The tags come from the text alone (bot.analytics.themes), which leaders read anyway; never
from the statement a comment was left on, which is disclosed only under the comment rule's
all-or-none condition (`published_comment.dimension`, bot.services.publication). So a theme
filter or count tells nobody more about who wrote a comment than the comment itself does.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from bot.analytics.themes import ThemeTagger, WeekThemes, decode_tags, encode_tags, week_themes
from bot.db.models import PublishedComment
from bot.lexicons import theme_tagger
from bot.services.context import Deps


def tagger(deps: Deps) -> ThemeTagger:
    """The process's tagger (lexicons loaded once per prompts directory and bank)."""
    order = tuple(d.id for d in deps.prompts.bank.dimensions)
    return theme_tagger(deps.env.prompts_dir, order)


def tag_published_comments(deps: Deps, session: Session, *, period: str) -> int:
    """Tag the week's published comments not tagged yet, in the publishing transaction (so a
    posted digest never changes); returns how many were tagged."""
    found = tagger(deps)
    rows = session.exec(
        select(PublishedComment).where(
            PublishedComment.period == period, col(PublishedComment.themes).is_(None)
        )
    ).all()
    for row in rows:
        row.themes = encode_tags(found.tag(row.text))
        session.add(row)
    session.flush()
    return len(rows)


def themes_of(deps: Deps, tags: Sequence[str | None]) -> WeekThemes | None:
    """A week's themes from its shown comments' stored tags; None when they were published
    before comments were tagged (so an old week's digest shows what it always did)."""
    if not tags or any(t is None for t in tags):
        return None
    order = [d.id for d in deps.prompts.bank.dimensions]
    return week_themes([decode_tags(t) for t in tags], order)
