"""The tables of comments kept apart from answers, and of confidential replies (issue 14).

No row here holds a comment (or its id) together with a Slack user ID, a DM channel or a
pseudonym. The only link between a comment and its author is `reply_link.sealed`: Fernet
ciphertext under CX_ENCRYPTION_KEY, kept only for comments whose author ticked "let leaders
reply", deleted when their conversation ends or CX_REPLY_DAYS after their week closed.

What a dump shows, table by table (README, Privacy):
- `pending_comment`: a comment of a round not yet published, with its round and statement;
  a random id, no time, stored in id order (WITHOUT ROWID), so neither its position nor a row
  id tells when it was written. Publication moves it to `published_comment` (same id) or, when
  the comment rule is not met, deletes it.
- `reply_link`: a comment id, a Fernet token and when the link expires (the round's close plus
  CX_REPLY_DAYS: the same for every link of the round). The token's own timestamp is the
  round's opening, not the moment of the click.
- `reply_thread`: which leader replied to which comment, where the leader's side of the
  conversation is (their DM with the bot), and whether and why it closed. No time the author
  did anything.
- `relay_message`: what is waiting to be passed on (at most CX_RELAY_DELAY_SECONDS), deleted
  once delivered; leaders' replies stay only in `reply_audit`, the author's nowhere.
- `reply_audit`: every leader reply (leader, time, text) for admins; never the author.

Kept in a module of its own with no import of `bot.db.models` (which imports this module, so
the tables join the metadata wherever the models are loaded); the queries are in
`bot.db.relay`.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from bot.db.types import UTCDateTime

ID_LENGTH = 32  # secrets.token_hex(16): random, never sequential
SEALED_LENGTH = 1000  # a Fernet token of a padded 256-byte plaintext is 440 characters


class PendingComment(SQLModel, table=True):
    """A comment of a round whose week is not yet published: its round and statement, never
    its author. Publication moves it to `published_comment` under the same id."""

    __tablename__ = "pending_comment"
    __table_args__ = {"sqlite_with_rowid": False}

    id: str = Field(primary_key=True, max_length=ID_LENGTH)
    round_id: int = Field(foreign_key="pulse_round.id", index=True)
    question_id: str = Field(foreign_key="question.id", max_length=80)
    text: str = Field(max_length=3000)


class ReplyLink(SQLModel, table=True):
    """The one link from an opted-in comment to its author, sealed with CX_ENCRYPTION_KEY.

    `sealed` decrypts (bot.services.reply_links) to the author's Slack user ID and, once a
    leader's reply reached them, their DM channel and the conversation's first message there.
    `comment_id` is a `pending_comment` or `published_comment` id (the same id on both).
    """

    __tablename__ = "reply_link"
    __table_args__ = {"sqlite_with_rowid": False}

    id: str = Field(primary_key=True, max_length=ID_LENGTH)
    comment_id: str = Field(max_length=ID_LENGTH, unique=True, index=True)
    sealed: str = Field(max_length=SEALED_LENGTH)
    # The round's close plus CX_REPLY_DAYS: the same for every link of a round.
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))


class ThreadEnd(StrEnum):
    """Why a conversation ended (`reply_thread.closed`); None while it is open."""

    LEADER = "leader"
    AUTHOR = "author"
    WITHDRAWN = "withdrawn"  # `/cx withdraw` or `/cx forget-me`
    EXPIRED = "expired"


class ReplyThread(SQLModel, table=True):
    """A conversation about one published comment, between the leader who started it and the
    comment's author, whom it never names. The leader's side is a thread in their DM with the
    bot (`leader_channel`, `leader_ts`); the author's side is known only through the link."""

    __tablename__ = "reply_thread"

    id: str = Field(primary_key=True, max_length=ID_LENGTH)
    comment_id: str = Field(max_length=ID_LENGTH, unique=True, index=True)
    period: str = Field(max_length=16, index=True)  # the comment's week
    leader: str = Field(max_length=32, index=True)
    leader_channel: str | None = Field(default=None, max_length=32)
    leader_ts: str | None = Field(default=None, max_length=32, index=True)
    opened_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    closed: str | None = Field(default=None, max_length=16)  # a ThreadEnd; None while open


class RelayMessage(SQLModel, table=True):
    """A message waiting to be passed on, due at a random time (CX_RELAY_DELAY_SECONDS);
    deleted once delivered. Claimed like a pulse delivery, so a crash neither loses nor
    doubles it."""

    __tablename__ = "relay_message"
    __table_args__ = {"sqlite_with_rowid": False}

    id: str = Field(primary_key=True, max_length=ID_LENGTH)
    thread_id: str = Field(max_length=ID_LENGTH, index=True)
    to_author: bool
    kind: str = Field(max_length=16)  # "reply", or "closed": the other side ended it
    text: str | None = Field(default=None, max_length=3000)
    due_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    claim_token: str | None = Field(default=None, max_length=36)
    claimed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    attempts: int = Field(default=0)


class ReplyAudit(SQLModel, table=True):
    """Every reply a leader sent an author: who, when, what, in which conversation; admins
    read it (`/cx replies-audit`). Nothing about the author."""

    __tablename__ = "reply_audit"

    id: int | None = Field(default=None, primary_key=True)
    thread_id: str = Field(max_length=ID_LENGTH)
    leader: str = Field(max_length=32, index=True)
    period: str = Field(max_length=16)
    sent_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    text: str = Field(max_length=3000)
