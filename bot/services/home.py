"""What App Home shows one person: their own pulse life, and more for leaders and admins."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.db import personal
from bot.db import repositories as repo
from bot.db import workspace_settings as store
from bot.db.engine import session_scope
from bot.db.models import Member
from bot.db.personal import OwnAnswer
from bot.services import team_leads
from bot.services.context import Deps
from bot.services.ports import SlackGateway
from bot.services.roles import is_leader
from bot.services.rounds import next_scheduled_pulse
from bot.services.team_leads import OwnTeams
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
class OpenPulse:
    """A round open now whose pulse is in this person's DMs."""

    period: str
    closes_at: datetime
    answered: bool


@dataclass(frozen=True, slots=True)
class HomeState:
    zone_name: str
    next_pulse: datetime | None  # None while paused or opted out
    open_pulse: OpenPulse | None
    paused: bool
    opted_out: bool
    streak: int
    own_answers: tuple[OwnAnswer, ...]
    min_group_size: int
    show_leader_section: bool
    comment_minimum: int
    leader: LeaderSummary | None  # None for a leader when no digest was posted yet
    admin_settings: Settings | None
    own_teams: OwnTeams | None = None  # the teams this person leads (None: they lead none)


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


def _open_pulse(
    session: Session, member: Member | None, answered: set[int], now: datetime
) -> OpenPulse | None:
    if member is None or member.id is None:
        return None
    found = personal.open_invitation(session=session, member_id=member.id, now=now)
    if found is None:
        return None
    return OpenPulse(found.period, found.closes_at, answered=found.round_id in answered)


def _next_pulse(
    deps: Deps, session: Session, member: Member | None, now: datetime, zone_name: str
) -> datetime | None:
    """This person's next pulse: one of an open round still on its way to them (a scheduled
    round reaches each person at the pulse time on their own clock), else the schedule's next
    time in a week that has no round yet: a week whose round went out ad hoc has no other."""
    if member is not None and member.id is not None:
        pending = personal.pending_pulse_due(session=session, member_id=member.id, now=now)
        if pending is not None:
            return pending
    return next_scheduled_pulse(deps, session, after=now, zone_name=zone_name)


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
        opted_out = member is not None and member.opted_out
        zone_name = (member.tz if member is not None else None) or settings.timezone
        open_pulse = _open_pulse(session, member, answered, now)
        next_pulse = (
            None
            if settings.paused or opted_out
            else _next_pulse(deps, session, member, now, zone_name)
        )
    is_admin = slack_user_id in settings.admins
    show_leader = is_admin or is_leader(settings=settings, gateway=gateway, user_id=slack_user_id)
    return HomeState(
        zone_name=zone_name,
        next_pulse=next_pulse,
        open_pulse=open_pulse,
        paused=settings.paused,
        opted_out=opted_out,
        streak=_streak(invited, answered, now),
        own_answers=tuple(own),
        min_group_size=settings.min_group_size,
        show_leader_section=show_leader,
        comment_minimum=settings.comment_minimum,
        leader=_leader_summary(snapshot[2]) if show_leader and snapshot else None,
        admin_settings=settings if is_admin else None,
        own_teams=team_leads.own_teams(deps, slack_user_id=slack_user_id),
    )
