"""Escaping for any user-supplied text that reaches Slack."""

from __future__ import annotations


def escape_text(text: str) -> str:
    """Slack's three control characters, so `<!channel>` or `<http://x|y>` stay literal text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def quote_block(text: str, *, limit: int = 500) -> str:
    """An escaped, length-capped mrkdwn quote; every line is prefixed so none escapes the quote."""
    clipped = text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
    return "\n".join(f">{line}" for line in escape_text(clipped).splitlines() or [""])
