"""Answers of "doesn't apply to me" through publication on a real database: the person counts
as a respondent (participation, the comment rule), the answer is in no cell, n, distribution or
driver pair, and the drivers' outcome is each person's mean over the outcome items."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.analytics.respondents import driver_pair_counts, period_means
from bot.db import repositories as repo
from bot.db.models import NOT_APPLICABLE, Answer, PublishedCell, PublishedWeek
from bot.runtime import build_deps
from bot.services.context import Deps
from bot.services.importer import import_answers, read_file
from bot.settings import Settings

KEY = "not-applicable-test-pseudonym-key"
HEADER = "date,respondent,team,is_leader,question_id,score,comment\n"
WEEK = "2026-W48"
MONDAY = "2026-11-23"


@pytest.fixture
def deps(database_url: str) -> Iterator[Deps]:
    settings = Settings.model_validate(
        {"DATABASE_URL": database_url, "CX_PSEUDONYM_KEY": KEY, "CX_TIMEZONE": "Europe/London"}
    )
    built = build_deps(settings)
    yield built
    built.engine.dispose()


def _import(deps: Deps, tmp_path: Path, rows: list[tuple[str, str, str]]) -> None:
    """(respondent, question, score) rows, all in WEEK, through `cxpulse import`'s path (which
    publishes the closed week at once, through `publish_week`)."""
    body = "".join(
        f"{MONDAY},{who},Support,false,{question},{score},\n" for who, question, score in rows
    )
    path = tmp_path / "history.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    import_answers(deps, read_file(path, deps.prompts.bank.known_question_ids))


def _cells(deps: Deps) -> dict[tuple[str, str], PublishedCell]:
    with Session(deps.engine) as session:
        rows = session.exec(select(PublishedCell).where(PublishedCell.period == WEEK)).all()
    return {(c.dimension, c.group_kind): c for c in rows}


def _week(deps: Deps) -> PublishedWeek:
    with Session(deps.engine) as session:
        week = session.get(PublishedWeek, WEEK)
    assert week is not None
    return week


def test_doesnt_apply_counts_as_answered_but_in_no_figure(deps: Deps, tmp_path: Path) -> None:
    bank = deps.prompts.bank
    behaviour, outcome = bank.outcome_questions[:2]
    other = bank.dimension("empowerment").questions[0].id
    rows = [(f"p{n}", outcome, score) for n, score in enumerate(["4", "4", "5", "2", "3"], 1)]
    rows += [
        ("p2", behaviour, "2"),  # p2's outcome is the mean of both items: 3.0
        ("p1", other, "3"),
        ("p2", other, "5"),
        ("p6", outcome, "n/a"),
        ("p6", other, "4"),  # answered empowerment, but has no outcome score to pair it with
        ("p7", outcome, "N/A"),  # answered only "doesn't apply"
        ("p7", other, "n/a"),
    ]
    _import(deps, tmp_path, rows)

    with Session(deps.engine) as session:
        stored = session.exec(select(Answer)).all()
    assert sorted(a.score for a in stored).count(NOT_APPLICABLE) == 3
    week = _week(deps)
    assert week.respondents == 7  # p6 and p7 answered: they count for participation

    cells = _cells(deps)
    org = cells[("customer_outcome", "org")]
    assert org.people == 5  # not p6 or p7
    counts = (org.score_1, org.score_2, org.score_3, org.score_4, org.score_5)
    assert counts == (0, 2, 1, 2, 1)  # p2's two outcome answers, no zero counted as any point
    assert ("empowerment", "org") not in cells  # 3 scored answers: under the minimum of 5

    # The drivers' raw material has no "doesn't apply": p6's empowerment has no outcome to pair
    # with, p7's is not an answer to pair at all; p2 pairs with the mean of both outcome items.
    with Session(deps.engine) as session:
        round_ids = [r.id for r in repo.rounds_in_period(session=session, period=WEEK) if r.id]
        columns = repo.respondent_answers(session=session, round_ids=round_ids)
    assert NOT_APPLICABLE not in columns.scores
    assert len(columns.scores) == len(stored) - 3
    means = period_means(columns.periods, columns.respondents, columns.dimensions, columns.scores)
    pairs = driver_pair_counts(means, bank.outcome_dimension)
    assert dict(pairs["empowerment"]) == {(3.0, 4.0): 1, (5.0, 3.0): 1}


def test_a_week_can_have_enough_respondents_and_no_cell_that_may_be_shown(
    deps: Deps, tmp_path: Path
) -> None:
    outcome = deps.prompts.bank.outcome_questions[-1]
    rows = [(f"p{n}", outcome, "4") for n in range(1, 5)] + [("p5", outcome, "n/a")]
    _import(deps, tmp_path, rows)
    assert _week(deps).respondents == 5  # five people answered: participation may be shown
    assert _cells(deps) == {}  # but only four scored the outcome: below the minimum, hidden
