"""The first rule of the gate: a group is shown only when enough distinct people answered in
it. What may be shown *together* (no combination singling out a smaller group) is the
disclosure auditor's work (`bot.analytics.disclosure`, applied in `bot.analytics.cells`).
"""

from __future__ import annotations

from enum import StrEnum


def may_show(respondents: int, minimum: int) -> bool:
    return respondents >= minimum


class GroupKind(StrEnum):
    ORG = "org"
    TEAM = "team"
    LEADERS = "leaders"
    OTHERS = "others"
