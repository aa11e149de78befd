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


def test_a_digest_with_kudos_stays_within_slack_limits_and_escapes_every_story() -> None:
    from bot.analytics.kudos import (
        KudosSummary,
        KudosTally,
        Naming,
        Shown,
        TeamCount,
        WeekQuote,
    )
    from bot.render.digest import digest_message
    from bot.render.ids import BlockId
    from bot.render.kudos import kudos_modal
    from bot.render.settings_modal import settings_modal
    from bot.settings import Settings
    from tests.render.reports import many_teams_report

    report = many_teams_report(40)
    teams = tuple(TeamCount(f"team-<&>-{i:03d}-" + "x" * 100, 9 - i) for i in range(8))
    story = "<!channel> & <https://evil.example|click> " * 100
    report.kudos = KudosSummary(
        KudosTally(total=80, teams=teams, other=36),
        WeekQuote(story, Shown(Naming.TEAM, None, "<b>sales</b>")),
        "C0KUDOS",
    )
    message = digest_message(report, PROMPTS, zone_name="Europe/London")
    blocks = [block.to_dict() for block in message.blocks]  # to_dict() validates
    assert len(blocks) <= 50
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks if b["type"] == "section")
    kudos = [b for b in blocks if b.get("block_id") == "digest_kudos"]
    assert kudos, "the kudos section was cut"
    rendered = str(blocks)
    assert "<!channel>" not in rendered
    assert "team-&lt;&amp;&gt;-000" in rendered
    assert "a colleague on *&lt;b&gt;sales&lt;/b&gt;*" in rendered
    assert "*Kudos this week*: 80 (team-" in rendered
    assert ", other teams 36)" in rendered
    # The digest's footer is always the last block, kudos or not.
    assert "Only groups of" in str(blocks[-1])
    # The shortcut's modal and the settings modal are valid views in both languages.
    for prompts in (PROMPTS, PROMPTS.for_locale("fr-FR")):
        modal = kudos_modal(prompts, recipient="U123", story=story * 2, channel="C0KUDOS")
        shown = modal.to_dict()
        assert shown["blocks"][2]["element"]["initial_value"].endswith("…")
        assert len(shown["blocks"][2]["element"]["initial_value"]) <= 3000
        settings = Settings.model_validate({"CX_KUDOS_CHANNEL": "C0KUDOS"})
        form = settings_modal(settings, prompts).to_dict()
        picker = next(
            b for b in form["blocks"] if b.get("block_id") == BlockId.SETTINGS_KUDOS_CHANNEL
        )
        assert picker["element"]["initial_conversation"] == "C0KUDOS"
        assert picker["optional"] is True
