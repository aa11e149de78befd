"""The emulator sends slash commands the way Slack's client and should_escape do."""

from __future__ import annotations

from typing import Any

import pytest

from bot.sandbox.composer import escaped_like_slack
from bot.slack.parsing import slack_plain_text

USERS: list[dict[str, Any]] = [
    {"id": "U100", "name": "ana.lima"},
    {"id": "U200", "name": "bo"},
    {"id": "U300", "name": "gone", "deleted": True},
]
CHANNELS: dict[str, dict[str, Any]] = {"C100": {"name": "general"}}


@pytest.mark.parametrize(
    ("typed", "sent"),
    [
        ("kudos @ana.lima, thanks!", "kudos <@U100|ana.lima>, thanks!"),
        ("@here and @channel", "<!here> and <!channel>"),
        ("see #general & #nowhere", "see <#C100|general> &amp; #nowhere"),
        ("<!channel> <b>", "&lt;!channel&gt; &lt;b&gt;"),
        ("https://x.example/?a=1&b=2 done", "<https://x.example/?a=1&amp;b=2> done"),
        ("mail bo@example.com", "mail bo@example.com"),  # an address is not a mention
        ("@gone @nobody", "@gone @nobody"),  # deactivated or unknown: left as typed
    ],
)
def test_typed_text_is_escaped_like_slack(typed: str, sent: str) -> None:
    assert escaped_like_slack(typed, USERS, CHANNELS) == sent


def test_mentions_can_come_without_their_name() -> None:
    assert escaped_like_slack("@bo", USERS, CHANNELS, labels=False) == "<@U200>"


@pytest.mark.parametrize(
    "typed",
    [
        "kudos @ana.lima stayed late & fixed <b>it</b>",
        "<!channel> <https://evil.example|click> &amp;",
        "score fish&chips",
        "trend <#C0LEADERS>",
    ],
)
def test_the_bot_reads_back_what_was_typed(typed: str) -> None:
    plain = slack_plain_text(escaped_like_slack(typed, USERS, CHANNELS))
    assert plain == typed
