"""The digest as a leader reads it: findings first, one unit, within Slack's limits."""

from __future__ import annotations

from datetime import date

from bot.analytics.findings import (
    ActionFollowUp,
    Driver,
    Findings,
    Reading,
    SayDoGap,
    Silo,
    TeamFindings,
    Verdict,
)
from bot.analytics.headlines import Kind, headlines
from bot.analytics.noise import Distribution
from bot.db.published import WeekComment
from bot.prompts import load_prompts
from bot.render.digest import digest_message, is_digest, notification_text
from bot.render.ids import ActionId
from bot.services.commitments import Commitment
from bot.services.digest import Focus, FollowUp, Participation, Report

PROMPTS = load_prompts()
BANK = PROMPTS.bank
STEADY = Distribution((40, 90, 220, 380, 170))  # 61% favourable


def _reading(dimension: str, *, delta: float, favourable: float, real: bool) -> Reading:
    change = Verdict(delta, favourable, 0.001 if real else 0.5, real=real, tested=True)
    return Reading(
        dimension=dimension,
        period="2026-W48",
        respondents=900,
        distribution=STEADY,
        vs_previous=Verdict(delta / 3, favourable / 3, 0.5, tested=True),
        vs_baseline=change,
        recent=Verdict(None),
        previous_period="2026-W47",
    )


def _findings(*, teams: int = 3, real: bool = True) -> Findings:
    dimensions = [d.id for d in BANK.dimensions]
    readings = [
        _reading(
            d,
            delta=-0.4 if i == 1 else 0.02,
            favourable=-0.12 if i == 1 else 0.0,
            real=real and i == 1,
        )
        for i, d in enumerate(dimensions)
    ]
    team_list = [
        TeamFindings(
            f"team-with-a-long-name-{i:02d}",
            25,
            [
                _reading(d, delta=-0.9, favourable=-0.35, real=real and i == 0 and j == 1)
                for j, d in enumerate(dimensions)
            ],
        )
        for i in range(teams)
    ]
    return Findings(
        period="2026-W48",
        dimensions=readings,
        teams=team_list,
        say_do=[
            SayDoGap("leadership", 4.4, 2.9, 8, 800, Verdict(1.5, None, 1e-6, real, True), 0.9, 0.4)
        ],
        silos=[
            Silo(
                "collaboration",
                1.2,
                "team-a",
                "team-<b>",
                teams,
                Verdict(1.2, None, 1e-5, real, True),
                0.8,
                0.3,
            )
        ],
        drivers=[Driver("empowerment", 0.45, 0.3, 0.58, 600)],
    )


def _report(findings: Findings, **extra: object) -> Report:
    values: dict[str, object] = {
        "period": "2026-W48",
        "min_group_size": 5,
        "participation": Participation(1000, 900, 0.9),
        "previous_rate": 0.85,
        "findings": findings,
        "comment_minimum": 10,
    }
    report = Report(**{**values, **extra})  # type: ignore[arg-type]
    report.headlines = headlines(findings, tuple(range(len(findings.follow_ups))))
    return report


def _rendered(report: Report) -> tuple[str, list[dict[str, object]]]:
    message = digest_message(report, PROMPTS, zone_name="UTC")
    blocks = [b.to_dict() for b in message.blocks]  # to_dict() validates
    return message.text, blocks


def test_findings_lead_biggest_first_in_percent_favourable() -> None:
    report = _report(_findings())
    text, blocks = _rendered(report)
    kinds = [(h.kind, h.team) for h in report.headlines]
    # Silo 50 pts, say-do 50 pts, team fall 35 pts, organisation fall 12 pts.
    assert kinds[-1] == (Kind.CHANGE, None)
    assert [round(h.size) for h in report.headlines] == sorted(
        (round(h.size) for h in report.headlines), reverse=True
    )
    first = blocks[1]["text"]["text"]  # type: ignore[index]
    assert first.startswith("*What changed*")
    assert (
        "*team-with-a-long-name-00: Empowerment* fell to 61% favourable (likely 58%-64%), "
        "from about 96% over the previous 8 weeks; beyond normal swings."
    ) in first
    assert (
        "*Say-do gap on Leadership walks the talk*: leaders 90% favourable, everyone else 40%"
        in first
    )
    assert (
        "*Silo on Cross-team collaboration*: team-a at 80% favourable, team-&lt;b&gt; at 30%"
        in first
    )
    assert "*Organisation: Empowerment* fell to 61% favourable" in first
    # The notification names the biggest findings, never the response rate.
    assert text.startswith("CX pulse 2026-W48: ")
    assert "silo on Cross-team collaboration" in text
    assert "Response rate" not in text
    assert "(+1 more)" in text
    # No mean scores and no "points of the mean" anywhere a leader reads.
    rendered = str(blocks)
    assert " of 5 " not in rendered
    assert "mean " not in rendered.lower()


def test_dimensions_without_real_change_collapse_into_one_line() -> None:
    _, blocks = _rendered(_report(_findings()))
    standing = next(
        b["text"]["text"]  # type: ignore[index]
        for b in blocks
        if b["type"] == "section" and "Where each dimension stands" in b["text"]["text"]  # type: ignore[index]
    )
    lines = standing.splitlines()
    assert lines[1].startswith("• *Empowerment*: 61% (likely 58%-64%), fell from about 73%")
    assert lines[2].startswith("No real change: Customer-first outcome 61%, Employees first 61%")
    assert len(lines) == 3


def test_a_steady_week_says_so_and_names_strongest_and_weakest() -> None:
    findings = _findings(real=False)
    findings.dimensions[3] = _reading("leadership", delta=0.0, favourable=0.0, real=False)
    low = Distribution((300, 300, 200, 80, 20))
    findings.dimensions[3].distribution = low
    report = _report(findings, participation=Participation(20, None, None))
    text, blocks = _rendered(report)
    rendered = str(blocks)
    assert "No real change this week" in rendered
    assert "weakest: Leadership walks the talk (11%)" in rendered
    assert text.startswith("CX pulse 2026-W48: No real change this week")
    assert "fewer than 5 of the 20 people invited answered" in rendered


def test_forty_teams_stay_within_slack_limits_and_escape_team_names() -> None:
    findings = _findings(teams=40)
    for team in findings.teams:
        team.readings[1].vs_baseline.real = True
    report = _report(
        findings,
        hidden_teams=3,
        comments=[WeekComment("<!channel> " + "long " * 200, None)] * 5,
        comments_total=23,
        focus=Focus("empowerment", True, "Remove one approval step."),
    )
    text, blocks = _rendered(report)
    assert len(blocks) <= 50
    assert len(text) <= 600
    for block in blocks:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000  # type: ignore[index]
    rendered = str(blocks)
    assert "<!channel>" not in rendered
    assert "team-&lt;b&gt;" in rendered
    assert "5 of 23 comments" in rendered
    assert is_digest({"blocks": blocks})


def test_focus_has_a_button_and_comments_a_read_all_button() -> None:
    report = _report(
        _findings(),
        comments=[WeekComment(f"comment {i}", None) for i in range(5)],
        comments_total=23,
        focus=Focus("empowerment", True, "Remove one approval step."),
    )
    _, blocks = _rendered(report)
    focus = next(b for b in blocks if b.get("block_id") == "digest_focus")
    assert focus["accessory"]["action_id"] == ActionId.COMMIT_FOCUS  # type: ignore[index]
    assert focus["accessory"]["value"] == "2026-W48|empowerment"  # type: ignore[index]
    assert "I'll take this on" in str(focus)
    read_all = next(b for b in blocks if b.get("block_id") == "digest_comments")
    assert read_all["elements"][0]["action_id"] == ActionId.READ_ALL_COMMENTS  # type: ignore[index]
    assert "Read all 23" in str(read_all)
    # All five shown, in the order given (fixed at publication), not reshuffled per render.
    quotes = [
        line
        for b in blocks
        if b["type"] == "section"
        for line in b["text"]["text"].splitlines()
        if line.startswith(">")
    ]  # type: ignore[index]
    assert quotes == [f">comment {i}" for i in range(5)]


def test_a_due_commitment_leads_with_its_measured_result() -> None:
    findings = _findings(real=False)
    findings.follow_ups = [
        ActionFollowUp("empowerment", "2026-W44", Verdict(0.5, 0.2, 1e-4, True, True), 0.7, 0.5)
    ]
    report = _report(
        findings,
        follow_ups=[
            FollowUp(
                "empowerment",
                "Refunds up to $200 without asking",
                "2026-W44",
                0.5,
                True,
                owner="ULEAD",
                due_on=date(2026, 11, 27),
                now=0.7,
                before=0.5,
                action_id=1,
            )
        ],
        commitments=[
            Commitment(
                2,
                "purpose",
                "Customer story at every all-hands",
                "UOTHER",
                date(2026, 12, 20),
                "2026-W48",
            )
        ],
    )
    text, blocks = _rendered(report)
    first = blocks[1]["text"]["text"]  # type: ignore[index]
    assert first.splitlines()[1] == (
        "• *Commitment due on Empowerment* (Refunds up to $200 without asking, led by <@ULEAD>): "
        "Empowerment rose to 70% favourable since 2026-W44, from about 50%; beyond normal swings."
    )
    assert "commitment on Empowerment: rose to 70% favourable" in text
    rendered = str(blocks)
    assert "*Commitments in progress*" in rendered
    assert "Customer story at every all-hands - led by <@UOTHER>, due 2026-12-20" in rendered


def test_notification_text_is_what_blocks_lead_with() -> None:
    report = _report(_findings())
    assert (
        notification_text(report, PROMPTS) == digest_message(report, PROMPTS, zone_name="UTC").text
    )


def test_a_commitment_not_asked_since_says_so_instead_of_no_change() -> None:
    findings = _findings(real=False)
    findings.follow_ups = [ActionFollowUp("purpose", "2026-W46", Verdict(None))]
    report = _report(
        findings,
        follow_ups=[
            FollowUp("purpose", "Story time", "2026-W46", None, False, owner=None, action_id=3)
        ],
    )
    _, blocks = _rendered(report)
    first = blocks[1]["text"]["text"]  # type: ignore[index]
    assert "Purpose has not been asked since 2026-W46, so nothing can be measured yet" in first
    assert "led by nobody named" in first


def test_the_commitment_and_comments_modals_are_valid_block_kit() -> None:
    from bot.render.comments_modal import comments_modal
    from bot.render.commitment_modal import commitment_modal
    from bot.services.comments import CommentsPage

    modal = commitment_modal(
        PROMPTS, dimension="empowerment", owner="U1", due_on=date(2026, 12, 30), channel="C1"
    ).to_dict()
    assert modal["callback_id"] == "commitment_modal"
    assert len(modal["title"]["text"]) <= 24
    page = CommentsPage(
        period="2026-W48",
        dimension=None,
        page=1,
        pages=3,
        total=25,
        comments=[WeekComment("x" * 3000, "empowerment")] * 10,
        dimensions=["empowerment", "purpose"],
    )
    view = comments_modal(PROMPTS, page).to_dict()
    assert len(view["blocks"]) <= 100
    for block in view["blocks"]:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
    actions = [
        e["action_id"] for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]
    assert actions == [ActionId.COMMENTS_FILTER, ActionId.COMMENTS_PREVIOUS, ActionId.COMMENTS_NEXT]
    assert "page 2 of 3" in str(view)
