"""Synthetic pulse history as the CSV `cxpulse import` reads: a seeded organisation answering
every dimension each week, with the planted effects of a `Story` (or none)."""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from bot.sandbox.org import Story, SyntheticOrg, maybe_comment, simulated_score, will_respond

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
) -> list[HistoryRow]:
    """`weeks` weekly rounds ending in the week of `last_monday`; each respondent answers one
    statement of every dimension (statements take turns) on a day of that week."""
    rng = random.Random(seed)
    rows: list[HistoryRow] = []
    first_monday = last_monday - timedelta(weeks=weeks - 1)
    for week in range(weeks):
        monday = first_monday + timedelta(weeks=week)
        for person in org.people:
            if not will_respond(person, rng):
                continue
            day = monday + timedelta(days=rng.randrange(5))
            commented = False
            for dimension, statements in questions.items():
                score = simulated_score(person, dimension, week, rng, story, weeks=weeks)
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
                row.score,
                row.comment or "",
            )
        )
    return out.getvalue()
