"""Small keyword-only queries. Services compose these; nothing else writes SQL."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.db import relay
from bot.db.models import (
    NOT_APPLICABLE,
    ActionItem,
    Answer,
    Delivery,
    DeliveryStatus,
    ForgottenMember,
    Member,
    PulseRound,
    Question,
    RoundKind,
    RoundQuestion,
    TeamNudgeSent,
    WorkspaceSetting,
)


@dataclass(frozen=True, slots=True)
class DirectoryEntry:
    slack_user_id: str
    team: str | None
    is_leader: bool
    tz: str | None
    locale: str | None


# --- members -------------------------------------------------------------------------------


def get_member(*, session: Session, slack_user_id: str) -> Member | None:
    return session.exec(select(Member).where(Member.slack_user_id == slack_user_id)).first()


def get_member_by_id(*, session: Session, member_id: int) -> Member | None:
    return session.get(Member, member_id)


def member_locale(*, session: Session, slack_user_id: str) -> str | None:
    """The person's Slack locale as last read from the directory (None when unknown)."""
    query = sa_select(col(Member.locale)).where(col(Member.slack_user_id) == slack_user_id)
    return session.execute(query).scalar_one_or_none()


DIRECTORY_BATCH = 1000


def upsert_directory(*, session: Session, entries: Iterable[DirectoryEntry], now: datetime) -> int:
    """Mirror the Slack directory; people no longer listed become inactive. Opt-outs are kept.

    New people are inserted with ON CONFLICT DO NOTHING first, so two processes refreshing at
    once (two schedulers, say) never trip over each other's inserts.
    """
    listed = {entry.slack_user_id: entry for entry in entries}
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    known = set(session.exec(select(Member.slack_user_id)).all())
    fresh = [
        {
            "slack_user_id": user_id,
            "updated_at": now,
            "is_leader": False,
            "active": True,
            "opted_out": False,
        }
        for user_id in listed
        if user_id not in known
    ]
    if fresh:
        session.execute(
            insert(Member).on_conflict_do_nothing(index_elements=["slack_user_id"]), fresh
        )
    # Plain rows and bulk UPDATEs, not one ORM object per member: at 50,000 people the
    # objects alone were over 100 MB, and most refreshes change nobody.
    columns = (Member.id, Member.slack_user_id, Member.team, Member.is_leader, Member.tz)
    current = session.execute(
        sa_select(*(col(c) for c in columns), col(Member.locale), col(Member.active))
    ).all()
    changed: list[dict[str, Any]] = []
    gone: list[int] = []
    for member_id, user_id, team, is_leader, tz, locale, active in current:
        entry = listed.get(user_id)
        if entry is None:
            if active:
                gone.append(member_id)
            continue
        wanted = (entry.team, entry.is_leader, entry.tz, entry.locale)
        if (team, is_leader, tz, locale) != wanted or not active:
            changed.append(
                {
                    "id": member_id,
                    "team": entry.team,
                    "is_leader": entry.is_leader,
                    "tz": entry.tz,
                    "locale": entry.locale,
                    "active": True,
                    "updated_at": now,
                }
            )
    session.flush()
    for start in range(0, len(changed), DIRECTORY_BATCH):
        session.execute(update(Member), changed[start : start + DIRECTORY_BATCH])
    for start in range(0, len(gone), DIRECTORY_BATCH):
        batch = gone[start : start + DIRECTORY_BATCH]
        session.execute(
            update(Member).where(col(Member.id).in_(batch)).values(active=False, updated_at=now)
        )
    # Every listed member is stamped as seen now (`directory_seen_at`): after the lines above
    # the active members are exactly the listed ones.
    session.execute(update(Member).where(col(Member.active).is_(True)).values(updated_at=now))
    session.expire_all()  # any Member loaded earlier in this session is stale now
    return len(listed)


def set_opted_out(
    *, session: Session, slack_user_id: str, opted_out: bool, now: datetime
) -> Member:
    member = get_member(session=session, slack_user_id=slack_user_id)
    if member is None:
        member = Member(slack_user_id=slack_user_id, updated_at=now)
        session.add(member)
    member.opted_out = opted_out
    member.updated_at = now
    session.flush()
    return member


def participants(*, session: Session) -> Sequence[Member]:
    """Active members who have not opted out."""
    query = select(Member).where(col(Member.active).is_(True), col(Member.opted_out).is_(False))
    return session.exec(query.order_by(col(Member.id))).all()


# --- questions -----------------------------------------------------------------------------


def sync_questions(*, session: Session, questions: Iterable[Question]) -> None:
    """Mirror the bank; statements removed from prompts/ stay (answers refer to them) but retire,
    and so does any given with `active=False` (the bank's retired statements)."""
    current = {q.id: q for q in session.exec(select(Question)).all()}
    wanted: set[str] = set()
    for question in questions:
        wanted.add(question.id)
        row = current.get(question.id)
        if row is None:
            session.add(question)
            continue
        row.dimension = question.dimension
        row.text = question.text
        row.source = question.source
        row.is_outcome = question.is_outcome
        row.active = question.active
    for question_id, row in current.items():
        if question_id not in wanted:
            row.active = False
    session.flush()


# --- rounds --------------------------------------------------------------------------------


def next_round_sequence(*, session: Session) -> int:
    highest = session.exec(select(func.max(PulseRound.sequence))).one()
    return 0 if highest is None else int(highest) + 1


def get_round(*, session: Session, round_id: int) -> PulseRound | None:
    return session.get(PulseRound, round_id)


def round_by_schedule_key(*, session: Session, schedule_key: str) -> PulseRound | None:
    query = select(PulseRound).where(PulseRound.schedule_key == schedule_key)
    return session.exec(query).first()


def create_round(
    *,
    session: Session,
    kind: RoundKind,
    schedule_key: str | None,
    period: str,
    opened_at: datetime,
    closes_at: datetime,
    question_ids: Sequence[str],
) -> PulseRound | None:
    """Insert a round with its questions; None when a scheduled one for that key already exists.

    On None the session's transaction has been rolled back, so the round insert must be the
    first write of its transaction or the caller must give up the whole transaction (an import
    does). No SAVEPOINT: with pysqlite a savepoint opened outside a transaction commits when it
    is released, which committed a round before its deliveries, and a process killed between
    the two left a round that nobody was invited to.
    """
    pulse_round = PulseRound(
        kind=kind,
        schedule_key=schedule_key,
        period=period,
        sequence=next_round_sequence(session=session),
        opened_at=opened_at,
        closes_at=closes_at,
    )
    try:
        session.add(pulse_round)
        session.flush()
    except IntegrityError:
        session.rollback()
        return None
    assert pulse_round.id is not None
    for position, question_id in enumerate(question_ids):
        session.add(
            RoundQuestion(round_id=pulse_round.id, question_id=question_id, position=position)
        )
    session.flush()
    return pulse_round


def week_round(*, session: Session, period: str) -> PulseRound | None:
    """The round a week already has, scheduled or ad hoc: there is one a week, so nobody is
    asked twice (imported history aside). Both kinds take the week as their schedule key; the
    period match also finds an ad hoc round from before that, which has none."""
    query = select(PulseRound).where(
        PulseRound.period == period, col(PulseRound.kind) != RoundKind.IMPORTED
    )
    return session.exec(query.order_by(col(PulseRound.opened_at))).first()


def periods_with_a_round(*, session: Session, periods: Sequence[str]) -> set[str]:
    """Which of `periods` already have their week's round (see `week_round`)."""
    if not periods:
        return set()
    query = sa_select(col(PulseRound.period)).where(
        col(PulseRound.period).in_(periods), col(PulseRound.kind) != RoundKind.IMPORTED
    )
    return {row[0] for row in session.execute(query)}


def round_questions(*, session: Session, round_id: int) -> list[Question]:
    query = (
        select(Question)
        .join(RoundQuestion, col(RoundQuestion.question_id) == col(Question.id))
        .where(RoundQuestion.round_id == round_id)
        .order_by(col(RoundQuestion.position))
    )
    return list(session.exec(query).all())


def latest_round(*, session: Session, opened_by: datetime | None = None) -> PulseRound | None:
    query = select(PulseRound)
    if opened_by is not None:
        query = query.where(col(PulseRound.opened_at) <= opened_by)
    return session.exec(query.order_by(col(PulseRound.sequence).desc())).first()


def rounds_up_to(*, session: Session, sequence: int) -> list[PulseRound]:
    """Every round up to and including `sequence`, oldest first."""
    query = select(PulseRound).where(col(PulseRound.sequence) <= sequence)
    return list(session.exec(query.order_by(col(PulseRound.sequence))).all())


def claim_digest(*, session: Session, round_id: int, now: datetime) -> bool:
    """Mark a round's digest as posted; False when another process already did."""
    result = session.execute(
        update(PulseRound)
        .where(col(PulseRound.id) == round_id, col(PulseRound.digest_posted_at).is_(None))
        .values(digest_posted_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def release_digest(*, session: Session, round_id: int) -> None:
    session.execute(
        update(PulseRound).where(col(PulseRound.id) == round_id).values(digest_posted_at=None)
    )


def latest_closed_round_without_digest(*, session: Session, now: datetime) -> PulseRound | None:
    query = select(PulseRound).where(
        col(PulseRound.closes_at) <= now,
        col(PulseRound.digest_posted_at).is_(None),
        col(PulseRound.kind) != RoundKind.IMPORTED,  # history is reported, never "posted late"
    )
    return session.exec(query.order_by(col(PulseRound.closes_at).desc())).first()


# --- deliveries ----------------------------------------------------------------------------


def create_deliveries(
    *,
    session: Session,
    round_id: int,
    members: Iterable[Member],
    due_at: Callable[[Member], datetime],
) -> int:
    """One pending delivery per member, to go out at `due_at(member)`; members who already have
    one for the round are skipped."""
    have = set(session.exec(select(Delivery.member_id).where(Delivery.round_id == round_id)).all())
    created = 0
    for member in members:
        if member.id is None or member.id in have:
            continue
        session.add(
            Delivery(
                round_id=round_id,
                member_id=member.id,
                team=member.team,
                is_leader=member.is_leader,
                status=DeliveryStatus.PENDING,
                due_at=due_at(member),
            )
        )
        created += 1
    session.flush()
    return created


def _claimable(*, now: datetime, stale_before: datetime) -> Any:
    """Deliveries a worker may take: due, and pending or left behind by a stale claim."""
    return (col(Delivery.due_at) <= now) & (
        (col(Delivery.status) == DeliveryStatus.PENDING)
        | (
            (col(Delivery.status) == DeliveryStatus.SENDING)
            & (col(Delivery.claimed_at) < stale_before)
        )
    )


def rounds_with_due_deliveries(
    *, session: Session, now: datetime, stale_before: datetime
) -> list[int]:
    """Open rounds (oldest first) with deliveries a worker could claim at `now`."""
    query = (
        sa_select(col(Delivery.round_id))
        .join(PulseRound, col(PulseRound.id) == col(Delivery.round_id))
        .where(col(PulseRound.closes_at) > now, _claimable(now=now, stale_before=stale_before))
        .distinct()
        .order_by(col(Delivery.round_id))
    )
    return [int(round_id) for round_id in session.execute(query).scalars()]


def participant_zones(*, session: Session) -> set[str | None]:
    """The distinct Slack `tz` values of the people who take part (None: not known)."""
    query = select(Member.tz).where(col(Member.active).is_(True), col(Member.opted_out).is_(False))
    return set(session.exec(query.distinct()).all())


def directory_seen_at(*, session: Session) -> datetime | None:
    """When the directory was last mirrored (every listed member is stamped), if ever."""
    seen: datetime | None = session.execute(
        sa_select(func.max(col(Member.updated_at)))
    ).scalar_one_or_none()
    return seen


def claim_deliveries(
    *, session: Session, round_id: int, limit: int, now: datetime, stale_before: datetime
) -> tuple[str, list[tuple[Delivery, Member]]]:
    """Claim up to `limit` deliveries to send: pending ones due by `now`, and ones whose claim
    went stale.

    The claim is one UPDATE guarded by the status, so two workers never claim the same row;
    on PostgreSQL the candidates are also locked with SKIP LOCKED so workers don't queue up.
    """
    token = str(uuid.uuid4())
    claimable = _claimable(now=now, stale_before=stale_before)
    candidates = (
        sa_select(col(Delivery.id))
        .where(col(Delivery.round_id) == round_id, claimable)
        .order_by(col(Delivery.id))
        .limit(limit)
    )
    chosen: Any
    if session.get_bind().dialect.name == "postgresql":
        # Lock the candidates first (skipping rows another worker holds), then update exactly
        # those: as one UPDATE ... IN (subquery) PostgreSQL may re-check rows and wait on them.
        chosen = list(session.execute(candidates.with_for_update(skip_locked=True)).scalars())
        if not chosen:
            return token, []
    else:
        # SQLite runs one writer at a time, so the guarded UPDATE alone is the claim.
        chosen = candidates.scalar_subquery()
    session.execute(
        update(Delivery)
        .where(col(Delivery.id).in_(chosen), claimable)
        .values(
            status=DeliveryStatus.SENDING,
            claim_token=token,
            claimed_at=now,
            attempts=col(Delivery.attempts) + 1,
        )
        .execution_options(synchronize_session=False)
    )
    query = (
        select(Delivery, Member)
        .join(Member, col(Member.id) == col(Delivery.member_id))
        .where(Delivery.claim_token == token)
        .order_by(col(Delivery.id))
    )
    return token, [(d, m) for d, m in session.exec(query).all()]


def renew_claim(*, session: Session, delivery_id: int, token: str, now: datetime) -> bool:
    """Refresh a claim just before its send; False when another worker has taken it over."""
    result = session.execute(
        update(Delivery)
        .where(
            col(Delivery.id) == delivery_id,
            col(Delivery.claim_token) == token,
            col(Delivery.status) == DeliveryStatus.SENDING,
        )
        .values(claimed_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def finish_delivery(
    *,
    session: Session,
    delivery_id: int,
    token: str,
    status: DeliveryStatus,
    channel: str | None = None,
    ts: str | None = None,
    error: str | None = None,
    now: datetime,
) -> None:
    """Record a claimed delivery's outcome; a claim someone else has since taken is left alone."""
    values: dict[str, object] = {"status": status, "claim_token": None}
    if status is DeliveryStatus.SENT:
        values.update(channel=channel, ts=ts, sent_at=now)
    if error is not None:
        values["error"] = error[:120]
    session.execute(
        update(Delivery)
        .where(col(Delivery.id) == delivery_id, col(Delivery.claim_token) == token)
        .values(**values)
    )


def delivery_counts(*, session: Session, round_id: int) -> tuple[int, int]:
    """(sent, responded): deliveries that reached people, and people with at least one answer."""
    sent = session.exec(
        select(func.count())
        .select_from(Delivery)
        .where(Delivery.round_id == round_id, Delivery.status == DeliveryStatus.SENT)
    ).one()
    responded = session.exec(
        select(func.count(func.distinct(Answer.respondent))).where(Answer.round_id == round_id)
    ).one()
    return int(sent), int(responded)


def invitation_counts(*, session: Session, round_id: int) -> tuple[int, int, int]:
    """(invited, sent, waiting): the round's deliveries, those in people's DMs by now, and
    those still to go (a scheduled round reaches each person at their own local time)."""
    rows = session.execute(
        sa_select(col(Delivery.status), func.count())
        .where(col(Delivery.round_id) == round_id)
        .group_by(col(Delivery.status))
    ).all()
    counts = {status: int(count) for status, count in rows}
    waiting = counts.get(DeliveryStatus.PENDING, 0) + counts.get(DeliveryStatus.SENDING, 0)
    return sum(counts.values()), counts.get(DeliveryStatus.SENT, 0), waiting


# --- answers -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Respondent:
    """Who answers, as the answer table knows them: a pseudonym plus team and leader flag."""

    round_id: int
    pseudonym: str
    team: str | None
    is_leader: bool


# --- privacy: forget-me and retention ------------------------------------------------------


def forget(
    *,
    session: Session,
    member: Member | None,
    pseudonym: str,
    slack_user_id: str,
    now: datetime,
) -> int:
    """Delete a person's answers, deliveries and member row, and their
    name on actions and settings; leave only a pseudonym tombstone so the next directory
    refresh does not enrol them again. Returns how many answers were deleted.
    """
    deleted = session.execute(delete(Answer).where(col(Answer.respondent) == pseudonym))
    if member is not None and member.id is not None:
        session.execute(delete(Delivery).where(col(Delivery.member_id) == member.id))
        session.delete(member)
    session.execute(
        update(ActionItem)
        .where(col(ActionItem.created_by) == slack_user_id)
        .values(created_by=None)
    )
    session.execute(
        update(ActionItem).where(col(ActionItem.owner) == slack_user_id).values(owner=None)
    )
    session.execute(delete(TeamNudgeSent).where(col(TeamNudgeSent.target) == slack_user_id))
    _drop_team_lead(session, slack_user_id)
    session.execute(
        update(WorkspaceSetting)
        .where(col(WorkspaceSetting.updated_by) == slack_user_id)
        .values(updated_by=None)
    )
    if session.get(ForgottenMember, pseudonym) is None:
        session.add(ForgottenMember(pseudonym=pseudonym, forgotten_at=now))
    session.flush()
    return int(deleted.rowcount)  # type: ignore[attr-defined]


def delivered_messages(*, session: Session, member: Member | None) -> list[tuple[str, str]]:
    """(channel, ts) of every pulse DM a member was sent."""
    if member is None or member.id is None:
        return []
    query = sa_select(col(Delivery.channel), col(Delivery.ts)).where(
        col(Delivery.member_id) == member.id,
        col(Delivery.channel).is_not(None),
        col(Delivery.ts).is_not(None),
    )
    return [(channel, ts) for channel, ts in session.execute(query)]


def periods_answered(*, session: Session, respondent: str) -> list[str]:
    query = (
        sa_select(col(PulseRound.period))
        .join(Answer, col(Answer.round_id) == col(PulseRound.id))
        .where(col(Answer.respondent) == respondent)
        .distinct()
    )
    return sorted(row[0] for row in session.execute(query))


def forgotten_pseudonyms(*, session: Session) -> set[str]:
    return set(session.exec(select(ForgottenMember.pseudonym)).all())


def _drop_team_lead(session: Session, slack_user_id: str) -> None:
    """Take a forgotten person off the team leads an admin stored in App Home."""
    row = session.get(WorkspaceSetting, "team_leads")
    if row is None:
        return
    leads = json.loads(row.value)
    if not isinstance(leads, dict):
        return
    kept = {team: [u for u in users if u != slack_user_id] for team, users in leads.items()}
    row.value = json.dumps({team: users for team, users in kept.items() if users}, sort_keys=True)
    row.updated_by = None
    session.add(row)


def unforget(*, session: Session, pseudonym: str) -> None:
    session.execute(delete(ForgottenMember).where(col(ForgottenMember.pseudonym) == pseudonym))


def rounds_to_purge(*, session: Session, closed_before: datetime) -> list[PulseRound]:
    query = select(PulseRound).where(
        col(PulseRound.closes_at) < closed_before, col(PulseRound.answers_purged_at).is_(None)
    )
    return list(session.exec(query.order_by(col(PulseRound.sequence))).all())


def delete_round_answers(*, session: Session, pulse_round: PulseRound, now: datetime) -> int:
    """Delete a round's raw answers and mark it purged (its comments were published, or
    dropped, with its week: bot.services.publication)."""
    deleted = session.execute(delete(Answer).where(col(Answer.round_id) == pulse_round.id))
    pulse_round.answers_purged_at = now
    session.add(pulse_round)
    session.flush()
    return int(deleted.rowcount)  # type: ignore[attr-defined]


# --- imported history ----------------------------------------------------------------------


def imported_round(
    *,
    session: Session,
    period: str,
    bounds: tuple[datetime, datetime],
    question_ids: Sequence[str],
    key_generation: int = 1,
) -> PulseRound:
    """The imported round of a period, created on first use; it asks every imported question.
    A new round records the pseudonym key generation its respondents are under."""
    key = f"import:{period}"
    pulse_round = round_by_schedule_key(session=session, schedule_key=key)
    if pulse_round is None:
        pulse_round = create_round(
            session=session,
            kind=RoundKind.IMPORTED,
            schedule_key=key,
            period=period,
            opened_at=bounds[0],
            closes_at=bounds[1],
            question_ids=[],
        )
        if pulse_round is None:
            raise RuntimeError(f"another import is writing {period} right now; try again")
        pulse_round.key_generation = key_generation
        session.add(pulse_round)
    assert pulse_round.id is not None
    asked = {q.id for q in round_questions(session=session, round_id=pulse_round.id)}
    for position, question_id in enumerate(q for q in question_ids if q not in asked):
        session.add(
            RoundQuestion(
                round_id=pulse_round.id, question_id=question_id, position=len(asked) + position
            )
        )
    session.flush()
    return pulse_round


@dataclass(frozen=True, slots=True)
class ImportedAnswer:
    respondent: Respondent
    question_id: str
    score: int
    comment: str | None
    answered_at: datetime


IMPORT_CHUNK = 5000


def imported_answer_keys(*, session: Session, period: str) -> set[tuple[str, str]]:
    """(pseudonym, question) of every answer in a period's imported round."""
    pulse_round = round_by_schedule_key(session=session, schedule_key=f"import:{period}")
    if pulse_round is None:
        return set()
    query = sa_select(col(Answer.respondent), col(Answer.question_id)).where(
        col(Answer.round_id) == pulse_round.id
    )
    return {(respondent, question) for respondent, question in session.execute(query)}


def insert_answers_if_absent(
    *, session: Session, answers: Sequence[ImportedAnswer], now: datetime
) -> int:
    """Insert answers, skipping any (round, respondent, question) already stored; returns how
    many were new."""
    if not answers:
        return 0
    round_ids = {a.respondent.round_id for a in answers}
    counted = select(func.count()).select_from(Answer).where(col(Answer.round_id).in_(round_ids))
    before = int(session.exec(counted).one())
    present = {
        (r, p, q)
        for r, p, q in session.execute(
            sa_select(col(Answer.round_id), col(Answer.respondent), col(Answer.question_id)).where(
                col(Answer.round_id).in_(round_ids)
            )
        )
    }
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    for start in range(0, len(answers), IMPORT_CHUNK):
        values = [
            {
                "round_id": a.respondent.round_id,
                "respondent": a.respondent.pseudonym,
                "question_id": a.question_id,
                "score": a.score,
                "click_order": 0,
            }
            for a in answers[start : start + IMPORT_CHUNK]
        ]
        statement = insert(Answer).on_conflict_do_nothing(
            index_elements=["round_id", "respondent", "question_id"]
        )
        session.execute(statement, values)
    # Comments go apart from the answers, linked to nobody (bot.db.replies), and only with
    # answers this import added: the same file imported again adds no comment either.
    relay.add_pending_comments(
        session.connection(),
        [
            (a.respondent.round_id, a.question_id, a.comment)
            for a in answers
            if a.comment
            and (a.respondent.round_id, a.respondent.pseudonym, a.question_id) not in present
        ],
    )
    return int(session.exec(counted).one()) - before


# --- raw answers for publication (drivers and the person share) ---------------------------


# Rows read at a time by `respondent_answers`: well under the 700 new objects that start a
# collection of the youngest generation, so most rows are freed before one can promote them.
ANSWER_BATCH = 200


@dataclass(frozen=True, slots=True)
class AnswerColumns:
    """Answers as columns: entry i of each list belongs to the same answer."""

    periods: list[str]
    respondents: list[str]  # pseudonyms
    dimensions: list[str]
    scores: list[int]


def respondent_answers(
    *, session: Session, round_ids: Sequence[int], below: str | None = None
) -> AnswerColumns:
    """Period, respondent pseudonym, dimension and score of every scored answer of these
    rounds (not "doesn't apply to me", which is in no figure): the raw material for drivers
    and for how much of the spread is people's own.

    `below` keeps only pseudonyms sorting before it: pseudonyms are uniform hex, so "40" keeps
    an unbiased quarter of the people, which large organisations need no more than.
    """
    columns = AnswerColumns([], [], [], [])
    if not round_ids:
        return columns
    # Filtered by round id (the index), joined only to name each row's period and dimension.
    query = (
        sa_select(
            col(PulseRound.period),
            col(Answer.respondent),
            col(Question.dimension),
            col(Answer.score),
        )
        .select_from(Answer)
        .join(PulseRound, col(PulseRound.id) == col(Answer.round_id))
        .join(Question, col(Question.id) == col(Answer.question_id))
        .where(col(Answer.round_id).in_(round_ids), col(Answer.score) != NOT_APPLICABLE)
    )
    if below is not None:
        query = query.where(col(Answer.respondent) < below)
    # Through Core on the session's connection: the session would run a select of mapped
    # columns through ORM loading, which costs more than the fetch on tens of thousands of
    # rows. Rows are read a batch at a time and dropped once their values are in the columns:
    # tens of thousands of row objects alive at once would set off full garbage collections
    # of the whole process.
    for batch in session.connection().execute(query).partitions(ANSWER_BATCH):
        periods, respondents, dimensions, scores = zip(*batch, strict=True)
        columns.periods.extend(periods)
        columns.respondents.extend(respondents)
        columns.dimensions.extend(dimensions)
        columns.scores.extend(scores)
    return columns


def rounds_due_for_reminders(
    *, session: Session, now: datetime, window: timedelta
) -> list[PulseRound]:
    """Open, sent rounds closing within `window` whose reminders have not gone out."""
    query = select(PulseRound).where(
        col(PulseRound.kind) != RoundKind.IMPORTED,
        col(PulseRound.reminders_sent_at).is_(None),
        col(PulseRound.closes_at) > now,
        col(PulseRound.closes_at) <= now + window,
    )
    return list(session.exec(query.order_by(col(PulseRound.sequence))).all())


def claim_reminders(*, session: Session, round_id: int, now: datetime) -> bool:
    """One process, once: False when the round's reminders were already claimed."""
    result = session.execute(
        update(PulseRound)
        .where(col(PulseRound.id) == round_id, col(PulseRound.reminders_sent_at).is_(None))
        .values(reminders_sent_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def sent_deliveries(*, session: Session, round_id: int) -> list[tuple[Delivery, Member]]:
    query = (
        select(Delivery, Member)
        .join(Member, col(Member.id) == col(Delivery.member_id))
        .where(Delivery.round_id == round_id, Delivery.status == DeliveryStatus.SENT)
        .order_by(col(Delivery.id))
    )
    return [(d, m) for d, m in session.exec(query).all()]


def respondents_in_rounds(*, session: Session, round_ids: Sequence[int]) -> set[str]:
    if not round_ids:
        return set()
    query = select(Answer.respondent).where(col(Answer.round_id).in_(round_ids)).distinct()
    return set(session.exec(query).all())


def open_rounds(*, session: Session, now: datetime) -> list[PulseRound]:
    """Rounds opened and not yet closed."""
    query = select(PulseRound).where(
        col(PulseRound.opened_at) <= now, col(PulseRound.closes_at) > now
    )
    return list(session.exec(query.order_by(col(PulseRound.sequence))).all())


def respondents_in_round(*, session: Session, round_id: int) -> set[str]:
    query = select(Answer.respondent).where(Answer.round_id == round_id).distinct()
    return set(session.exec(query).all())


def actions_since(*, session: Session, since: datetime) -> list[ActionItem]:
    query = select(ActionItem).where(col(ActionItem.created_at) >= since)
    return list(session.exec(query.order_by(col(ActionItem.created_at))).all())


def previous_round_opened(*, session: Session, before: datetime) -> datetime | None:
    """When the last non-imported round before `before` opened."""
    query = (
        select(PulseRound.opened_at)
        .where(col(PulseRound.kind) != RoundKind.IMPORTED, col(PulseRound.opened_at) < before)
        .order_by(col(PulseRound.opened_at).desc())
    )
    return session.exec(query).first()


def rounds_in_period(*, session: Session, period: str) -> list[PulseRound]:
    query = select(PulseRound).where(PulseRound.period == period)
    return list(session.exec(query.order_by(col(PulseRound.opened_at))).all())


def team_members(*, session: Session, team: str) -> list[Member]:
    """Active, opted-in members of a team, as of the last directory refresh."""
    query = select(Member).where(
        Member.team == team, col(Member.active).is_(True), col(Member.opted_out).is_(False)
    )
    return list(session.exec(query.order_by(col(Member.id))).all())


def periods_with_rounds(*, session: Session) -> list[str]:
    query = sa_select(col(PulseRound.period)).distinct()
    return sorted(row[0] for row in session.execute(query))


def rounds_of_periods(*, session: Session, periods: Sequence[str]) -> dict[int, str]:
    if not periods:
        return {}
    query = sa_select(col(PulseRound.id), col(PulseRound.period)).where(
        col(PulseRound.period).in_(periods)
    )
    return {round_id: period for round_id, period in session.execute(query)}
