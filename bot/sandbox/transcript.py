"""Block Kit messages rendered as plain text, the way a reader sees them in Slack."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Mapping
from typing import Any

LINK = re.compile(r"<(https?://[^|>]+)\|([^>]+)>")
BARE_LINK = re.compile(r"<(https?://[^|>]+)>")
CHANNEL = re.compile(r"<#([A-Z0-9]+)(?:\|([^>]*))?>")


def mrkdwn_to_text(text: str) -> str:
    """Light mrkdwn: links become "label (url)"; entities are unescaped last, so an escaped
    `&lt;!channel&gt;` shows as the literal text a reader sees, never as markup."""
    text = LINK.sub(lambda m: f"{m.group(2)} ({m.group(1)})", text)
    text = BARE_LINK.sub(lambda m: m.group(1), text)
    text = CHANNEL.sub(lambda m: f"#{m.group(2) or m.group(1)}", text)
    text = text.replace("```", "")
    text = re.sub(r"^>", "| ", text, flags=re.MULTILINE)
    text = re.sub(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])", r"\1", text)
    text = re.sub(r"(?<![\w_])_([^_\n]+)_(?![\w_])", r"\1", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _text_of(obj: Any) -> str:
    if isinstance(obj, Mapping):
        return mrkdwn_to_text(str(obj.get("text", "")))
    return mrkdwn_to_text(str(obj or ""))


def _wrap(text: str, width: int, prefix: str = "") -> list[str]:
    lines: list[str] = []
    for raw in text.strip("\n").splitlines() or [""]:
        if len(raw) <= width - len(prefix):  # keeps table rows and their spacing intact
            lines.append(f"{prefix}{raw}")
            continue
        wrapped = textwrap.wrap(raw, width=width - len(prefix)) or [""]
        lines.extend(f"{prefix}{line}" for line in wrapped)
    return lines


def _block_lines(block: Mapping[str, Any], width: int) -> list[str]:
    kind = block.get("type")
    if kind == "header":
        title = _text_of(block.get("text"))
        return [title.upper(), "=" * min(len(title), width)]
    if kind == "section":
        lines = _wrap(_text_of(block.get("text")), width) if block.get("text") else []
        for field in block.get("fields") or []:
            lines += _wrap(_text_of(field), width, "  ")
        accessory = block.get("accessory")
        if isinstance(accessory, Mapping) and accessory.get("type") == "button":
            lines.append(f"[ {_text_of(accessory.get('text'))} ]")
        return lines
    if kind == "context":
        text = "  ".join(
            f"[image: {e.get('alt_text', '')}]" if e.get("type") == "image" else _text_of(e)
            for e in block.get("elements") or []
        )
        return _wrap(text, width, "  | ")
    if kind == "divider":
        return ["-" * width]
    if kind == "actions":
        labels = [
            f"[ {_text_of(e.get('text'))} ]{'*' if e.get('style') == 'primary' else ''}"
            for e in block.get("elements") or []
        ]
        return _wrap(" ".join(labels), width)
    if kind == "image":
        return [f"[image: {block.get('alt_text', '')}]"]
    return [f"[{kind} block]"]


def render_channel(messages: Iterable[Mapping[str, Any]], *, width: int = 100) -> str:
    """Messages as a reader sees them: blocks when present, the fallback text otherwise."""
    out: list[str] = []
    for message in messages:
        blocks = message.get("blocks") or []
        if blocks:
            for block in blocks:
                out.extend(_block_lines(block, width))
        else:
            out.extend(_wrap(mrkdwn_to_text(str(message.get("text", ""))), width))
        for file in message.get("files") or []:
            out.append(f"[file: {file.get('name')} - {file.get('alt_txt') or file.get('title')}]")
        out.append("")
    return "\n".join(out).rstrip() + "\n"
