"""The transcript shows Block Kit messages the way a reader sees them in Slack."""

from __future__ import annotations

from typing import Any

from bot.sandbox.transcript import mrkdwn_to_text, render_channel


def _section(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **extra}


def test_mrkdwn_links_mentions_and_emphasis() -> None:
    text = "*Bold* and _it_ and ~gone~ in `code`, see <https://x.example/a|the report>"
    assert mrkdwn_to_text(text) == (
        "Bold and it and gone in code, see the report (https://x.example/a)"
    )
    assert mrkdwn_to_text("<https://x.example>") == "https://x.example"
    assert mrkdwn_to_text("hi <@U123> in <#C1|general>, <!here>") == "hi @U123 in #general, @here"
    assert mrkdwn_to_text("<!subteam^S1|@support> team") == "@support team"
    assert mrkdwn_to_text("snake_case_name and 2*3*4") == "snake_case_name and 2*3*4"


def test_escaped_markup_shows_as_the_literal_text_a_reader_sees() -> None:
    # The bot escapes user text; Slack shows it literally instead of pinging the channel.
    assert mrkdwn_to_text("&lt;!channel&gt; stop &amp; think") == "<!channel> stop & think"
    assert mrkdwn_to_text("&lt;https://evil.example|click&gt;") == "<https://evil.example|click>"
    assert mrkdwn_to_text("&amp;lt;") == "&lt;"
    assert mrkdwn_to_text("&lt;b&gt;*x*&lt;/b&gt;") == "<b>x</b>"


def test_quotes_and_code_blocks() -> None:
    assert mrkdwn_to_text(">first\n>second") == "│ first\n│ second"
    table = "```\nTeam   Score\nR&amp;D    *4*\n```"
    assert mrkdwn_to_text(table) == "Team   Score\nR&D    *4*"


def test_a_digest_like_message() -> None:
    table = "Team (people)  Empwr\nsupport (10)     31↓"
    message = {
        "text": "fallback, not shown",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "CX digest 2024-W10"}},
            _section("*Response rate:* 80%"),
            {"type": "divider"},
            _section(f"```\n{table}\n```"),
            {
                "type": "context",
                "elements": [
                    {"type": "mrkdwn", "text": "Only groups of 5+"},
                    {"type": "image", "image_url": "https://x.example/i.png", "alt_text": "logo"},
                ],
            },
        ],
    }
    lines = render_channel([message], width=40).splitlines()
    assert lines[:3] == ["CX DIGEST 2024-W10", "=" * 18, "Response rate: 80%"]
    assert lines[3] == "─" * 40
    assert lines[4:6] == table.splitlines()  # verbatim: column alignment survives
    assert lines[6] == "  · Only groups of 5+  [image: logo]"
    assert "fallback" not in "\n".join(lines)


def test_buttons_fields_accessories_and_images() -> None:
    message = {
        "blocks": [
            _section(
                "Pick one",
                accessory={"type": "button", "text": {"type": "plain_text", "text": "Go"}},
            ),
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": "*Left*"},
                    {"type": "mrkdwn", "text": "Right"},
                    {"type": "mrkdwn", "text": "Third"},
                ],
            },
            {
                "type": "actions",
                "elements": [
                    {"type": "button", "text": {"type": "plain_text", "text": "1 Disagree"}},
                    {"type": "button", "text": {"type": "plain_text", "text": "5 Agree"}},
                    {
                        "type": "static_select",
                        "placeholder": {"type": "plain_text", "text": "Choose"},
                    },
                ],
            },
            {"type": "image", "image_url": "https://x.example/c.png", "alt_text": "a chart"},
        ]
    }
    lines = render_channel([message], width=30).splitlines()
    assert lines[0] == "Pick one" + " " * 16 + "[ Go ]"
    assert lines[1] == "Left            Right"
    assert lines[2] == "Third"
    assert lines[3] == "[ 1 Disagree ] [ 5 Agree ]"
    assert lines[4] == "[ Choose ▾ ]"
    assert lines[5] == "[image: a chart]"


def test_list_items_wrap_under_their_text() -> None:
    item = "- Leadership walks the talk: 42% favourable, down 7 pts"
    assert render_channel([{"blocks": [_section(f"Heading\n{item}")]}], width=30).splitlines() == [
        "Heading",
        "- Leadership walks the talk:",
        "  42% favourable, down 7 pts",
    ]


def test_text_fallback_wrapping_files_and_separation() -> None:
    long = "word " * 30
    messages = [
        {"text": long.strip(), "blocks": []},
        {"text": "", "files": [{"name": "chart.png", "title": "Chart", "alt_txt": "trend"}]},
        {"text": "Report", "files": [{"name": "r.csv", "title": "Numbers"}]},
    ]
    out = render_channel(messages, width=20)
    parts = out.split("\n\n")
    assert all(len(line) <= 20 for line in parts[0].splitlines())
    assert parts[0].split() == long.split()
    assert parts[1] == "[file: chart.png — trend]"
    assert parts[2] == "Report\n[file: r.csv — Numbers]\n"
    assert out.endswith("]\n")
