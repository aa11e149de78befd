"""Team leads: the teams admins can give leads to, what a lead sees of their own team, and
what `/cx team` shows whom.

A lead sees only what the latest published report already shows (its team cells passed the
anonymity gate when the week was published); nothing here reads an answer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from bot.analytics.findings import TeamFindings
from bot.db import team_leads as store
from bot.db.engine import session_scope
from bot.errors import CxError, NothingToReport
from bot.services.config import SettingsRejected
from bot.services.context import Deps
from bot.services.digest import Report, latest_report
from bot.services.ports import SlackGateway
from bot.services.roles import led_teams, sees_every_team
from bot.settings import Settings

# workspace_setting.value holds at most this many characters of JSON.
STORED_LIMIT = 4000


class NotYourTeam(CxError):
    """A team lead asked for a team they do not lead."""

    copy_key = "team_leads.not_your_team"


@dataclass(frozen=True, slots=True)
class TeamAccess:
    every_team: bool  # leaders and admins
    own: tuple[str, ...]  # the teams this person leads


def team_access(*, settings: Settings, gateway: SlackGateway, user_id: str) -> TeamAccess:
    return TeamAccess(
        every_team=sees_every_team(settings=settings, gateway=gateway, user_id=user_id),
        own=led_teams(settings=settings, user_id=user_id),
    )


@dataclass(frozen=True, slots=True)
class TeamView:
    """What `/cx team` replies: one team as the report shows it, or the usage line."""

    report: Report
    teams: tuple[str, ...]  # the teams to show; empty means "say which team"
    own_only: bool  # a lead's view: no list of other teams, hidden means "too few answered"


def team_view(deps: Deps, access: TeamAccess, *, asked: str | None) -> TeamView:
    """The teams `/cx team [team]` shows this person, or NotYourTeam."""
    report = latest_report(deps)
    own_only = not access.every_team
    if asked is None:
        return TeamView(report, access.own, own_only)
    if own_only and asked not in access.own:
        raise NotYourTeam(team=asked[:40])
    return TeamView(report, (asked,), own_only)


@dataclass(frozen=True, slots=True)
class OwnTeam:
    team: str
    shown: TeamFindings | None  # None when the team's results are hidden this week


@dataclass(frozen=True, slots=True)
class OwnTeams:
    """A lead's teams in the latest published week, for App Home."""

    period: str | None  # None before any week is published
    min_group_size: int
    teams: tuple[OwnTeam, ...]


def own_teams(deps: Deps, *, slack_user_id: str) -> OwnTeams | None:
    """The latest readings of the teams this person leads; None if they lead none."""
    settings = deps.settings
    teams = led_teams(settings=settings, user_id=slack_user_id)
    if not teams:
        return None
    try:
        report = latest_report(deps)
    except NothingToReport:
        return OwnTeams(None, settings.min_group_size, tuple(OwnTeam(t, None) for t in teams))
    shown = {t.team: t for t in report.findings.teams}
    return OwnTeams(
        report.period, report.min_group_size, tuple(OwnTeam(t, shown.get(t)) for t in teams)
    )


def known_teams(deps: Deps) -> list[str]:
    """Teams an admin can give leads to: the directory's, and any named in settings."""
    settings = deps.settings
    with session_scope(deps.engine) as session:
        teams = set(store.directory_teams(session=session))
    return sorted(teams | set(settings.team_leads) | set(settings.team_channels))


def merge_team_leads(
    current: Mapping[str, tuple[str, ...]], submitted: Mapping[str, tuple[str, ...]]
) -> dict[str, tuple[str, ...]]:
    """The leads in force after a settings form: the form's teams replaced (emptied ones
    dropped), teams the form did not show kept as they were."""
    merged = {team: tuple(leads) for team, leads in current.items()}
    for team, leads in submitted.items():
        if leads:
            merged[team] = tuple(dict.fromkeys(leads))
        else:
            merged.pop(team, None)
    if len(json.dumps(merged, sort_keys=True)) > STORED_LIMIT:
        raise SettingsRejected({"team_leads": "team_leads.settings_error"})
    return dict(sorted(merged.items()))
