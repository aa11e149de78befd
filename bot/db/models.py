"""The tables. Raw scores live only in `answer`, under a pseudonym, never in a log line;
outputs read the `published_*` tables."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

# Tables kept in modules of their own join the metadata wherever the models are imported
# (migrations, the schema test).
from bot.db import alerts as _alerts  # noqa: F401
from bot.db import kudos as _kudos  # noqa: F401
from bot.db import replies as _replies  # noqa: F401
from bot.db.types import UTCDateTime

# The score of "doesn't apply to me": the person answered, but is left out of every n.
NOT_APPLICABLE = 0


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
    # Set once the raw answers were deleted (CX_RETENTION_DAYS); the week stays published.
    answers_purged_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # Set by the one process that sends the round's reminders. Kept per round, not per person,
    # so the database never records who had not answered.
    reminders_sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # Imported rounds only: the generation of CX_PSEUDONYM_KEY (`pseudonym_key.generation`)
    # their respondents' pseudonyms were made under. Once the key is rotated, a file's
    # respondents can no longer be matched to them, so such a round takes no more imports.
    key_generation: int | None = Field(default=None)


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

    Nothing in the row says who answered, in which team, or when, so a dump of the database
    without CX_PSEUDONYM_KEY cannot join it to a member or a delivery:
    - `respondent` is a keyed pseudonym (HMAC of the Slack user ID with CX_PSEUDONYM_KEY);
    - team and leader flag are not stored: publication looks them up from the deliveries
      through the key (`bot.services.publication`);
    - the primary key is the whole identity, and SQLite stores the table in key order
      (WITHOUT ROWID), so neither a row id nor the storage order follows the order of clicks;
    - `click_order` orders one person's own clicks (Slack's action_ts in microseconds plus an
      offset of up to 2^50 us derived from the key and the person), so out-of-order processing
      keeps the last click, yet it tells nobody when anyone clicked.
    """

    __table_args__ = (
        CheckConstraint("score BETWEEN 0 AND 5", name="ck_answer_score_range"),
        {"sqlite_with_rowid": False},
    )

    round_id: int = Field(foreign_key="pulse_round.id", primary_key=True)
    respondent: str = Field(max_length=64, primary_key=True, index=True)
    question_id: str = Field(foreign_key="question.id", max_length=80, primary_key=True)
    score: int  # 1-5, or NOT_APPLICABLE: counted as answered, never part of a figure's n
    click_order: int = Field(default=0, sa_column=Column(BigInteger(), nullable=False))


class PendingRoster(SQLModel, table=True):
    """Team and leader flag of an imported answer's respondent, until its week is published.

    Imported weeks are published in the import's own transaction, so the table is empty
    between imports; it exists so an import and its publication are one unit of work.
    """

    __tablename__ = "pending_roster"

    round_id: int = Field(foreign_key="pulse_round.id", primary_key=True)
    respondent: str = Field(max_length=64, primary_key=True)
    team: str | None = Field(default=None, max_length=120)
    is_leader: bool = Field(default=False)


class ForgottenMember(SQLModel, table=True):
    """Someone who ran `/cx forget-me`: only a pseudonym, so directory refreshes don't re-enrol."""

    __tablename__ = "forgotten_member"

    pseudonym: str = Field(primary_key=True, max_length=64)
    forgotten_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class PseudonymKey(SQLModel, table=True):
    """Which CX_PSEUDONYM_KEY the stored pseudonyms are under: one row (id 1).

    `key_check` is a keyed hash of nothing (`bot.pseudonym.key_check`): every command compares
    it with the key it was given and refuses a different one, so a process started with the
    old key after a rotation (or with a mistyped key) cannot split anyone's history. Each
    `cxpulse rotate-pseudonym-key` adds one to `generation`.
    """

    __tablename__ = "pseudonym_key"
    __table_args__ = (CheckConstraint("id = 1", name="ck_pseudonym_key_one_row"),)

    id: int = Field(default=1, primary_key=True)
    generation: int = Field(default=1)
    key_check: str = Field(max_length=64)
    since: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class PublishedWeek(SQLModel, table=True):
    """A week whose rounds have all closed, published once through the disclosure gate.

    Every output reads closed weeks only from the published tables, so nothing done after
    publication (a late answer, forget-me, a purge, a team change) changes what anyone sees.
    `atoms` records, per dimension, how many people answered in each (team, leader) class:
    what re-gating needs if the minimum is raised later (people counts, never scores).
    """

    __tablename__ = "published_week"

    period: str = Field(primary_key=True, max_length=16)
    published_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    min_group_size: int
    invited: int | None = Field(default=None)  # None for imported weeks
    respondents: int | None = Field(default=None)  # None when fewer than the minimum answered
    hidden_teams: int = Field(default=0)
    comments_total: int = Field(default=0)
    # Comments of the week passed to admins instead (bot.services.alerts), frozen at publication.
    comments_alerted: int = Field(default=0)
    person_share: float | None = Field(default=None)
    drivers: str = Field(default="[]")  # JSON list of frozen driver findings
    atoms: str = Field(default="{}")  # JSON: dimension -> [[team, is_leader, people], ...]


class PublishedCell(SQLModel, table=True):
    """One group's score counts on one dimension in a published week: all outputs may show."""

    __tablename__ = "published_cell"

    period: str = Field(foreign_key="published_week.period", primary_key=True, max_length=16)
    dimension: str = Field(primary_key=True, max_length=40)
    group_kind: str = Field(primary_key=True, max_length=16)
    group_name: str = Field(default="", primary_key=True, max_length=120)
    people: int
    score_1: int
    score_2: int
    score_3: int
    score_4: int
    score_5: int


class PublishedComment(SQLModel, table=True):
    """A comment of a published week (the comment rule met), in a fixed random order.

    Nothing in the row names its author, keyed or not (issue 14): the id is the random one
    it had while pending (`bot.db.replies.PendingComment`), and only an opted-in comment has a
    link to its author, sealed with CX_ENCRYPTION_KEY, in `reply_link`.
    """

    __tablename__ = "published_comment"

    id: str = Field(primary_key=True, max_length=32)
    period: str = Field(foreign_key="published_week.period", index=True, max_length=16)
    position: int
    text: str = Field(max_length=3000)
    # Set only when the dimension alone met the comment rule that week.
    dimension: str | None = Field(default=None, max_length=40)
    # The dimensions its text speaks to, strongest first, comma-separated, tagged once at
    # publication from the text alone (bot.services.themes); None for weeks published before.
    themes: str | None = Field(default=None, max_length=400)


class PostedDigest(SQLModel, table=True):
    """Where a digest of a published week was posted, so forget-me can edit out a comment."""

    __tablename__ = "posted_digest"

    id: int | None = Field(default=None, primary_key=True)
    period: str = Field(max_length=16, index=True)
    channel: str = Field(max_length=32)
    ts: str = Field(max_length=32)


class RoundProgress(SQLModel, table=True):
    """The open week's response share, in steps of 10%, recomputed at most once an hour, so
    nobody can tie a step to one person's click by asking before and after it."""

    __tablename__ = "round_progress"

    period: str = Field(primary_key=True, max_length=16)
    computed_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    share_step: int | None = Field(default=None)  # tens of percent; None below the minimum


class ActionItem(SQLModel, table=True):
    """What leaders said they are doing about a dimension (`/cx act`); shown in the next pulse."""

    __tablename__ = "action_item"

    id: int | None = Field(default=None, primary_key=True)
    dimension: str = Field(max_length=40, index=True)
    text: str = Field(max_length=500)
    created_by: str | None = Field(default=None, max_length=32)  # cleared by forget-me
    period: str = Field(max_length=16)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    owner: str | None = Field(default=None, max_length=32)  # who leads it; cleared by forget-me
    due_on: date | None = Field(default=None)
    # When the digest reported whether the dimension moved (once, at or after due_on).
    followed_up_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    outcome: str | None = Field(default=None, max_length=400)  # JSON: what the follow-up found


class FocusProposal(SQLModel, table=True):
    """The focus a published week's digest proposed, fixed the first time it was built."""

    __tablename__ = "focus_proposal"

    period: str = Field(primary_key=True, max_length=16)
    dimension: str = Field(max_length=40)


class TeamNudgeSent(SQLModel, table=True):
    """A team nudge delivered to a lead or a team channel (`target`) in a calendar week."""

    __tablename__ = "team_nudge_sent"

    target: str = Field(primary_key=True, max_length=32)
    week: str = Field(primary_key=True, max_length=16)  # ISO week of sending, "2026-W49"
    team: str = Field(primary_key=True, max_length=120)
    sent_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class WorkspaceSetting(SQLModel, table=True):
    """An admin's choice made in App Home; it overrides the environment default of its name.

    `value` is JSON. Kept as key/value rows so adding a setting needs no migration.
    """

    __tablename__ = "workspace_setting"

    key: str = Field(primary_key=True, max_length=40)
    value: str = Field(max_length=4000)
    updated_by: str | None = Field(default=None, max_length=32)  # cleared by forget-me
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class DigestSnapshot(SQLModel, table=True):
    """The findings of each posted digest (already through the anonymity gate), so App Home can
    show leaders the latest headline without recomputing a digest over every answer."""

    __tablename__ = "digest_snapshot"

    period: str = Field(primary_key=True, max_length=16)
    posted_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    findings: str  # the JSON of `cxpulse digest --json`
