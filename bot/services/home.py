"""What App Home shows one person: their own pulse life, and more for leaders and admins."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.db import personal
from bot.db import repositories as repo
from bot.db import workspace_settings as store
from bot.db.engine import session_scope
from bot.db.personal import OwnAnswer
from bot.scheduling import next_pulse_at
from bot.services.context import Deps
from bot.services.ports import SlackGateway
from bot.services.roles import is_leader
from bot.settings import Settings

OWN_ANSWER_ROUNDS = 2  # the latest two answered rounds: enough to recall, short enough to read
STREAK_HORIZON = 52


@dataclass(frozen=True, slots=True)
class SayDoGap:
    dimension: str
    leaders_mean: float
    others_mean: float
    gap: float


@dataclass(frozen=True, slots=True)
class LeaderSummary:
    """From the latest posted digest's findings, which already passed the anonymity gate."""

    period: str
    respondents: int
    response_rate: float | None
    gaps: tuple[SayDoGap, ...]
    focus: str | None
    focus_nudge: str | None


@dataclass(frozen=True, slots=True)
class HomeState:
    zone_name: str
    next_pulse: datetime | None  # None while paused or opted out
    paused: bool
    opted_out: bool
    streak: int
    own_answers: tuple[OwnAnswer, ...]
    min_group_size: int
    show_leader_section: bool
    comment_minimum: int
    leader: LeaderSummary | None  # None for a leader when no digest was posted yet
    admin_settings: Settings | None


def _streak(invited: list[tuple[int, datetime]], answered: set[int], now: datetime) -> int:
    """Consecutive latest rounds answered; a round still open and not yet answered is skipped."""
    count = 0
    for index, (round_id, closes_at) in enumerate(invited):
        if round_id in answered:
            count += 1
        elif index == 0 and closes_at > now:
            continue
        else:
            break
    return count


def _leader_summary(findings: dict[str, Any]) -> LeaderSummary:
    rate = findings.get("response_rate")
    gaps = tuple(
        SayDoGap(g["dimension"], g["leaders_mean"], g["others_mean"], g["gap"])
        for g in findings.get("say_do_gaps", [])
        if g.get("real") and g.get("gap") is not None
    )
    return LeaderSummary(
        period=str(findings["period"]),
        respondents=int(findings.get("respondents") or 0),
        response_rate=rate,
        gaps=gaps,
        focus=findings.get("focus"),
        focus_nudge=findings.get("focus_nudge"),
    )


def home_state(deps: Deps, gateway: SlackGateway, *, slack_user_id: str) -> HomeState:
    settings = deps.settings
    now = deps.clock.now()
    respondent = deps.respondent(slack_user_id)
    with session_scope(deps.engine) as session:
        member = repo.get_member(session=session, slack_user_id=slack_user_id)
        own = personal.recent_answers(
            session=session, respondent=respondent, rounds=OWN_ANSWER_ROUNDS
        )
        invited = (
            personal.invited_rounds(
                session=session, member_id=member.id, opened_by=now, limit=STREAK_HORIZON
            )
            if member is not None and member.id is not None
            else []
        )
        answered = personal.answered_rounds(
            session=session, respondent=respondent, round_ids=[r for r, _ in invited]
        )
        snapshot = store.latest_snapshot(session=session)
    is_admin = slack_user_id in settings.admins
    show_leader = is_admin or is_leader(settings=settings, gateway=gateway, user_id=slack_user_id)
    opted_out = member is not None and member.opted_out
    zone_name = (member.tz if member is not None else None) or settings.timezone
    return HomeState(
        zone_name=zone_name,
        next_pulse=(
            None
            if settings.paused or opted_out
            else next_pulse_at(settings, now, zone_name=zone_name)
        ),
        paused=settings.paused,
        opted_out=opted_out,
        streak=_streak(invited, answered, now),
        own_answers=tuple(own),
        min_group_size=settings.min_group_size,
        show_leader_section=show_leader,
        comment_minimum=settings.comment_minimum,
        leader=_leader_summary(snapshot[2]) if show_leader and snapshot else None,
        admin_settings=settings if is_admin else None,
    )
