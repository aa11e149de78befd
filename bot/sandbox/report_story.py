"""A published history with everything the web report shows, for its tests and screenshots.

Twelve imported weeks of the seeded organisation (support's empowerment falls, leaders rate
leadership higher than the front line, sales drifts apart on collaboration), plus:

- `ops`, six people who always answer: two of them find training does not apply to them, so
  its training cell is hidden (fewer than the minimum), and its recognition cell is hidden to
  protect `tiny` (the people in no team answer "doesn't apply" to recognition, which would
  leave tiny's three as the organisation minus the teams shown);
- `tiny`, three people, never shown;
- six people in no team;
- comments (one of them markup, which every page must show as text);
- three commitments: one followed up by an earlier digest, one due in the latest digest, one
  still running; and two posted digests.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.analytics.periods import period_key
from bot.db import commitments as commitment_store
from bot.db.engine import session_scope
from bot.db.models import NOT_APPLICABLE
from bot.sandbox.history import HistoryRow, generate_history
from bot.sandbox.org import Story, build_org
from bot.services.context import Deps
from bot.services.importer import ImportRow, import_answers
from bot.services.ports import SlackGateway
from bot.services.publishing import post_digest

SEED = 15
PEOPLE_PER_TEAM = 20  # enough for support's fall to be found beyond noise
WEEKS = 12
LAST_MONDAY = date(2026, 11, 16)  # 2026-W47, the latest week published
LATEST = "2026-W47"
EARLIER_DIGEST = "2026-W44"
# A Tuesday of the week after: every imported week has closed.
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
SMALL_TEAM = "ops"
TINY_TEAM = "tiny"
TOO_FEW_DIMENSION = "training"
PROTECTING_DIMENSION = "recognition"
MARKUP_COMMENT = "<script>alert('cx')</script> & <b>not bold</b> =1+1"
SMALL_PEOPLE = [f"UOPS{i}" for i in range(6)]
TINY_PEOPLE = [f"UTINY{i}" for i in range(3)]
NO_TEAM_PEOPLE = [f"UFREE{i}" for i in range(6)]


@dataclass(frozen=True, slots=True)
class ReportStory:
    latest: str
    employee: str  # a support member who answered every week: has answers of their own
    support_leader: str  # the support team's own leader flag holder (an org leader)


def _extra_rows(questions: dict[str, list[str]], rng: random.Random) -> list[HistoryRow]:
    rows = []
    first_monday = LAST_MONDAY - timedelta(weeks=WEEKS - 1)
    people = [(p, SMALL_TEAM) for p in SMALL_PEOPLE]
    people += [(p, TINY_TEAM) for p in TINY_PEOPLE]
    people += [(p, "") for p in NO_TEAM_PEOPLE]
    for week in range(WEEKS):
        day = first_monday + timedelta(weeks=week, days=1)
        for person, team in people:
            for dimension, statements in questions.items():
                score = rng.choice((2, 3, 4, 4, 5))
                if dimension == TOO_FEW_DIMENSION and person in SMALL_PEOPLE[:2]:
                    score = NOT_APPLICABLE
                if dimension == PROTECTING_DIMENSION and person in NO_TEAM_PEOPLE:
                    score = NOT_APPLICABLE
                rows.append(
                    HistoryRow(
                        day, person, team, False, statements[week % len(statements)], score, None
                    )
                )
    return rows


def story_rows(deps: Deps) -> list[HistoryRow]:
    questions = {d.id: [q.id for q in d.questions] for d in deps.prompts.bank.dimensions}
    org = build_org(SEED, people_per_team=PEOPLE_PER_TEAM)
    rows = generate_history(
        org, questions, Story(), seed=SEED, weeks=WEEKS, last_monday=LAST_MONDAY
    )
    rows += _extra_rows(questions, random.Random(SEED))
    # The markup comment, on an answer of the latest week (a week with plenty of answers).
    last = max(range(len(rows)), key=lambda i: (rows[i].day, rows[i].comment is None))
    found = rows[last]
    rows[last] = HistoryRow(
        found.day,
        found.respondent,
        found.team,
        found.is_leader,
        found.question_id,
        found.score if found.score != NOT_APPLICABLE else 3,
        MARKUP_COMMENT,
    )
    return rows


def _commitments(deps: Deps, *, leader: str, admin: str) -> None:
    with session_scope(deps.engine) as session:
        for dimension, text, owner, period, due in (
            (
                "root_cause",
                "Each repeat billing fix gets an owner and a root-cause review within a week.",
                leader,
                "2026-W40",
                date(2026, 10, 27),
            ),
            (
                "empowerment",
                "Front-line staff can now refund up to $200 without asking.",
                admin,
                "2026-W43",
                date(2026, 11, 17),
            ),
            (
                "collaboration",
                "A monthly joint review of escalations between sales and support.",
                None,
                LATEST,
                date(2026, 12, 15),
            ),
        ):
            monday = datetime.fromisocalendar(int(period[:4]), int(period[6:]), 2)
            commitment_store.add_commitment(
                session=session,
                dimension=dimension,
                text=text,
                created_by=admin,
                owner=owner,
                due_on=due,
                period=period,
                now=monday.replace(tzinfo=UTC),
            )


def build_report_story(deps: Deps, gateway: SlackGateway, *, admin: str) -> ReportStory:
    """Import the history, record the commitments and post two digests (to
    CX_LEADERSHIP_CHANNEL through `gateway`). `deps.clock` should read NOW or later."""
    rows = story_rows(deps)
    import_answers(
        deps,
        [
            ImportRow(
                i + 2,
                r.day,
                r.respondent,
                r.team or None,
                r.is_leader,
                r.question_id,
                r.score,
                r.comment,
            )
            for i, r in enumerate(rows)
        ],
    )
    org = build_org(SEED, people_per_team=PEOPLE_PER_TEAM)
    support = org.teams["support"]
    _commitments(deps, leader=support[0], admin=admin)
    post_digest(deps, gateway, period=EARLIER_DIGEST)
    post_digest(deps, gateway)
    latest = {r.respondent for r in rows if period_key_of(r.day) == LATEST}
    employee = next(p for p in support[1:] if p in latest)
    return ReportStory(LATEST, employee, support[0])


def story_people() -> list[str]:
    """Every respondent of the story (their Slack user IDs)."""
    org = build_org(SEED, people_per_team=PEOPLE_PER_TEAM)
    return [p.user_id for p in org.people] + SMALL_PEOPLE + TINY_PEOPLE + NO_TEAM_PEOPLE


def period_key_of(day: date) -> str:
    return period_key(datetime(day.year, day.month, day.day, 12, tzinfo=UTC), ZoneInfo("UTC"))
