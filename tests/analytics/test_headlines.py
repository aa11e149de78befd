"""Headlines translate tested claims into % favourable, biggest first."""

from __future__ import annotations

from bot.analytics.findings import ActionFollowUp, Findings, Reading, Verdict
from bot.analytics.headlines import Kind, Span, headlines, likely_range, strongest_change
from bot.analytics.noise import Distribution, wilson_interval


def _reading(**verdicts: Verdict) -> Reading:
    empty = Verdict(None)
    return Reading(
        dimension="empowerment",
        period="2026-W48",
        respondents=20,
        distribution=Distribution((2, 3, 5, 6, 4)),  # 10 of 20 favourable
        vs_previous=verdicts.get("previous", empty),
        vs_baseline=verdicts.get("baseline", empty),
        recent=verdicts.get("recent", empty),
        quarter=verdicts.get("quarter", empty),
        previous_period="2026-W44",
    )


def _findings(*readings: Reading, follow_ups: list[ActionFollowUp] | None = None) -> Findings:
    return Findings("2026-W48", list(readings), [], [], [], [], follow_ups or [])


def test_the_strongest_real_change_is_the_one_reported_with_its_span() -> None:
    reading = _reading(
        previous=Verdict(-0.3, -0.1, 0.01, real=True, tested=True),
        recent=Verdict(-0.6, -0.25, 0.001, real=True, tested=True),
        baseline=Verdict(-0.9, -0.3, 0.2, real=False, tested=True),
    )
    span, verdict = strongest_change(reading) or (None, None)
    assert span is Span.RECENT
    assert verdict is not None
    assert verdict.delta == -0.6
    (found,) = headlines(_findings(reading))
    assert found.kind is Kind.CHANGE
    assert found.direction == "down"
    assert found.now == 0.5
    assert found.before == 0.75
    assert round(found.size) == 25
    assert (found.low, found.high) == wilson_interval(10, 20) == likely_range(reading)
    assert not found.mixed


def test_a_mean_that_fell_while_the_share_rose_is_called_mixed() -> None:
    reading = _reading(baseline=Verdict(-0.4, 0.02, 0.001, real=True, tested=True))
    (found,) = headlines(_findings(reading))
    assert found.mixed


def test_nothing_real_gives_no_headline_but_a_due_follow_up_is_always_reported() -> None:
    reading = _reading(baseline=Verdict(-0.4, -0.1, 0.3, real=False, tested=True))
    flat = ActionFollowUp(
        "empowerment", "2026-W40", Verdict(0.1, 0.01, 0.5, False, True), 0.5, 0.49
    )
    moved = ActionFollowUp("purpose", "2026-W40", Verdict(0.6, 0.2, 1e-4, True, True), 0.7, 0.5)
    found = headlines(_findings(reading, follow_ups=[flat, moved]), (0, 1))
    assert [(h.kind, h.dimension, h.real) for h in found] == [
        (Kind.FOLLOW_UP, "purpose", True),
        (Kind.FOLLOW_UP, "empowerment", False),
    ]
    assert found[0].direction == "up"
    assert found[1].direction == "none"
    assert headlines(_findings(reading)) == []
