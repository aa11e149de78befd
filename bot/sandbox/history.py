"""Synthetic pulse history as the CSV `cxpulse import` reads: a seeded organisation answering
every dimension each week, with the planted effects of a `Story` (or none), and, when asked,
some "doesn't apply to me" answers (score "n/a" in the CSV)."""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.analytics.cells import Observation, PeriodCells, publish_period
from bot.analytics.findings import BASELINE_PERIODS
from bot.analytics.noise import person_share
from bot.analytics.periods import period_key
from bot.db.models import NOT_APPLICABLE
from bot.prompts import QuestionBank
from bot.sandbox.org import (
    Story,
    SyntheticOrg,
    build_org,
    doesnt_apply,
    maybe_comment,
    simulated_score,
    will_respond,
)

COLUMNS = ("date", "respondent", "team", "is_leader", "question_id", "score", "comment")


@dataclass(frozen=True, slots=True)
class HistoryRow:
    day: date
    respondent: str
    team: str
    is_leader: bool
    question_id: str
    score: int
    comment: str | None


def generate_history(
    org: SyntheticOrg,
    questions: Mapping[str, Sequence[str]],
    story: Story,
    *,
    seed: int,
    weeks: int,
    last_monday: date,
    story_weeks: int | None = None,
    not_applicable: bool = False,
) -> list[HistoryRow]:
    """`weeks` weekly rounds ending in the week of `last_monday`; each respondent answers one
    statement of every dimension (statements take turns) on a day of that week.

    `story_weeks` is the length of the whole story when the history is only its start (the
    demo continues it live); by default the story ends with the history.

    `not_applicable` lets people answer "doesn't apply to me" now and then (`org.doesnt_apply`),
    drawn from a generator of its own, so the scores everyone else gives stay the same.
    """
    rng = random.Random(seed)
    not_applicable_rng = random.Random(f"{seed}:not-applicable")
    rows: list[HistoryRow] = []
    first_monday = last_monday - timedelta(weeks=weeks - 1)
    for week in range(weeks):
        monday = first_monday + timedelta(weeks=week)
        week_swing = rng.gauss(0.0, story.week_swing)
        team_swing = {team: rng.gauss(0.0, story.team_week_swing) for team in org.teams}
        for person in org.people:
            if not will_respond(person, rng):
                continue
            day = monday + timedelta(days=rng.randrange(5))
            commented = False
            for dimension, statements in questions.items():
                score = simulated_score(
                    person,
                    dimension,
                    week,
                    rng,
                    story,
                    weeks=story_weeks or weeks,
                    swing=week_swing + team_swing[person.team],
                )
                if not_applicable and doesnt_apply(person, dimension, not_applicable_rng):
                    score = NOT_APPLICABLE
                comment = None if commented else maybe_comment(rng)
                commented = commented or comment is not None
                rows.append(
                    HistoryRow(
                        day=day,
                        respondent=person.user_id,
                        team=person.team,
                        is_leader=person.is_leader,
                        question_id=statements[week % len(statements)],
                        score=score,
                        comment=comment,
                    )
                )
    return rows


def history_csv(rows: Iterable[HistoryRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(
            (
                row.day.isoformat(),
                row.respondent,
                row.team,
                "true" if row.is_leader else "false",
                row.question_id,
                "n/a" if row.score == NOT_APPLICABLE else row.score,
                row.comment or "",
            )
        )
    return out.getvalue()


@dataclass(frozen=True, slots=True)
class SyntheticReport:
    """Gated cells of a synthetic history and the person share, ready for `build_findings`."""

    history: list[PeriodCells]
    person_share: float | None


def synthetic_report(
    bank: QuestionBank,
    story: Story,
    *,
    seed: int,
    people_per_team: int = 20,
    weeks: int = 12,
    minimum: int = 5,
) -> SyntheticReport:
    """A seeded organisation's history published in memory, as publication would."""
    org = build_org(seed, people_per_team=people_per_team)
    questions = {d.id: [q.id for q in d.questions] for d in bank.dimensions}
    dimension_of = {q: d for d, ids in questions.items() for q in ids}
    rows = generate_history(
        org, questions, story, seed=seed, weeks=weeks, last_monday=date(2026, 11, 16)
    )
    observations = [
        Observation(
            period=period_key(datetime.combine(r.day, time(12), tzinfo=UTC), ZoneInfo("UTC")),
            respondent=r.respondent,
            team=r.team,
            is_leader=r.is_leader,
            dimension=dimension_of[r.question_id],
            score=r.score,
        )
        for r in rows
        if r.score != NOT_APPLICABLE  # in no figure, as publication leaves it out
    ]
    by_period: dict[str, list[Observation]] = {}
    for observation in observations:
        by_period.setdefault(observation.period, []).append(observation)
    periods = sorted(by_period)
    recent = set(periods[-(BASELINE_PERIODS + 1) :])
    share = person_share(
        (o.respondent, o.dimension, float(o.score)) for o in observations if o.period in recent
    )
    return SyntheticReport([publish_period(p, by_period[p], minimum).cells for p in periods], share)
