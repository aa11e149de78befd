"""The tables. Scores live only in `answer`, under a pseudonym, never in a log line."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.db.types import UTCDateTime


class RoundKind(StrEnum):
    SCHEDULED = "scheduled"
    ADHOC = "adhoc"
    IMPORTED = "imported"  # historic answers from `cxpulse import`, one round per period


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a worker; reclaimable once the claim is stale
    SENT = "sent"
    FAILED = "failed"


class Member(SQLModel, table=True):
    """A person in the workspace, as last seen in the Slack directory."""

    id: int | None = Field(default=None, primary_key=True)
    slack_user_id: str = Field(max_length=32, unique=True, index=True)
    team: str | None = Field(default=None, max_length=120)
    is_leader: bool = Field(default=False)
    tz: str | None = Field(default=None, max_length=64)
    locale: str | None = Field(default=None, max_length=16)
    active: bool = Field(default=True)
    opted_out: bool = Field(default=False)
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class Question(SQLModel, table=True):
    """A statement from the bank in prompts/, mirrored so answers keep a stable reference."""

    id: str = Field(primary_key=True, max_length=80)
    dimension: str = Field(max_length=40, index=True)
    text: str = Field(max_length=300)
    source: str = Field(max_length=120)
    is_outcome: bool = Field(default=False)
    active: bool = Field(default=True)


class PulseRound(SQLModel, table=True):
    """One round of questions; a scheduled one is unique per period, so never sent twice."""

    __tablename__ = "pulse_round"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)
    schedule_key: str | None = Field(default=None, max_length=32, unique=True)
    period: str = Field(max_length=16, index=True)
    sequence: int = Field(index=True)
    opened_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    closes_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    digest_posted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # Set once the raw answers were folded into answer_aggregate and deleted (CX_RETENTION_DAYS).
    answers_purged_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # Set by the one process that sends the round's reminders. Kept per round, not per person,
    # so the database never records who had not answered.
    reminders_sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class RoundQuestion(SQLModel, table=True):
    """Which questions a round asks, in order."""

    __tablename__ = "round_question"

    round_id: int = Field(foreign_key="pulse_round.id", primary_key=True)
    question_id: str = Field(foreign_key="question.id", primary_key=True, max_length=80)
    position: int


class Delivery(SQLModel, table=True):
    """One DM per member per round; team and leader flag are frozen at send time for history."""

    __table_args__ = (UniqueConstraint("round_id", "member_id", name="uq_delivery_round_member"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="pulse_round.id", index=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    team: str | None = Field(default=None, max_length=120)
    is_leader: bool = Field(default=False)
    status: str = Field(default=DeliveryStatus.PENDING, max_length=16, index=True)
    # When this person's DM may go out: their local pulse time (scheduled), or at once (ad hoc).
    due_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    channel: str | None = Field(default=None, max_length=32)
    ts: str | None = Field(default=None, max_length=32)
    error: str | None = Field(default=None, max_length=120)
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    claim_token: str | None = Field(default=None, max_length=36, index=True)
    claimed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    attempts: int = Field(default=0)


class Answer(SQLModel, table=True):
    """A score (1-5) for one question of one round; a second click changes it in place.

    The respondent is a keyed pseudonym (HMAC of the Slack user ID with CX_PSEUDONYM_KEY) and
    there is no link to the delivery, so a dump of the database alone does not say who answered
    what. Team and leader flag are copied from the delivery, frozen at send time.
    """

    __table_args__ = (
        UniqueConstraint("round_id", "respondent", "question_id", name="uq_answer_respondent"),
        CheckConstraint("score BETWEEN 1 AND 5", name="ck_answer_score_range"),
    )

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="pulse_round.id", index=True)
    respondent: str = Field(max_length=64, index=True)
    team: str | None = Field(default=None, max_length=120)
    is_leader: bool = Field(default=False)
    question_id: str = Field(foreign_key="question.id", max_length=80, index=True)
    score: int
    comment: str | None = Field(default=None, max_length=3000)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    # When the person clicked (Slack's action_ts): out-of-order processing keeps the last click.
    clicked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class ForgottenMember(SQLModel, table=True):
    """Someone who ran `/cx forget-me`: only a pseudonym, so directory refreshes don't re-enrol."""

    __tablename__ = "forgotten_member"

    pseudonym: str = Field(primary_key=True, max_length=64)
    forgotten_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class AnswerAggregate(SQLModel, table=True):
    """Counts of each score for one question, round and group, kept after raw answers are purged.

    Written only for groups that pass the anonymity gate (complements included), so what
    survives the purge can be shown as it is.
    """

    __tablename__ = "answer_aggregate"
    __table_args__ = (
        UniqueConstraint(
            "round_id", "question_id", "group_kind", "group_name", name="uq_answer_aggregate"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="pulse_round.id", index=True)
    question_id: str = Field(foreign_key="question.id", max_length=80)
    group_kind: str = Field(max_length=16)
    group_name: str = Field(default="", max_length=120)
    respondents: int
    score_1: int
    score_2: int
    score_3: int
    score_4: int
    score_5: int


class ActionItem(SQLModel, table=True):
    """What leaders said they are doing about a dimension (`/cx act`); shown in the next pulse."""

    __tablename__ = "action_item"

    id: int | None = Field(default=None, primary_key=True)
    dimension: str = Field(max_length=40, index=True)
    text: str = Field(max_length=500)
    created_by: str = Field(max_length=32)
    period: str = Field(max_length=16)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))


class WorkspaceSetting(SQLModel, table=True):
    """An admin's choice made in App Home; it overrides the environment default of its name.

    `value` is JSON. Kept as key/value rows so adding a setting needs no migration.
    """

    __tablename__ = "workspace_setting"

    key: str = Field(primary_key=True, max_length=40)
    value: str = Field(max_length=4000)
    updated_by: str = Field(max_length=32)
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class DigestSnapshot(SQLModel, table=True):
    """The findings of each posted digest (already through the anonymity gate), so App Home can
    show leaders the latest headline without recomputing a digest over every answer."""

    __tablename__ = "digest_snapshot"

    period: str = Field(primary_key=True, max_length=16)
    posted_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    findings: str  # the JSON of `cxpulse digest --json`
