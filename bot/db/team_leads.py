"""Queries behind team leads: which teams the directory knows, and the team-nudge log that
keeps a nudge to one lead (or team channel) to once per calendar week."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from bot.db.models import Member, TeamNudgeSent


def directory_teams(*, session: Session) -> list[str]:
    """Every team an active member is in, as of the last directory refresh, sorted."""
    query = (
        sa_select(col(Member.team))
        .where(col(Member.team).is_not(None), col(Member.active).is_(True))
        .distinct()
    )
    return sorted(str(team) for team in session.execute(query).scalars() if team)


def claim_team_nudge(*, session: Session, target: str, week: str, team: str, now: datetime) -> bool:
    """Record that `target` (a lead's user ID or a channel) gets `team`'s nudge in `week`;
    False when it already has one this week (this process or another claimed it first)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # RETURNING, not rowcount: PostgreSQL's driver reports -1 for a skipped conflict here.
    inserted = session.execute(
        insert(TeamNudgeSent)
        .values(target=target, week=week, team=team, sent_at=now)
        .on_conflict_do_nothing(index_elements=["target", "week", "team"])
        .returning(col(TeamNudgeSent.target))
    ).first()
    return inserted is not None


def release_team_nudge(*, session: Session, target: str, week: str, team: str) -> None:
    """Forget a claim whose nudge certainly did not go out, so a later post may send it."""
    session.execute(
        delete(TeamNudgeSent).where(
            col(TeamNudgeSent.target) == target,
            col(TeamNudgeSent.week) == week,
            col(TeamNudgeSent.team) == team,
        )
    )
