"""A large answer table, bulk-loaded straight into the database (COPY on PostgreSQL, one
executemany on SQLite), not through the app's per-click path."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Engine, text

from bot.analytics.rotation import plan_round, round_length
from bot.prompts import Prompts
from bot.pseudonym import pseudonym

QUESTIONS_PER_ROUND = 4
LAST_MONDAY = date(2026, 11, 16)
COLUMNS = "round_id, respondent, question_id, score, click_order"
Row = tuple[int, str, str, int, int]
# Team and leader flag sit beside the answers until publication, as an import leaves them.
ROSTER_COLUMNS = "round_id, respondent, team, is_leader"
RosterRow = tuple[int, str, str, bool]


def respondent_id(index: int) -> str:
    """The Slack user id of the index-th synthetic person (answers hold its pseudonym)."""
    return f"U{index:06d}"


def _open_rounds(engine: Engine, prompts: Prompts, weeks: int) -> list[tuple[int, list[str]]]:
    """One closed weekly round per week, ending the week of LAST_MONDAY: (id, its questions)."""
    bank = prompts.bank
    rotating = [[q.id for q in d.questions] for d in bank.rotating_dimensions]
    rounds = []
    with engine.begin() as connection:
        for week in range(weeks):
            monday = LAST_MONDAY - timedelta(weeks=weeks - 1 - week)
            opened = datetime.combine(monday, time(10))
            year, number, _ = monday.isocalendar()
            period = f"{year}-W{number:02d}"
            round_id = connection.execute(
                text(
                    "INSERT INTO pulse_round (kind, schedule_key, period, sequence, opened_at,"
                    " closes_at) VALUES ('scheduled', :period, :period, :sequence, :opened,"
                    " :closes) RETURNING id"
                ),
                {
                    "period": period,
                    "sequence": week,
                    "opened": opened,
                    "closes": opened + timedelta(days=5),
                },
            ).scalar_one()
            questions = plan_round(rotating, bank.outcome_questions, week, QUESTIONS_PER_ROUND)
            connection.execute(
                text(
                    "INSERT INTO round_question (round_id, question_id, position)"
                    " VALUES (:r, :q, :p)"
                ),
                [{"r": round_id, "q": q, "p": i} for i, q in enumerate(questions)],
            )
            rounds.append((int(round_id), questions))
    return rounds


def _rows(
    rounds: list[tuple[int, list[str]]], *, people: int, key: bytes, seed: int
) -> Iterator[Row]:
    """Everyone answers every statement: a stable personal mood plus weekly noise."""
    rng = random.Random(seed)
    respondents = [pseudonym(key, respondent_id(i)) for i in range(people)]
    mood = [rng.gauss(0, 0.4) for _ in range(people)]
    for round_id, questions in rounds:
        for i in range(people):
            for question in questions:
                score = max(1, min(5, round(3.6 + mood[i] + rng.gauss(0, 0.7))))
                yield (round_id, respondents[i], question, score, 0)


def _roster(
    rounds: list[tuple[int, list[str]]], *, people: int, teams: int, key: bytes
) -> Iterator[RosterRow]:
    respondents = [pseudonym(key, respondent_id(i)) for i in range(people)]
    for round_id, _ in rounds:
        for i in range(people):
            yield (round_id, respondents[i], f"team-{i % teams:02d}", i % 20 == 0)


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
    """`weeks` weekly rounds (3 rotating statements and every outcome item), answered by every
    one of `people`; rows loaded."""
    rounds = _open_rounds(engine, prompts, weeks)
    raw = engine.raw_connection()
    try:
        driver: Any = raw.driver_connection
        tables = (
            ("answer", COLUMNS, _rows(rounds, people=people, key=key, seed=seed)),
            (
                "pending_roster",
                ROSTER_COLUMNS,
                _roster(rounds, people=people, teams=teams, key=key),
            ),
        )
        for table, columns, rows in tables:
            if engine.dialect.name == "postgresql":
                with (
                    driver.cursor() as cursor,
                    cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
                ):
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join("?" for _ in columns.split(","))
                driver.executemany(
                    f"INSERT INTO {table} ({columns}) VALUES ({marks})",  # noqa: S608
                    rows,
                )
        raw.commit()
    finally:
        raw.close()
    return people * weeks * round_length(QUESTIONS_PER_ROUND, len(prompts.bank.outcome_questions))
