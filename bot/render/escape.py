"""Escaping for any user-supplied text that reaches Slack."""

from __future__ import annotations

# How much of what someone typed is quoted back to them (an unknown command or dimension).
ECHO_LIMIT = 32


def clip(text: str, limit: int) -> str:
    """At most `limit` characters; a cut ends in an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def escape_text(text: str) -> str:
    """Slack's three control characters, so `<!channel>` or `<http://x|y>` stay literal text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def quote_block(text: str, *, limit: int = 500) -> str:
    """An escaped, length-capped mrkdwn quote; every line is prefixed so none escapes the quote."""
    return "\n".join(f">{line}" for line in escape_text(clip(text, limit)).splitlines() or [""])


def echo_text(text: str, *, limit: int = ECHO_LIMIT) -> str:
    """User text quoted back in a reply: clipped first (so no escape is ever cut in half),
    then escaped, so `<!channel>` or `<https://evil|click>` come back as literal text."""
    return escape_text(clip(text, limit))
