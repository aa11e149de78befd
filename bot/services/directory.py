"""Who is who: participants from users.list, teams from user groups, leaders from a channel."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime

from sqlmodel import Session

from bot.db import repositories as repo
from bot.services.ports import DirectoryUser, SlackGateway, UserGroup

SLACKBOT_ID = "USLACKBOT"


def is_participant(user: DirectoryUser) -> bool:
    return not (user.is_bot or user.deleted or user.user_id == SLACKBOT_ID)


def team_by_user(groups: Iterable[UserGroup]) -> dict[str, str]:
    """Each person's team: the smallest user group they are in (ties by handle), so a broad
    group such as @everyone never swallows the specific team."""
    ordered = sorted(groups, key=lambda g: (len(g.user_ids), g.handle))
    teams: dict[str, str] = {}
    for group in ordered:
        for user_id in group.user_ids:
            teams.setdefault(user_id, group.handle)
    return teams


def team_channel_groups(gateway: SlackGateway, team_channels: Mapping[str, str]) -> list[UserGroup]:
    """Teams as the members of their channels, for workspaces that organise by channel."""
    return [
        UserGroup(group_id=channel, handle=team, name=team, user_ids=tuple(members))
        for team, channel in sorted(team_channels.items())
        for members in [gateway.channel_members(channel)]
    ]


def refresh_directory(
    *,
    session: Session,
    gateway: SlackGateway,
    leadership_channel: str | None,
    now: datetime,
    forgotten: Callable[[str], bool],
    team_channels: Mapping[str, str] | None = None,
) -> int:
    """Mirror the workspace into `member`; returns how many people are in the directory.

    Teams come from user groups, or from `team_channels` (team -> channel) when given. People
    who asked to be forgotten (`forgotten(user_id)` is true) are left out entirely.
    """
    users = [
        user
        for user in gateway.list_users()
        if is_participant(user) and not forgotten(user.user_id)
    ]
    groups = (
        team_channel_groups(gateway, team_channels)
        if team_channels is not None
        else gateway.list_usergroups()
    )
    teams = team_by_user(groups)
    leaders = set(gateway.channel_members(leadership_channel)) if leadership_channel else set()
    entries = [
        repo.DirectoryEntry(
            slack_user_id=user.user_id,
            team=teams.get(user.user_id),
            is_leader=user.user_id in leaders,
            tz=user.tz,
            locale=user.locale,
        )
        for user in users
    ]
    return repo.upsert_directory(session=session, entries=entries, now=now)
