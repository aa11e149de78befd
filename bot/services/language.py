"""Which language a person reads: their Slack locale's, when prompts/ has it.

Channel posts (the leadership digest, team channels) stay in the organisation's language,
`deps.prompts`; anything addressed to one person goes through here.
"""

from __future__ import annotations

from bot.db import repositories as repo
from bot.db.engine import session_scope
from bot.prompts import Prompts, language_of
from bot.services.context import Deps


def prompts_for_locale(deps: Deps, locale: str | None) -> Prompts:
    """The prompts for a Slack locale ("fr-FR"); the organisation's language when the locale
    is unknown or prompts/ has no translation for it."""
    if not locale:
        return deps.prompts
    found = deps.prompts.for_locale(locale)
    return found if found.language == language_of(locale) else deps.prompts


def prompts_for_member(deps: Deps, *, slack_user_id: str) -> Prompts:
    """The prompts for a person, by the locale stored for them in `member`."""
    with session_scope(deps.engine) as session:
        locale = repo.member_locale(session=session, slack_user_id=slack_user_id)
    return prompts_for_locale(deps, locale)
