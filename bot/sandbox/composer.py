"""What Slack's message composer does to what a person types, before an app sees it.

A slash command whose manifest entry says `should_escape: true` arrives escaped the way Slack
escapes it: `&`, `<` and `>` as `&amp;`, `&lt;` and `&gt;`; `@handle` of a member as
`<@U123|handle>` (Slack's client turns a name picked from its @ list, or typed exactly as a
handle, into a mention); `@here`, `@channel` and `@everyone` as `<!here>` and so on;
`#channel-name` of a known channel as `<#C123|channel-name>`; and links as `<https://...>`.
Without it the text arrives as typed. Pure functions over the emulator's users and channels.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

SPECIAL_MENTIONS = frozenset({"here", "channel", "everyone"})
# A word starting with @ or # (handles hold letters, digits, dots, dashes and underscores),
# or a link; punctuation after it stays outside the mention, as in Slack.
# A link ends at white space, a `|` or an escaped angle bracket.
TYPED_TOKEN = re.compile(
    r"(?<![\w@#&])([@#])([\w][\w.\-]*[\w]|[\w])|(https?://(?:(?!&gt;|&lt;)[^\s<>|])+)"
)


def escape_entities(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escaped_like_slack(
    text: str,
    users: Iterable[Mapping[str, Any]],
    channels: Mapping[str, Mapping[str, Any]],
    *,
    labels: bool = True,
) -> str:
    """`text` as Slack sends it with should_escape. `labels=False` sends user mentions as
    `<@U123>` alone, as Slack also does, so an app must cope with both."""
    handles = {
        str(u.get("name", "")).casefold(): str(u["id"])
        for u in users
        if u.get("name") and not u.get("deleted")
    }
    channel_ids = {str(c.get("name", "")).casefold(): cid for cid, c in channels.items()}

    def token(match: re.Match[str]) -> str:
        sigil, word, link = match.group(1), match.group(2), match.group(3)
        if link:
            return f"<{link}>"
        if sigil == "@" and word.casefold() in SPECIAL_MENTIONS:
            return f"<!{word.casefold()}>"
        if sigil == "@" and word.casefold() in handles:
            user_id = handles[word.casefold()]
            return f"<@{user_id}|{word}>" if labels else f"<@{user_id}>"
        if sigil == "#" and word.casefold() in channel_ids:
            return f"<#{channel_ids[word.casefold()]}|{word}>"
        return match.group(0)

    return TYPED_TOKEN.sub(token, escape_entities(text))
