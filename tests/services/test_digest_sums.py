"""What publication stores (cells of every grouping, frozen drivers) against the same answers
published in memory, on a history with the awkward cases: a period with two rounds, a
dimension asked through two of its questions, people without a team, leaders."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.analytics import noise
from bot.analytics.anonymity import may_show
from bot.analytics.cells import Observation, publish_period
from bot.analytics.findings import driver_findings
from bot.clock import ManualClock
from bot.db import published as store
from bot.db import repositories as repo
from bot.db.engine import session_scope
from bot.db.models import Answer, RoundKind
from bot.runtime import build_deps
from bot.services.context import Deps
from bot.services.digest import gated_periods
from bot.services.publication import publish_due_weeks
from bot.settings import Settings

MINIMUM = 3
NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


@pytest.fixture
def deps(database_url: str) -> Iterator[Deps]:
    settings = Settings.model_validate(
        {
            "DATABASE_URL": database_url,
            "CX_PSEUDONYM_KEY": "digest-sums-pseudonym-key",
            "CX_MIN_GROUP_SIZE": str(MINIMUM),
        }
    )
    built = build_deps(settings, clock=ManualClock(NOW))
    yield built
    built.engine.dispose()


def _history(deps: Deps) -> tuple[list[Observation], list[str]]:
    """Four weeks of answers from 60 people, stored and returned as observations."""
    bank = deps.prompts.bank
    dimension_of = {q.id: d.id for d in bank.dimensions for q in d.questions}
    twice = next(d for d in bank.rotating_dimensions if len(d.questions) >= 2)
    others = [d.questions[0].id for d in bank.rotating_dimensions if d.id != twice.id]
    rng = random.Random(3)
    people = [
        (f"{rng.getrandbits(64):016x}", rng.choice(["a", "b", "c", None]), rng.random() < 0.2)
        for _ in range(60)
    ]
    # Each person's own level, so that the person share is not simply 0.
    mood = {pseudonym: rng.gauss(0, 0.8) for pseudonym, _, _ in people}
    observations: list[Observation] = []
    periods = [f"2026-W{week}" for week in range(44, 48)]
    with session_scope(deps.engine) as session:
        for week, period in enumerate(periods):
            rounds = [[bank.outcome_questions[-1], *others[2 * week : 2 * week + 2]]]
            if week == 2:  # an ad hoc round beside the scheduled one, asking `twice` twice
                rounds.append(
                    [bank.outcome_questions[-1], twice.questions[0].id, twice.questions[1].id]
                )
            for number, questions in enumerate(rounds):
                opened = NOW - timedelta(weeks=len(periods) - week, hours=number)
                created = repo.create_round(
                    session=session,
                    kind=RoundKind.SCHEDULED if number == 0 else RoundKind.ADHOC,
                    schedule_key=f"{period}:{number}",
                    period=period,
                    opened_at=opened,
                    closes_at=opened + timedelta(days=3),
                    question_ids=questions,
                )
                assert created is not None
                assert created.id is not None
                # Team and leader flag beside the answers, as an import leaves them.
                store.add_pending_roster(session=session, round_id=created.id, roster=people)
                for pseudonym, team, is_leader in people:
                    for question in questions:
                        if rng.random() < 0.15:
                            continue  # skipped
                        score = max(1, min(5, round(3 + mood[pseudonym] + rng.gauss(0, 0.8))))
                        session.add(
                            Answer(
                                round_id=created.id,
                                respondent=pseudonym,
                                question_id=question,
                                score=score,
                            )
                        )
                        observations.append(
                            Observation(
                                period, pseudonym, team, is_leader, dimension_of[question], score
                            )
                        )
    return observations, periods


def test_each_published_week_is_its_answers_published_in_memory(deps: Deps) -> None:
    observations, periods = _history(deps)
    assert publish_due_weeks(deps) == periods
    with session_scope(deps.engine) as session:
        found = gated_periods(session, periods, minimum=MINIMUM)
    expected = [
        publish_period(p, [o for o in observations if o.period == p], MINIMUM).cells
        for p in periods
    ]
    assert found == expected
    # Published once: a second run publishes nothing and changes nothing.
    assert publish_due_weeks(deps) == []
    with session_scope(deps.engine) as session:
        assert gated_periods(session, periods, minimum=MINIMUM) == expected


def test_frozen_drivers_and_person_share_are_those_of_each_respondents_means(
    deps: Deps,
) -> None:
    observations, periods = _history(deps)
    outcome = deps.prompts.bank.outcome_dimension
    totals: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for row in observations:
        total = totals[(row.period, row.respondent, row.dimension)]
        total[0] += row.score
        total[1] += 1
    means = {key: score_sum / n for key, (score_sum, n) in totals.items()}
    pairs: dict[str, Counter[tuple[float, float]]] = defaultdict(Counter)
    behind: dict[str, set[str]] = defaultdict(set)
    for (period, respondent, dimension), value in means.items():
        outcome_mean = means.get((period, respondent, outcome))
        if dimension != outcome and outcome_mean is not None:
            pairs[dimension][(value, outcome_mean)] += 1
            behind[dimension].add(respondent)
    usable = {d: c for d, c in pairs.items() if may_show(len(behind[d]), MINIMUM)}
    expected = [(d.dimension, round(d.rho, 2)) for d in driver_findings(usable) if d.pairs >= 30]
    share = noise.person_share((r, d, value) for (_, r, d), value in means.items())
    publish_due_weeks(deps)
    with session_scope(deps.engine) as session:
        record = store.load_weeks(session=session, periods=[periods[-1]])[periods[-1]]
    assert [(d["dimension"], d["rho"]) for d in record.drivers] == expected
    assert expected
    assert share is not None
    assert share > 0.1
    assert record.week.person_share == pytest.approx(round(share, 2))
