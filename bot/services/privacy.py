"""A person's right to be forgotten, and the retention purge that keeps only gated aggregates."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import timedelta

from bot.analytics.anonymity import Person, shown_groups
from bot.db import repositories as repo
from bot.db.engine import session_scope
from bot.db.models import AnswerAggregate, PulseRound
from bot.services.context import Deps


@dataclass(frozen=True, slots=True)
class ForgetReport:
    answers: int


def forget_member(deps: Deps, *, slack_user_id: str) -> ForgetReport:
    """Delete everything cx-pulse holds about one person, in one transaction."""
    pseudonym = deps.respondent(slack_user_id)
    with session_scope(deps.engine) as session:
        member = repo.get_member(session=session, slack_user_id=slack_user_id)
        deleted = repo.forget(
            session=session, member=member, pseudonym=pseudonym, now=deps.clock.now()
        )
    deps.reports.invalidate()  # no /cx reply from here on counts the deleted answers
    return ForgetReport(answers=deleted)


@dataclass(frozen=True, slots=True)
class PurgeReport:
    rounds: int
    answers: int
    aggregates: int


def aggregates_for_round(
    pulse_round: PulseRound, answers: list[repo.RawAnswer], minimum: int
) -> list[AnswerAggregate]:
    """Score counts per question for every group the anonymity gate lets through."""
    by_question: dict[str, list[repo.RawAnswer]] = defaultdict(list)
    for answer in answers:
        by_question[answer.question_id].append(answer)
    aggregates: list[AnswerAggregate] = []
    for question_id, rows in sorted(by_question.items()):
        score_of = {row.respondent: row.score for row in rows}
        people = [Person(row.respondent, row.team, row.is_leader) for row in rows]
        for (kind, name), members in sorted(shown_groups(people, minimum).items()):
            counts = Counter(score_of[member] for member in members)
            aggregates.append(
                AnswerAggregate(
                    round_id=pulse_round.id or 0,
                    question_id=question_id,
                    group_kind=kind,
                    group_name=name,
                    respondents=len(members),
                    score_1=counts[1],
                    score_2=counts[2],
                    score_3=counts[3],
                    score_4=counts[4],
                    score_5=counts[5],
                )
            )
    return aggregates


def purge_old_answers(deps: Deps) -> PurgeReport:
    """Fold raw answers of rounds closed more than CX_RETENTION_DAYS ago into gated aggregates
    and delete them (comments included). A round at a time, each in its own transaction."""
    days = deps.settings.retention_days
    if days == 0:
        return PurgeReport(0, 0, 0)
    now = deps.clock.now()
    with session_scope(deps.engine) as session:
        due = [
            r.id
            for r in repo.rounds_to_purge(session=session, closed_before=now - timedelta(days=days))
        ]
    rounds = answers = aggregates = 0
    for round_id in due:
        with session_scope(deps.engine) as session:
            pulse_round = repo.get_round(session=session, round_id=round_id or 0)
            if pulse_round is None or pulse_round.answers_purged_at is not None:
                continue  # another process purged it meanwhile
            kept = aggregates_for_round(
                pulse_round,
                repo.raw_answers(session=session, round_id=round_id or 0),
                deps.settings.min_group_size,
            )
            answers += repo.replace_answers_with_aggregates(
                session=session, pulse_round=pulse_round, aggregates=kept, now=now
            )
            rounds += 1
            aggregates += len(kept)
    return PurgeReport(rounds=rounds, answers=answers, aggregates=aggregates)
