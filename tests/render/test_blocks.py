"""Block Kit output is validated by slack_sdk's models; stay within Slack's limits at scale."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.prompts import load_prompts
from bot.render.comment_modal import comment_modal
from bot.render.escape import escape_text, quote_block
from bot.render.pulse import PulseView, confirmation_message, pulse_message

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


def _dicts(view: PulseView) -> list[dict[str, object]]:
    return [b.to_dict() for b in pulse_message(view, PROMPTS).blocks]  # to_dict() validates


def test_pulse_dm_says_a_statement_is_answered_never_with_what() -> None:
    first = _view().questions[0][0]
    after_one = _dicts(_view(answers={first: 1}))
    after_five = _dicts(_view(answers={first: 5}, commented=frozenset({first})))
    # Slack keeps every version of the DM: whichever score (and comment), the same blocks.
    assert after_one == after_five
    assert after_one != _dicts(_view())
    text = str(after_one)
    assert "primary" not in text
    assert "Recorded" not in text
    assert "Comment saved" not in text
    # The scale's labels appear on the buttons only, the same five for everyone.
    prose = str([b for b in after_one if b["type"] != "actions"])
    assert not any(point.label in prose for point in BANK.scale)
    assert "Answered. Your choice is shown only to you" in text
    assert "you can change it until Sun 29 Nov, 10:00 (Europe/London)" in text
    assert "1 of 5 answered" in text
    assert "Sun 29 Nov, 10:00 (Europe/London)" in text
    assert pulse_message(_view(), PROMPTS).text  # plain-text fallback for notifications


def test_confirmation_names_each_choice_with_its_escaped_statement() -> None:
    known = _view().questions[:2]
    retired = ("retired.question", "Ask <!channel> & <https://evil.example|click> first")
    view = _view(
        questions=(*known, retired),
        answers={known[0][0]: 4, retired[0]: 2},
        commented=frozenset({retired[0]}),
    )
    message = confirmation_message(view, PROMPTS)
    assert message is not None
    blocks = [b.to_dict() for b in message.blocks]  # validates
    statement = PROMPTS.statement(known[0][0], known[0][1])
    lines = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert lines == [
        f"Recorded: *Agree* for “{escape_text(statement)}”",
        "Recorded: *Disagree* for “Ask &lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;"
        " first” :speech_balloon: Comment saved.",
    ]
    assert [b["block_id"] for b in blocks[:2]] == [
        f"confirmed:{known[0][0]}",
        "confirmed:retired.question",
    ]
    footer = str(blocks[-1])
    assert "Only you can see this" in footer
    assert "until Sun 29 Nov, 10:00 (Europe/London)" in footer
    assert "<!channel>" not in message.text
    assert confirmation_message(_view(), PROMPTS) is None  # nothing answered, nothing to say
    french = confirmation_message(view, PROMPTS.for_locale("fr-FR"))
    assert french is not None
    assert french.text.startswith("Enregistré : *D'accord* pour « ")


def test_comment_modal_defaults_to_the_last_statement() -> None:
    modal = comment_modal(_view(), PROMPTS, comment_minimum=10).to_dict()
    select = modal["blocks"][1]["element"]
    assert select["initial_option"]["value"] == _view().questions[-1][0]
    assert modal["blocks"][2]["element"]["max_length"] == 3000


def test_escaping() -> None:
    assert escape_text("<!channel> & <http://x|y>") == "&lt;!channel&gt; &amp; &lt;http://x|y&gt;"
    assert quote_block("a\n<!here>") == ">a\n>&lt;!here&gt;"
    assert len(quote_block("x" * 2000)) <= 501
