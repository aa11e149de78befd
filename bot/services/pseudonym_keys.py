"""CX_PSEUDONYM_KEY: refusing a key the database is not under, and rotating it.

Every pseudonym, and every tag made from one, is rewritten under the new key in one
transaction (`rotate_pseudonym_key`), so history stays joined and nothing made with the old key
is left behind; interrupted (an error, a kill, a lost connection), it leaves the database
exactly as it was, still under the old key.

Who gets which new pseudonym:
- a person in the directory (`member`): HMAC(Slack user ID, new key), what the app computes
  for them from now on, so their history joins their next answers;
- a respondent with no stored raw ID (imported from a CSV, whose respondent column is never
  stored): HMAC(old pseudonym, new key) (`bot.pseudonym.rekeyed`). Their answers stay
  together, link to nobody without the new key, and the old key alone no longer finds them. A
  file's respondents can no longer be matched to them, so a week imported before the rotation
  takes no more imports (`pulse_round.key_generation`; the importer says so and adds nothing);
- a forgotten person (`/cx forget-me`, only a tombstone pseudonym left): matched against the
  Slack directory as Slack lists it now, deactivated accounts included, and re-keyed from their
  user ID so a directory refresh still leaves them out. A tombstone that matches nobody Slack
  lists is deleted: no one it could keep out is left in the workspace;
- comments carry nothing made with the key (issue 14: they are stored apart from answers,
  and only an opted-in comment has a link to its author, sealed with CX_ENCRYPTION_KEY), so
  a rotation has nothing of theirs to re-make.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal, Protocol

from sqlalchemy import Engine

from bot.db import pseudonym_keys as store
from bot.db.engine import session_scope
from bot.db.published import rewrite_in_key_order
from bot.pseudonym import (
    PseudonymKeyMismatch,
    click_offset,
    key_check,
    pseudonym,
    rekeyed,
)

MIN_KEY_CHARS = 16  # as CX_PSEUDONYM_KEY


class NotUnderKey(Exception):
    """The database is under neither the key given as current nor the new one."""


class NeedsDirectory(Exception):
    """Forgotten people's tombstones can only be re-keyed from the Slack directory."""

    def __init__(self, tombstones: int) -> None:
        super().__init__(tombstones)
        self.tombstones = tombstones


def check_new_key(current: str, new: str) -> None:
    if len(new) < MIN_KEY_CHARS:
        raise ValueError(f"the new key must be at least {MIN_KEY_CHARS} characters")
    if new == current:
        raise ValueError("the new key is the current one")


def ensure_key(engine: Engine, key: str, *, now: datetime) -> int:
    """Refuse a key the database is not under (PseudonymKeyMismatch); a database that has not
    recorded its key yet takes this one. Returns the key's generation."""
    check = key_check(key.encode())
    with session_scope(engine) as session:
        state = store.key_state(session=session)
        if state is None:
            state = store.adopt_key(session=session, key_check=check, now=now)
        if state.key_check != check:
            raise PseudonymKeyMismatch(generation=state.generation, since=state.since)
        return state.generation


@dataclass(frozen=True, slots=True)
class RotationPlan:
    """What a rotation of one database would do, for the operator to confirm."""

    status: Literal["current", "rotated"]  # under the current key, or already under the new
    generation: int
    members: int
    respondents: int  # distinct pseudonyms with answers (or a pending roster row)
    from_members: int  # of which are people in the directory, re-keyed from their Slack ID
    without_id: int  # of which have no raw ID stored (imported): re-keyed by HMAC chain
    tombstones: int


def plan_rotation(engine: Engine, *, current: str, new: str, now: datetime) -> RotationPlan:
    """Raises NotUnderKey when the database is under neither key."""
    old_key = current.encode()
    with session_scope(engine) as session:
        state = store.key_state(session=session)
        if state is None:
            state = store.adopt_key(session=session, key_check=key_check(old_key), now=now)
        if state.key_check == key_check(new.encode()):
            status: Literal["current", "rotated"] = "rotated"
        elif state.key_check == key_check(old_key):
            status = "current"
        else:
            raise NotUnderKey()
        members = {pseudonym(old_key, u) for u in store.member_user_ids(session=session)}
        stored = store.stored_respondents(session=session)
        return RotationPlan(
            status=status,
            generation=state.generation,
            members=len(members),
            respondents=len(stored),
            from_members=len(stored & members),
            without_id=len(stored - members),
            tombstones=len(store.tombstones(session=session)),
        )


class Step(StrEnum):
    RESPONDENTS = "respondents"
    TOMBSTONES = "tombstones"
    STORAGE_ORDER = "storage_order"


class RotationProgress(Protocol):
    def step(self, step: Step, total: int) -> None: ...

    def advance(self, done: int) -> None: ...


class _Silent:
    def step(self, step: Step, total: int) -> None:
        pass

    def advance(self, done: int) -> None:
        pass


@dataclass(frozen=True, slots=True)
class RotationReport:
    generation: int
    from_members: int
    without_id: int
    tombstones_rekeyed: int
    tombstones_dropped: int


def rotate_pseudonym_key(
    engine: Engine,
    *,
    current: str,
    new: str,
    now: datetime,
    directory: Collection[str] | None = None,
    progress: RotationProgress | None = None,
) -> RotationReport:
    """Re-key every pseudonym from `current` to `new` in one transaction.

    `directory`: every Slack user ID Slack lists now (deactivated accounts included), needed
    only when there are forgotten people's tombstones (NeedsDirectory otherwise). Raises
    NotUnderKey, writing nothing, unless the database is under `current`.
    """
    check_new_key(current, new)
    old_key, new_key = current.encode(), new.encode()
    steps = progress or _Silent()
    with session_scope(engine) as session:
        generation = store.advance_generation(
            session=session,
            current_check=key_check(old_key),
            new_check=key_check(new_key),
            now=now,
        )
        if generation is None:
            raise NotUnderKey()
        store.lock_rekeyed_tables(session=session)

        # Everything is read under the old key first, then written.
        members = {
            pseudonym(old_key, user): pseudonym(new_key, user)
            for user in store.member_user_ids(session=session)
        }
        stored = store.stored_respondents(session=session)
        moved = {old: members.get(old) or rekeyed(new_key, old) for old in stored}
        changes = sorted(
            (
                store.Rekey(old, new_p, click_offset(new_key, new_p) - click_offset(old_key, old))
                for old, new_p in moved.items()
            ),
            key=lambda change: change.new,
        )
        graves = store.tombstones(session=session)
        if graves and directory is None:
            raise NeedsDirectory(len(graves))
        found: dict[str, str] = {}
        for user in directory or ():
            old_grave = pseudonym(old_key, user)
            if old_grave in graves:
                found[old_grave] = pseudonym(new_key, user)

        steps.step(Step.RESPONDENTS, len(changes))
        for start in range(0, len(changes), store.REKEY_CHUNK):
            chunk = changes[start : start + store.REKEY_CHUNK]
            store.rekey_answers(session=session, changes=chunk)
            store.rekey_pending_roster(session=session, changes=chunk)
            steps.advance(len(chunk))

        steps.step(Step.TOMBSTONES, len(graves))
        store.rekey_tombstones(
            session=session,
            changes=sorted(
                (store.Rekey(old, new_p) for old, new_p in found.items()), key=lambda c: c.new
            ),
            dropped=sorted(graves - set(found)),
        )
        steps.advance(len(graves))

        # PostgreSQL's heap would otherwise keep the rows in the order they were re-keyed,
        # which is the old pseudonyms' order: whoever kept the old key could follow it.
        steps.step(Step.STORAGE_ORDER, 1)
        rewrite_in_key_order(session=session, round_ids=store.answered_round_ids(session=session))
        steps.advance(1)
    return RotationReport(
        generation=generation,
        from_members=sum(1 for old in stored if old in members),
        without_id=sum(1 for old in stored if old not in members),
        tombstones_rekeyed=len(found),
        tombstones_dropped=len(graves) - len(found),
    )
