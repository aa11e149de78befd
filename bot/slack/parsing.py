"""Parsing what Slack sends, once, in one place. Anything malformed becomes BadPayload."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from bot.errors import BadPayload
from bot.render.comment_modal import REPLIES_OPTION, CommentModalState
from bot.render.ids import ActionId, BlockId
from bot.services.config import PROBLEM_COPY, SettingsRejected


@dataclass(frozen=True, slots=True)
class CxCommand:
    name: str
    args: tuple[str, ...]  # plain words, as the person typed them (see slack_plain_text)
    # Everything after the sub-command as Slack sent it (mentions, links and &amp; escapes
    # intact), for sub-commands that need a mention's user ID (`/cx kudos @person ...`).
    rest: str = field(default="", compare=False)


# Slack's markup in text it sends (slash commands with should_escape, message text): mentions
# <@U123|name>, channels <#C123|name>, <!here>, <!subteam^S123|@team>, <!date^...|text> and
# links <https://x|label>; the characters & < > themselves arrive as &amp; &lt; &gt;.
SLACK_TOKEN = re.compile(
    r"<(@[UW][A-Z0-9]+|#[CGD][A-Z0-9]+|![a-z^][^<>|]*|(?:https?|mailto):[^<>|]+)(?:\|([^<>]*))?>"
)
SLACK_ENTITY = re.compile(r"&(amp|lt|gt);")
SLACK_ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}


def _unescape(text: str) -> str:
    return SLACK_ENTITY.sub(lambda m: SLACK_ENTITIES[m.group(1)], text)


def slack_plain_text(text: str, names: Mapping[str, str] | None = None) -> str:
    """Slack's escaped text as the person wrote it: mentions become `@name` (from the mention's
    label, else `names`, else the ID), channels `#name`, `<!here>` `@here`, links their label
    and address, and `&amp;` `&lt;` `&gt;` the characters. Anything else in angle brackets is
    left as it is, so text Slack sent unescaped reads the same. The result is plain text: it is
    escaped again (bot.render.escape) whenever it goes back to Slack."""
    known = names or {}

    def token(match: re.Match[str]) -> str:
        target, label = match.group(1), _unescape(match.group(2) or "")
        if target.startswith("@"):
            return f"@{label or known.get(target[1:], target[1:])}"
        if target.startswith("#"):
            return f"#{label or target[1:]}"
        if target.startswith("!subteam^"):
            return label if label.startswith("@") else f"@{label or target[9:]}"
        if target.startswith("!date^"):
            return label
        if target.startswith("!"):
            return f"@{label or target[1:]}"
        address = _unescape(target)
        return f"{label} ({address})" if label and label != address else address

    parts: list[str] = []
    last = 0
    for match in SLACK_TOKEN.finditer(text):
        parts.append(_unescape(text[last : match.start()]))
        parts.append(token(match))
        last = match.end()
    parts.append(_unescape(text[last:]))
    return "".join(parts)


UNLABELLED_MENTION = re.compile(r"<@([UW][A-Z0-9]{2,20})>")


def unlabelled_mentions(text: str) -> list[str]:
    """The user IDs mentioned without a name (`<@U123>`) in Slack's text, in order, once each:
    slack_plain_text needs their names from elsewhere."""
    return list(dict.fromkeys(UNLABELLED_MENTION.findall(text)))


def parse_cx(text: str | None) -> CxCommand:
    """`/cx score empowerment` -> CxCommand("score", ("empowerment",)); empty text means help.

    With should_escape (manifest.yml), Slack sends mentions, channels and links as markup and
    & < > escaped: the words are read back as plain text, so `/cx team R&D` means the team
    R&D and `/cx act ...` stores what was typed."""
    raw = (text or "").strip()
    words = slack_plain_text(raw).split()
    if not words:
        return CxCommand("help", ())
    rest = raw.split(maxsplit=1)[1] if len(raw.split(maxsplit=1)) > 1 else ""
    return CxCommand(words[0].lower(), tuple(words[1:]), rest)


@dataclass(frozen=True, slots=True)
class KudosCommand:
    """`/cx kudos ...` read: a choice (optout/optin), or a recipient and the story's raw text.

    The recipient is a mention's user ID, or what followed a plain `@` (the name and the story
    together: only the directory can tell where a name of several words ends)."""

    choice: str | None = None  # "optout", "optin" or "help"
    user_id: str | None = None
    named: str | None = None  # raw text after a plain "@"
    story: str = ""  # raw (Slack-escaped) text after the mention
    not_a_person: bool = False  # a channel or group was mentioned instead of a person


KUDOS_CHOICES = frozenset({"optout", "optin", "help"})
LEADING_USER = re.compile(r"^<@([UW][A-Z0-9]{2,20})(?:\|[^<>]*)?>[\s,:;.!-]*", re.UNICODE)
LEADING_GROUP = re.compile(r"^<(?:#[CGD]|!)[^<>]*>")


def parse_kudos(rest: str) -> KudosCommand:
    """What followed `/cx kudos`, as Slack sent it."""
    text = rest.strip()
    word = slack_plain_text(text).split(maxsplit=1)
    if not word or (len(word) == 1 and word[0].lower() in KUDOS_CHOICES):
        return KudosCommand(choice=word[0].lower() if word else "help")
    mention = LEADING_USER.match(text)
    if mention:
        return KudosCommand(user_id=mention.group(1), story=text[mention.end() :])
    if LEADING_GROUP.match(text):
        return KudosCommand(not_a_person=True)
    if text.startswith("@") and len(text) > 1:
        return KudosCommand(named=text[1:])
    return KudosCommand(choice="help")


NAME_TRIM = ",:;.!?)("
MAX_NAME_WORDS = 4


def name_prefixes(text: str) -> list[tuple[str, str]]:
    """(name, raw rest) for each way `text` (what followed a plain `@`) could split into a name
    of one to four words and the story, longest name first: `Ana Lima thanks` gives
    ("ana lima thanks", ""), ("ana lima", "thanks"), ("ana", "lima thanks")."""
    words = list(re.finditer(r"\S+", text))[:MAX_NAME_WORDS]
    out = []
    for count in range(len(words), 0, -1):
        name = " ".join(slack_plain_text(w.group()) for w in words[:count]).strip(NAME_TRIM)
        if name:
            out.append((name.casefold(), text[words[count - 1].end() :]))
    return out


# The scores a pulse button may carry: the scale's 1-5 and 0, "doesn't apply to me".
ANSWER_SCORES = frozenset({"0", "1", "2", "3", "4", "5"})


@dataclass(frozen=True, slots=True)
class AnswerClick:
    round_id: int
    question_id: str
    score: int


def parse_answer_value(value: object) -> AnswerClick:
    """Button values look like "12|empowerment.fix_it|4": a score of 1 to 5, or 0 for
    "doesn't apply to me"; anything else (a forged 6, -1, 05) is a bad payload."""
    if not isinstance(value, str) or len(value) > 200:
        raise BadPayload()
    parts = value.split("|")
    if len(parts) != 3 or not parts[0].isdigit() or parts[2] not in ANSWER_SCORES:
        raise BadPayload()
    if not parts[1] or len(parts[1]) > 80:
        raise BadPayload()
    return AnswerClick(int(parts[0]), parts[1], int(parts[2]))


def parse_action_ts(value: object) -> datetime | None:
    """Slack's action_ts ("1700000000.123456"); None when absent or not a sane timestamp."""
    if not isinstance(value, str) or len(value) > 32:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    if not 0 < seconds < 32_503_680_000:  # before the year 3000
        return None
    return datetime.fromtimestamp(seconds, tz=UTC)


def parse_round_id(value: object) -> int:
    if not isinstance(value, str) or not value.isdigit() or len(value) > 18:
        raise BadPayload()
    return int(value)


PERIOD = re.compile(r"^\d{4}-W\d{2}$")


def parse_period(value: object) -> str:
    """A week as a button carries it: "2026-W48"."""
    if not isinstance(value, str) or not PERIOD.match(value):
        raise BadPayload()
    return value


def user_id_of(body: Mapping[str, Any]) -> str:
    user = body.get("user")
    user_id = user.get("id") if isinstance(user, Mapping) else body.get("user_id")
    if not isinstance(user_id, str) or not user_id:
        raise BadPayload()
    return user_id


@dataclass(frozen=True, slots=True)
class CommentSubmission:
    round_id: int
    question_id: str
    text: str | None
    replies: bool = False  # the person ticked "let leaders reply to me here"


def _ticked_replies(values: Mapping[str, Any]) -> bool:
    """The opt-in checkbox: absent (replies are off, or an older modal) or unticked is False."""
    entry = (values.get(BlockId.COMMENT_REPLIES) or {}).get(ActionId.COMMENT_REPLIES) or {}
    chosen = entry.get("selected_options") if isinstance(entry, Mapping) else None
    if chosen is None:
        return False
    if not isinstance(chosen, list):
        raise BadPayload()
    return any(isinstance(o, Mapping) and o.get("value") == REPLIES_OPTION for o in chosen)


def parse_comment_submission(view: Mapping[str, Any] | None) -> CommentSubmission:
    if view is None:
        raise BadPayload()
    try:
        state = CommentModalState.model_validate_json(view["private_metadata"])
        values = view["state"]["values"]
        question = values[BlockId.COMMENT_QUESTION][ActionId.COMMENT_QUESTION]["selected_option"]
        text = values[BlockId.COMMENT_TEXT][ActionId.COMMENT_TEXT].get("value")
        question_id = question["value"]
        replies = _ticked_replies(values)
    except (KeyError, TypeError, AttributeError, ValidationError) as exc:
        raise BadPayload() from exc
    if not isinstance(question_id, str) or (text is not None and not isinstance(text, str)):
        raise BadPayload()
    return CommentSubmission(state.round_id, question_id, text, replies)


@dataclass(frozen=True, slots=True)
class KudosSubmission:
    recipient: str
    story: str  # plain text, as typed in the modal


def parse_kudos_submission(view: Mapping[str, Any] | None) -> KudosSubmission:
    """The kudos modal's people picker and story; a forged or broken form is a bad payload."""
    if view is None:
        raise BadPayload()
    try:
        values = view["state"]["values"]
        picked = values[BlockId.KUDOS_RECIPIENT][ActionId.KUDOS_RECIPIENT].get("selected_user")
        story = values[BlockId.KUDOS_STORY][ActionId.KUDOS_STORY].get("value")
    except (KeyError, TypeError, AttributeError) as exc:
        raise BadPayload() from exc
    if not isinstance(picked, str) or not re.fullmatch(r"[UW][A-Z0-9]{2,20}", picked):
        raise BadPayload()
    if story is not None and not isinstance(story, str):
        raise BadPayload()
    return KudosSubmission(picked, story or "")


def _state_value(values: Mapping[str, Any], block: BlockId, action: ActionId) -> Mapping[str, Any]:
    entry = values.get(block, {}).get(action)
    if entry is None:
        return {}
    if not isinstance(entry, Mapping):
        raise BadPayload()
    return entry


def _selected(entry: Mapping[str, Any]) -> str | None:
    option = entry.get("selected_option")
    if option is None:
        return None
    value = option.get("value") if isinstance(option, Mapping) else None
    if not isinstance(value, str):
        raise BadPayload()
    return value


def _whole_number(text: object) -> int | None:
    if not isinstance(text, str) or not text.strip().isdigit() or len(text.strip()) > 6:
        return None
    return int(text.strip())


def _team_channel_lines(text: object) -> dict[str, str] | None:
    """`support=C0123` per line (commas work too); None when a line is not of that form."""
    if text is None:
        return {}
    if not isinstance(text, str):
        return None
    pairs: dict[str, str] = {}
    for part in text.replace(",", "\n").splitlines():
        if not part.strip():
            continue
        team, sep, channel = part.partition("=")
        team, channel = team.strip(), channel.strip().lstrip("#")
        if not sep or not team or not channel or len(team) > 120 or len(channel) > 32:
            return None
        pairs[team] = channel
    return pairs


def _team_leads(values: Mapping[str, Any]) -> dict[str, tuple[str, ...]] | None:
    """The leads picked per team (a block per team shown); None when a picker is unreadable."""
    leads: dict[str, tuple[str, ...]] = {}
    for block_id, entries in values.items():
        if not isinstance(block_id, str) or not block_id.startswith(
            BlockId.SETTINGS_TEAM_LEADS_PREFIX
        ):
            continue
        team = block_id.removeprefix(BlockId.SETTINGS_TEAM_LEADS_PREFIX)
        if not team or not isinstance(entries, Mapping):
            return None
        entry = entries.get(ActionId.SETTINGS_TEAM_LEADS) or {}
        users = (entry.get("selected_users") or []) if isinstance(entry, Mapping) else None
        if not isinstance(users, list) or not all(isinstance(u, str) for u in users):
            return None
        leads[team] = tuple(users)
    return leads


def parse_settings_submission(view: Mapping[str, Any] | None) -> dict[str, Any]:
    """The admin's settings form as changes for bot.services.config; a field that cannot be
    read raises SettingsRejected naming it, so the modal shows the problem beside the field."""
    if view is None:
        raise BadPayload()
    try:
        values = view["state"]["values"]
        if not isinstance(values, Mapping):
            raise BadPayload()
        read = functools.partial(_state_value, values)
        channel = read(BlockId.SETTINGS_LEADERSHIP_CHANNEL, ActionId.SETTINGS_LEADERSHIP_CHANNEL)
        day = _selected(read(BlockId.SETTINGS_PULSE_DAY, ActionId.SETTINGS_PULSE_DAY))
        time_of_day = read(BlockId.SETTINGS_PULSE_TIME, ActionId.SETTINGS_PULSE_TIME).get(
            "selected_time"
        )
        questions = _selected(read(BlockId.SETTINGS_QUESTIONS, ActionId.SETTINGS_QUESTIONS))
        days = read(BlockId.SETTINGS_ROUND_DAYS, ActionId.SETTINGS_ROUND_DAYS).get("value")
        size = read(BlockId.SETTINGS_MIN_GROUP, ActionId.SETTINGS_MIN_GROUP).get("value")
        source = _selected(read(BlockId.SETTINGS_TEAM_SOURCE, ActionId.SETTINGS_TEAM_SOURCE))
        channels = read(BlockId.SETTINGS_TEAM_CHANNELS, ActionId.SETTINGS_TEAM_CHANNELS).get(
            "value"
        )
        paused = read(BlockId.SETTINGS_PAUSED, ActionId.SETTINGS_PAUSED).get("selected_options")
    except (KeyError, TypeError, AttributeError) as exc:
        raise BadPayload() from exc
    selected_channel = channel.get("selected_conversation")
    changes: dict[str, Any] = {}
    problems: dict[str, str] = {}

    def take(name: str, value: object, ok: bool) -> None:
        if ok:
            changes[name] = value
        else:
            problems[name] = PROBLEM_COPY.get(name, f"settings.errors.{name}")

    take("leadership_channel", selected_channel, isinstance(selected_channel, str))
    take(
        "pulse_schedule",
        f"{day} {time_of_day}",
        isinstance(day, str) and isinstance(time_of_day, str),
    )
    take("questions_per_round", _whole_number(questions), _whole_number(questions) is not None)
    take("round_days", _whole_number(days), _whole_number(days) is not None)
    take("min_group_size", _whole_number(size), _whole_number(size) is not None)
    take("team_source", source, source in {"usergroups", "channels"})
    pairs = _team_channel_lines(channels)
    take("team_channels", pairs, pairs is not None)
    take("paused", bool(paused), paused is None or isinstance(paused, list))
    if BlockId.SETTINGS_KUDOS_CHANNEL in values:  # forms opened before kudos existed lack it
        kudos = read(BlockId.SETTINGS_KUDOS_CHANNEL, ActionId.SETTINGS_KUDOS_CHANNEL).get(
            "selected_conversation"
        )
        take("kudos_channel", kudos, kudos is None or isinstance(kudos, str))
    leads = _team_leads(values)
    if leads is None:
        problems["team_leads"] = "team_leads.settings_error"
    elif leads:  # only when the form showed team pickers
        changes["team_leads"] = leads
    if problems:
        raise SettingsRejected(problems)
    return changes
