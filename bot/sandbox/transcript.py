"""Block Kit messages rendered as plain text, the way a reader sees them in Slack.

Pure functions, no Slack calls: used by the demo, `cxpulse digest --print` and tests.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Iterator, Mapping
from itertools import zip_longest
from typing import Any

QUOTE_BAR = "│ "
CONTEXT_PREFIX = "  · "
DIVIDER = "─"
FIELD_GAP = 2

# Slack's angle-bracket markup: links, mentions, channels and special commands.
ANGLE = re.compile(r"<([^<>]+)>")
CODE_FENCE = re.compile(r"```(.*?)```", re.DOTALL)
INLINE_CODE = re.compile(r"`([^`\n]+)`")
BULLET = re.compile(r"\s*(?:[-•◦*]|\d+[.)])\s+")
ENTITY = re.compile(r"&(lt|gt|amp);")
ENTITIES = {"lt": "<", "gt": ">", "amp": "&"}


def _emphasis(marker: str) -> re.Pattern[str]:
    """`*bold*`, `_italic_`, `~strike~`: the marker hugs the text and sits at word edges."""
    m = re.escape(marker)
    return re.compile(rf"(?<![\w{m}]){m}(?=\S)([^{m}\n]*?\S){m}(?![\w{m}])")


EMPHASIS = tuple(_emphasis(marker) for marker in "*_~")


def unescape(text: str) -> str:
    """Slack's three entities, in one pass, so `&amp;lt;` shows as `&lt;` like in Slack."""
    return ENTITY.sub(lambda m: ENTITIES[m.group(1)], text)


def _angle(match: re.Match[str]) -> str:
    """One `<...>` token as a reader sees it."""
    target, _, label = match.group(1).partition("|")
    if target.startswith(("@U", "@W", "@B")):
        return f"@{label or target[1:]}"
    if target.startswith("#C") or target.startswith("#G"):
        return f"#{label or target[1:]}"
    if target.startswith("!subteam^"):
        return label if label.startswith("@") else f"@{label or target.removeprefix('!subteam^')}"
    if target.startswith("!date^"):
        return label or target
    if target.startswith("!"):
        return f"@{target[1:]}"  # <!here>, <!channel>, <!everyone>
    return f"{label} ({target})" if label else target


def _prose(text: str) -> str:
    """mrkdwn outside code fences: quotes, links, mentions and emphasis, entities last."""
    text = re.sub(r"^&gt; ?|^> ?", QUOTE_BAR, text, flags=re.MULTILINE)
    text = ANGLE.sub(_angle, text)
    text = INLINE_CODE.sub(r"\1", text)
    for pattern in EMPHASIS:
        text = pattern.sub(r"\1", text)
    # Unescaping comes last so escaped markup (`&lt;!channel&gt;`) shows as the literal text.
    return unescape(text)


def mrkdwn_to_text(text: str) -> str:
    """Slack mrkdwn as displayed text; code fences keep their content verbatim."""
    parts: list[str] = []
    last = 0
    for fence in CODE_FENCE.finditer(text):
        parts.append(_prose(text[last : fence.start()]))
        parts.append(unescape(fence.group(1).strip("\n")))
        last = fence.end()
    parts.append(_prose(text[last:]))
    return "".join(parts)


def _is_preformatted(obj: Any) -> bool:
    return isinstance(obj, Mapping) and "```" in str(obj.get("text", ""))


def text_of(obj: Any) -> str:
    """A text object (or a bare string) as displayed: mrkdwn is processed, plain_text is not."""
    if isinstance(obj, Mapping):
        raw = str(obj.get("text", ""))
        return raw if obj.get("type") == "plain_text" else mrkdwn_to_text(raw)
    return mrkdwn_to_text(str(obj or ""))


def _wrap(text: str, width: int, prefix: str = "", *, verbatim: bool = False) -> list[str]:
    """Wrap prose to the width; verbatim (code) lines are never wrapped, so tables stay aligned."""
    lines: list[str] = []
    for raw in text.strip("\n").split("\n") or [""]:
        room = max(width - len(prefix), 10)
        if verbatim or len(raw) <= room:
            lines.append(f"{prefix}{raw}".rstrip())
            continue
        lead = QUOTE_BAR if raw.startswith(QUOTE_BAR) else ""
        body = raw.removeprefix(lead)
        bullet = BULLET.match(body)
        # List items wrap under their text, not under the bullet, as in Slack.
        hang = " " * len(bullet.group(0)) if bullet else ""
        wrapped = textwrap.wrap(body, width=room - len(lead), subsequent_indent=hang) or [""]
        lines.extend(f"{prefix}{lead}{line}" for line in wrapped)
    return lines


def element_label(element: Mapping[str, Any]) -> str:
    """An interactive element as a reader sees it: `[ Label ]`, `[ Choice ▾ ]`, an image."""
    kind = element.get("type")
    if kind == "button":
        return f"[ {text_of(element.get('text'))} ]"
    if kind == "image":
        return f"[image: {element.get('alt_text', '')}]"
    if kind == "overflow":
        return "[ ⋯ ]"
    if kind in {"radio_buttons", "checkboxes"}:
        return "  ".join(f"( ) {text_of(o.get('text'))}" for o in element.get("options") or [])
    if kind == "datepicker":
        return f"[ {element.get('initial_date') or text_of(element.get('placeholder'))} ]"
    if "select" in str(kind):
        chosen = element.get("initial_option")
        shown = chosen.get("text") if isinstance(chosen, Mapping) else element.get("placeholder")
        return f"[ {text_of(shown) or 'Select'} ▾ ]"
    if kind == "plain_text_input":
        return f"[ {text_of(element.get('placeholder')) or '...'} ]"
    return f"[{kind}]"


def _pack(labels: list[str], width: int) -> list[str]:
    """Labels side by side, starting a new line rather than splitting one."""
    lines: list[str] = []
    for label in labels:
        if lines and len(lines[-1]) + 1 + len(label) <= width:
            lines[-1] = f"{lines[-1]} {label}"
        else:
            lines.append(label)
    return lines or [""]


def _fields(fields: list[Any], width: int) -> list[str]:
    """Section fields in Slack's two columns."""
    column = max((width - FIELD_GAP) // 2, 10)
    lines: list[str] = []
    for left, right in zip_longest(fields[0::2], fields[1::2]):
        left_lines = _wrap(text_of(left), column)
        right_lines = _wrap(text_of(right), column) if right is not None else []
        for a, b in zip_longest(left_lines, right_lines, fillvalue=""):
            lines.append(f"{a:<{column + FIELD_GAP}}{b}".rstrip())
    return lines


def _section(block: Mapping[str, Any], width: int) -> list[str]:
    text = block.get("text")
    lines = _wrap(text_of(text), width, verbatim=_is_preformatted(text)) if text else []
    lines += _fields(list(block.get("fields") or []), width)
    accessory = block.get("accessory")
    if isinstance(accessory, Mapping):
        label = element_label(accessory)
        # Slack shows the accessory at the right of the first line; put it there if it fits.
        if lines and len(lines[0]) + len(label) + 2 <= width:
            lines[0] = f"{lines[0]:<{width - len(label)}}{label}"
        else:
            lines.append(label)
    return lines


def _context(block: Mapping[str, Any], width: int) -> list[str]:
    parts = [
        element_label(e) if e.get("type") == "image" else text_of(e)
        for e in block.get("elements") or []
        if isinstance(e, Mapping)
    ]
    return _wrap("  ".join(parts), width, CONTEXT_PREFIX)


def _rich_text_runs(elements: Iterable[Any]) -> Iterator[str]:
    for element in elements:
        if not isinstance(element, Mapping):
            continue
        kind = element.get("type")
        if kind == "text":
            yield str(element.get("text", ""))
        elif kind == "link":
            url, label = element.get("url", ""), element.get("text")
            yield f"{label} ({url})" if label else str(url)
        elif kind == "user":
            yield f"@{element.get('user_id', '')}"
        elif kind == "channel":
            yield f"#{element.get('channel_id', '')}"
        elif kind == "emoji":
            yield f":{element.get('name', '')}:"
        elif kind == "broadcast":
            yield f"@{element.get('range', '')}"
        elif "elements" in element:
            yield "".join(_rich_text_runs(element.get("elements") or []))


def _rich_text(block: Mapping[str, Any], width: int) -> list[str]:
    lines: list[str] = []
    for part in block.get("elements") or []:
        kind = part.get("type")
        if kind == "rich_text_list":
            for item in part.get("elements") or []:
                lines += _wrap("".join(_rich_text_runs([item])), width, "  • ")
        elif kind == "rich_text_preformatted":
            lines += _wrap(
                "".join(_rich_text_runs(part.get("elements") or [])), width, verbatim=True
            )
        elif kind == "rich_text_quote":
            lines += _wrap("".join(_rich_text_runs(part.get("elements") or [])), width, QUOTE_BAR)
        else:
            lines += _wrap("".join(_rich_text_runs(part.get("elements") or [])), width)
    return lines


def block_lines(block: Mapping[str, Any], width: int) -> list[str]:
    """One block as terminal lines."""
    kind = block.get("type")
    if kind == "header":
        title = text_of(block.get("text"))
        return [title.upper(), "=" * min(len(title), width)]
    if kind == "section":
        return _section(block, width)
    if kind == "context":
        return _context(block, width)
    if kind == "divider":
        return [DIVIDER * width]
    if kind == "actions":
        labels = [element_label(e) for e in block.get("elements") or [] if isinstance(e, Mapping)]
        return _pack(labels, width)
    if kind == "image":
        title = text_of(block.get("title")) if block.get("title") else ""
        return [f"[image: {block.get('alt_text', '')}]" + (f" {title}" if title else "")]
    if kind == "input":
        element = block.get("element")
        shown = element_label(element) if isinstance(element, Mapping) else ""
        return [text_of(block.get("label")), shown]
    if kind == "rich_text":
        return _rich_text(block, width)
    return [f"[{kind} block]"]


def _file_line(file: Mapping[str, Any]) -> str:
    name = file.get("name") or file.get("title") or "file"
    description = file.get("alt_txt") or file.get("title")
    return f"[file: {name} — {description}]" if description else f"[file: {name}]"


def render_message(message: Mapping[str, Any], *, width: int = 100) -> list[str]:
    """One message as lines: its blocks, or its fallback text when it has none; then files."""
    lines: list[str] = []
    blocks = [b for b in message.get("blocks") or [] if isinstance(b, Mapping)]
    if blocks:
        for block in blocks:
            lines += block_lines(block, width)
    elif message.get("text"):
        lines += _wrap(mrkdwn_to_text(str(message["text"])), width)
    lines += [_file_line(f) for f in message.get("files") or [] if isinstance(f, Mapping)]
    return lines


def render_channel(messages: Iterable[Mapping[str, Any]], *, width: int = 100) -> str:
    """Messages as a reader sees them, separated by blank lines."""
    rendered = ["\n".join(render_message(m, width=width)) for m in messages]
    return "\n\n".join(rendered).rstrip() + "\n"
