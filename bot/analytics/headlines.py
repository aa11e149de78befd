"""The findings a leader should read first, biggest first, in one unit: % favourable.

The statistics test means (bot.analytics.findings); what is shown is the favourable share
before and after, over the same weeks the test compared, so every headline is a translation
of a tested claim, never a new one. Pure: findings in, headlines out; wording is the
renderer's job (bot.render.digest, copy in prompts/).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.analytics.findings import ActionFollowUp, Findings, Reading, Verdict
from bot.analytics.noise import wilson_interval

# A favourable share that moved less than this against its mean's direction is called
# "mixed" (the mean fell while the share barely moved) and says so instead of a share change.
MIXED_BELOW = 0.005


class Kind(StrEnum):
    CHANGE = "change"
    SAY_DO = "say_do"
    SILO = "silo"
    FOLLOW_UP = "follow_up"


class Span(StrEnum):
    """Which comparison a change came from (the weeks its "before" covers)."""

    PREVIOUS = "previous"  # against the last week it was asked
    BASELINE = "baseline"  # against the 8 weeks before
    RECENT = "recent"  # the last 4 weeks against the 8 before them
    QUARTER = "quarter"  # this quarter against the last


@dataclass(frozen=True, slots=True)
class Headline:
    """One real finding. Shares are 0-1; `size` (percentage points) orders them."""

    kind: Kind
    dimension: str
    size: float
    direction: str = "none"  # "up" / "down" for changes and follow-ups
    team: str | None = None  # None: the organisation
    now: float | None = None  # change / follow-up: the latest share; say-do: leaders; silo: top
    before: float | None = None  # change / follow-up: before; say-do: the rest; silo: bottom
    low: float | None = None  # the likely range of `now` (95%), for a single week's reading
    high: float | None = None
    span: Span | None = None
    previous_period: str | None = None
    highest: str | None = None  # silo: the teams at either end
    lowest: str | None = None
    mean_delta: float | None = None  # what was tested, in points of the 1-5 scale
    mixed: bool = False  # the share moved against (or hardly with) the tested mean
    real: bool = True  # a follow-up is reported whether or not its dimension moved
    follow_up: int | None = None  # index into the report's follow-ups


_SPANS = (Span.PREVIOUS, Span.BASELINE, Span.RECENT, Span.QUARTER)


def strongest_change(reading: Reading) -> tuple[Span, Verdict] | None:
    """The reading's real change with the largest tested move, and which comparison it is."""
    real = [
        (span, v)
        for span, v in zip(_SPANS, reading.verdicts(), strict=True)
        if v.real and v.delta is not None
    ]
    return max(real, key=lambda item: abs(item[1].delta or 0.0)) if real else None


def likely_range(reading: Reading) -> tuple[float, float]:
    """Where the latest week's favourable share likely lies (95% Wilson interval)."""
    dist = reading.distribution
    return wilson_interval(dist.favourable, dist.n)


def _is_mixed(verdict: Verdict) -> bool:
    delta, favourable = verdict.delta or 0.0, verdict.delta_favourable
    if favourable is None:
        return True
    return favourable * delta <= 0 or abs(favourable) < MIXED_BELOW


def _change(reading: Reading, team: str | None) -> Headline | None:
    found = strongest_change(reading)
    if found is None:
        return None
    span, verdict = found
    delta = verdict.delta or 0.0
    now = reading.favourable_share
    favourable = verdict.delta_favourable or 0.0
    low, high = likely_range(reading)
    return Headline(
        kind=Kind.CHANGE,
        dimension=reading.dimension,
        size=abs(favourable) * 100,
        direction="up" if delta > 0 else "down",
        team=team,
        now=now,
        before=min(1.0, max(0.0, now - favourable)),
        low=low,
        high=high,
        span=span,
        previous_period=reading.previous_period if span is Span.PREVIOUS else None,
        mean_delta=delta,
        mixed=_is_mixed(verdict),
    )


def _follow_up(index: int, follow: ActionFollowUp) -> Headline:
    verdict = follow.verdict
    delta = verdict.delta or 0.0
    real = verdict.real and verdict.delta is not None
    size = abs(verdict.delta_favourable or 0.0) * 100 if real else 0.0
    return Headline(
        kind=Kind.FOLLOW_UP,
        dimension=follow.dimension,
        size=size,
        direction=("up" if delta > 0 else "down") if real else "none",
        now=follow.after_favourable,
        before=follow.before_favourable,
        mean_delta=verdict.delta,
        mixed=real and _is_mixed(verdict),
        real=real,
        follow_up=index,
    )


def headlines(findings: Findings, follow_ups: tuple[int, ...] = ()) -> list[Headline]:
    """Every real finding of a report, biggest first: changes of the organisation and of
    teams, say-do gaps, silos, and the follow-ups at `follow_ups` (indices into
    `findings.follow_ups` of commitments due now, reported whether or not anything moved)."""
    found: list[Headline] = []
    for reading in findings.dimensions:
        if (headline := _change(reading, None)) is not None:
            found.append(headline)
    for team in findings.teams:
        for reading in team.readings:
            if (headline := _change(reading, team.team)) is not None:
                found.append(headline)
    for gap in findings.say_do:
        if gap.verdict.real:
            found.append(
                Headline(
                    kind=Kind.SAY_DO,
                    dimension=gap.dimension,
                    size=abs(gap.leaders_favourable - gap.others_favourable) * 100,
                    direction="up" if gap.gap > 0 else "down",
                    now=gap.leaders_favourable,
                    before=gap.others_favourable,
                    mean_delta=gap.gap,
                )
            )
    for silo in findings.silos:
        if silo.verdict.real:
            found.append(
                Headline(
                    kind=Kind.SILO,
                    dimension=silo.dimension,
                    size=abs(silo.highest_favourable - silo.lowest_favourable) * 100,
                    now=silo.highest_favourable,
                    before=silo.lowest_favourable,
                    highest=silo.highest,
                    lowest=silo.lowest,
                    mean_delta=silo.spread,
                )
            )
    found += [_follow_up(i, findings.follow_ups[i]) for i in follow_ups]
    # Biggest first; a commitment's follow-up leads among equals (leaders asked for it).
    order = {Kind.FOLLOW_UP: 0, Kind.CHANGE: 1, Kind.SAY_DO: 2, Kind.SILO: 3}
    return sorted(
        found,
        key=lambda h: (-round(h.size), order[h.kind], h.team or "", h.dimension),
    )
