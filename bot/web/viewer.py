"""Who is looking at a page: the signed-in person and what their Slack roles let them see."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """The widest role a person holds, checked again every CX_ROLE_RECHECK_SECONDS."""

    ADMIN = "admin"  # in CX_ADMINS: the organisation and every team that passes the gate
    LEADER = "leader"  # in the leadership channel: the same as an admin
    TEAM_LEAD = "team_lead"  # leads teams (CX_TEAM_LEADS): the headline and their own teams
    EMPLOYEE = "employee"  # the organisation's findings and their own answers, nothing more


@dataclass(frozen=True)
class Viewer:
    """A signed-in person. `user_id` identifies them to services; never put it in a page or URL."""

    workspace_id: str
    user_id: str
    display_name: str
    role: Role
    lead_of: frozenset[str]  # team names they lead; empty unless TEAM_LEAD (or also a lead)
    csrf_token: str  # goes into every form of the page as a hidden field

    @property
    def sees_every_team(self) -> bool:
        return self.role in (Role.ADMIN, Role.LEADER)

    def may_see_team(self, team: str) -> bool:
        return self.sees_every_team or team in self.lead_of
