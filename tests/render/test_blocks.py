"""Block Kit output is validated by slack_sdk's models; stay within Slack's limits at scale."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.prompts import load_prompts
from bot.render.comment_modal import comment_modal
from bot.render.digest import digest_message
from bot.render.escape import escape_text, quote_block
from bot.render.pulse import PulseView, pulse_message
from bot.services.digest import Digest, DimensionLine, Focus, Reading, TeamCell, TeamLine

PROMPTS = load_prompts()
BANK = PROMPTS.bank


def _view(**overrides: object) -> PulseView:
    questions = tuple((d.questions[0].id, d.questions[0].text) for d in BANK.dimensions[:5])
    values: dict[str, object] = {
        "round_id": 7,
        "period": "2026-W48",
        "closes_at": datetime(2026, 11, 29, 10, tzinfo=UTC),
        "zone_name": "Europe/London",
        "questions": questions,
    }
    values.update(overrides)
    return PulseView(**values)  # type: ignore[arg-type]


def test_pulse_dm_marks_the_chosen_answer() -> None:
    view = _view()
    first = view.questions[0][0]
    message = pulse_message(_view(answers={first: 4}, commented=frozenset({first})), PROMPTS)
    blocks = [b.to_dict() for b in message.blocks]  # to_dict() validates
    chosen = [
        e
        for b in blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e.get("style") == "primary"
    ]
    assert [e["value"] for e in chosen] == [f"7|{first}|4"]
    text = str(blocks)
    assert "Recorded: *Agree*" in text
    assert "Comment saved" in text
    assert "1 of 5 answered" in text
    assert "Sun 29 Nov, 10:00 (Europe/London)" in text
    assert message.text  # plain-text fallback for notifications and screen readers


def test_comment_modal_defaults_to_the_last_statement() -> None:
    modal = comment_modal(_view(), PROMPTS).to_dict()
    select = modal["blocks"][1]["element"]
    assert select["initial_option"]["value"] == _view().questions[-1][0]
    assert modal["blocks"][2]["element"]["max_length"] == 3000


def test_escaping() -> None:
    assert escape_text("<!channel> & <http://x|y>") == "&lt;!channel&gt; &amp; &lt;http://x|y&gt;"
    assert quote_block("a\n<!here>") == ">a\n>&lt;!here&gt;"
    assert len(quote_block("x" * 2000)) <= 501


def test_digest_for_forty_teams_stays_within_slack_limits() -> None:
    lines = [
        DimensionLine(
            d.id,
            d.name,
            Reading("2026-W48", 900, 0.61, 3.6),
            Reading("2026-W44", 880, 0.66, 3.7),
            True,
        )
        for d in BANK.dimensions
    ]
    cells = {d.id: TeamCell(0.5, 3.4, -0.12) for d in BANK.dimensions}
    teams = [TeamLine(f"team-with-a-long-name-{i:02d}", 25, cells) for i in range(40)]
    digest = Digest(
        round_id=1,
        period="2026-W48",
        provisional=False,
        closes_at=datetime(2026, 11, 29, tzinfo=UTC),
        min_group_size=5,
        invited=1000,
        respondents=900,
        response_rate=0.9,
        previous_response_rate=0.85,
        dimensions=lines,
        teams=teams,
        hidden_teams=3,
        focus=Focus("empowerment", "Empowerment", 0.4, "Remove one approval step."),
        comments=["<!channel> " + "long " * 200] * 5,
    )
    message = digest_message(digest, PROMPTS, zone_name="UTC")
    blocks = [b.to_dict() for b in message.blocks]
    assert len(blocks) <= 50
    for block in blocks:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
    rendered = str(blocks)
    assert "team-with-a-long-name-39" in rendered
    assert "<!channel>" not in rendered
    assert "50↓" in rendered  # the team cells fell 12 points
    assert "down 5 pts" in rendered
    assert "up 5 pts" in rendered
