"""Reports for the picture tests, built by the real pipeline: a seeded organisation's answers
gated by `publish_period` and read by `build_findings`, as `build_digest` would."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import replace

from bot.analytics.cells import Observation, PeriodCells, publish_period
from bot.analytics.findings import build_findings
from bot.prompts import load_prompts
from bot.sandbox.history import synthetic_report
from bot.sandbox.org import Story
from bot.services.digest import Participation, Report

PROMPTS = load_prompts()
BANK = PROMPTS.bank
DIMENSIONS = [d.id for d in BANK.dimensions]
ROTATING = [d.id for d in BANK.rotating_dimensions]


def rotated(history: Sequence[PeriodCells], weeks: int = 4) -> list[PeriodCells]:
    """The history with its last `weeks` weeks asked in rotation, as live rounds ask them:
    the outcome every week, each other dimension in one of the weeks only."""
    out = list(history[: len(history) - weeks])
    for offset, period in enumerate(history[len(history) - weeks :]):
        asked = {BANK.outcome_dimension} | {
            d for i, d in enumerate(ROTATING) if i % weeks == offset
        }
        out.append(
            replace(
                period,
                org={d: c for d, c in period.org.items() if d in asked},
                teams={
                    team: {d: c for d, c in cells.items() if d in asked}
                    for team, cells in period.teams.items()
                },
                leaders={d: c for d, c in period.leaders.items() if d in asked},
                others={d: c for d, c in period.others.items() if d in asked},
            )
        )
    return out


def report_of(
    history: Sequence[PeriodCells],
    *,
    person_share: float | None = None,
    minimum: int = 5,
    hidden_teams: int = 0,
) -> Report:
    findings = build_findings(history, dimensions=DIMENSIONS, person_part=person_share)
    return Report(
        period=history[-1].period,
        min_group_size=minimum,
        participation=Participation(130, 110, 110 / 130),
        previous_rate=None,
        findings=findings,
        hidden_teams=hidden_teams,
        history=list(history),
    )


def story_report(
    story: Story | None = None,
    *,
    seed: int = 1000,
    rotate: bool = False,
    people_per_team: int = 20,
    weeks: int = 14,
    minimum: int = 5,
) -> Report:
    """A synthetic organisation's report: by default the planted story (support's
    Empowerment falls, leaders rate Leadership higher, sales is a silo on collaboration)."""
    found = synthetic_report(
        BANK,
        story or Story(),
        seed=seed,
        people_per_team=people_per_team,
        weeks=weeks,
        minimum=minimum,
    )
    history = rotated(found.history) if rotate else found.history
    return report_of(history, person_share=found.person_share, minimum=minimum)


def many_teams_report(teams: int, *, people: int = 6, weeks: int = 10, seed: int = 3) -> Report:
    """`teams` teams of `people` people answering every dimension for `weeks` weeks, some of
    them too few in a week to be shown."""
    rng = random.Random(seed)
    periods = [f"2026-W{30 + w:02d}" for w in range(weeks)]
    published = []
    for period in periods:
        rows = [
            Observation(period, f"t{t}p{p}", f"team-with-a-long-name-{t:02d}", p == 0, d, score)
            for t in range(teams)
            for p in range(people)
            if rng.random() < 0.9
            for d in DIMENSIONS
            for score in [max(1, min(5, round(rng.gauss(3.7, 0.9))))]
        ]
        published.append(publish_period(period, rows, 5).cells)
    shown = len(published[-1].teams)
    return report_of(published, hidden_teams=teams - shown)
