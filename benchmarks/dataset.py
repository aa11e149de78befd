"""A large answer table, loaded straight into the database (not through the click path)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Engine, text

from bot.analytics.rotation import plan_round
from bot.prompts import Prompts
from bot.pseudonym import pseudonym

BATCH = 20_000


def load_answers(
    engine: Engine,
    prompts: Prompts,
    *,
    people: int,
    weeks: int,
    teams: int,
    key: bytes,
    seed: int = 1,
) -> int:
    """`weeks` weekly rounds of 4 questions each, answered by every one of `people`."""
    rng = random.Random(seed)
    bank = prompts.bank
    first_monday = date(2026, 11, 16) - timedelta(weeks=weeks - 1)
    respondents = [pseudonym(key, f"U{i:06d}") for i in range(people)]
    mood = [rng.gauss(0, 0.4) for _ in range(people)]
    now = datetime.now(UTC).replace(tzinfo=None)
    total = 0
    with engine.begin() as connection:
        for week in range(weeks):
            monday = first_monday + timedelta(weeks=week)
            opened = datetime.combine(monday, time(10))
            year, number, _ = monday.isocalendar()
            period = f"{year}-W{number:02d}"
            round_id = connection.execute(
                text(
                    "INSERT INTO pulse_round (kind, schedule_key, period, sequence, opened_at,"
                    " closes_at) VALUES ('scheduled', :key, :period, :sequence, :opened, :closes)"
                    " RETURNING id"
                ),
                {
                    "key": period,
                    "period": period,
                    "sequence": week,
                    "opened": opened,
                    "closes": opened + timedelta(days=5),
                },
            ).scalar_one()
            rotating = [[q.id for q in d.questions] for d in bank.rotating_dimensions]
            questions = plan_round(rotating, bank.outcome_question, week, 4)
            for position, question in enumerate(questions):
                connection.execute(
                    text(
                        "INSERT INTO round_question (round_id, question_id, position)"
                        " VALUES (:r, :q, :p)"
                    ),
                    {"r": round_id, "q": question, "p": position},
                )
            rows = [
                {
                    "round_id": round_id,
                    "respondent": respondents[i],
                    "team": f"team-{i % teams:02d}",
                    "is_leader": i % 20 == 0,
                    "question_id": question,
                    "score": max(1, min(5, round(3.6 + mood[i] + rng.gauss(0, 0.7)))),
                    "now": now,
                }
                for i in range(people)
                for question in questions
            ]
            for start in range(0, len(rows), BATCH):
                connection.execute(
                    text(
                        "INSERT INTO answer (round_id, respondent, team, is_leader, question_id,"
                        " score, created_at, updated_at) VALUES (:round_id, :respondent, :team,"
                        " :is_leader, :question_id, :score, :now, :now)"
                    ),
                    rows[start : start + BATCH],
                )
            total += len(rows)
    return total
