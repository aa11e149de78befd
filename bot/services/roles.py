"""Who may see what: admins from settings, leaders from the leadership channel's members, and
team leads from settings (CX_TEAM_LEADS or App Home), each for their own team only."""

from __future__ import annotations

from enum import StrEnum

from bot.services.ports import SlackGateway
from bot.settings import Settings


class Audience(StrEnum):
    EVERYONE = "everyone"
    LEADERS = "leaders"
    ADMINS = "admins"
    # Leaders and admins, and team leads for their own team (the command checks which team).
    TEAM_LEADS = "team_leads"


def is_leader(*, settings: Settings, gateway: SlackGateway, user_id: str) -> bool:
    """Read live from the channel, so adding someone there takes effect at once."""
    channel = settings.leadership_channel
    return bool(channel) and user_id in gateway.channel_members(channel or "")


def led_teams(*, settings: Settings, user_id: str) -> tuple[str, ...]:
    """The teams this person leads, by name."""
    return tuple(sorted(team for team, leads in settings.team_leads.items() if user_id in leads))


def sees_every_team(*, settings: Settings, gateway: SlackGateway, user_id: str) -> bool:
    return user_id in settings.admins or is_leader(
        settings=settings, gateway=gateway, user_id=user_id
    )


def may_use(*, audience: Audience, settings: Settings, gateway: SlackGateway, user_id: str) -> bool:
    if audience is Audience.EVERYONE or user_id in settings.admins:
        return True
    if audience is Audience.TEAM_LEADS and led_teams(settings=settings, user_id=user_id):
        return True
    if audience in (Audience.LEADERS, Audience.TEAM_LEADS):
        return is_leader(settings=settings, gateway=gateway, user_id=user_id)
    return False


def audience_copy_key(audience: Audience) -> str:
    """The copy naming who may run a command, for the polite refusal."""
    return "team_leads.audience" if audience is Audience.TEAM_LEADS else f"audiences.{audience}"
