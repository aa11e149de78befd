"""Who may see what: admins from settings, leaders from the leadership channel's members."""

from __future__ import annotations

from enum import StrEnum

from bot.services.ports import SlackGateway
from bot.settings import Settings


class Audience(StrEnum):
    EVERYONE = "everyone"
    LEADERS = "leaders"
    ADMINS = "admins"


def is_leader(*, settings: Settings, gateway: SlackGateway, user_id: str) -> bool:
    """Read live from the channel, so adding someone there takes effect at once."""
    channel = settings.leadership_channel
    return bool(channel) and user_id in gateway.channel_members(channel or "")


def may_use(*, audience: Audience, settings: Settings, gateway: SlackGateway, user_id: str) -> bool:
    if audience is Audience.EVERYONE or user_id in settings.admins:
        return True
    if audience is Audience.LEADERS:
        return is_leader(settings=settings, gateway=gateway, user_id=user_id)
    return False
