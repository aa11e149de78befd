"""The anonymity gate: which groups may be shown at all.

A group is shown only when enough distinct people answered in it. Showing subgroups beside their
parent leaks the remainder by subtraction, so the hidden remainder must itself be empty or large
enough; when it is not, the next-smallest shown groups are hidden too until it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum


def may_show(respondents: int, minimum: int) -> bool:
    return respondents >= minimum


def visible_groups(counts: Mapping[str, int], minimum: int, *, parent_total: int) -> set[str]:
    """Subgroups that may be shown next to a parent of `parent_total` respondents.

    `counts` gives distinct respondents per subgroup; people in no listed subgroup are part of
    the remainder too (parent_total minus the listed counts).
    """
    if sum(counts.values()) > parent_total:
        raise ValueError("subgroups cannot hold more people than their parent")
    shown = {name for name, n in counts.items() if may_show(n, minimum)}
    while shown:
        remainder = parent_total - sum(counts[name] for name in shown)
        if remainder == 0 or remainder >= minimum:
            break
        smallest = min(shown, key=lambda name: (counts[name], name))
        shown.discard(smallest)
    # A single subgroup shown beside its parent reveals the rest unless the rest is big enough,
    # which the loop above has already checked.
    return shown


class GroupKind(StrEnum):
    ORG = "org"
    TEAM = "team"
    LEADERS = "leaders"
    OTHERS = "others"


@dataclass(frozen=True, slots=True)
class Person:
    """Someone who answered, as far as grouping needs: an opaque id, team, leader or not."""

    id: str
    team: str | None
    is_leader: bool


def shown_groups(
    people: Iterable[Person], minimum: int
) -> dict[tuple[GroupKind, str], frozenset[str]]:
    """Every group that may be shown, with its members' ids: the whole org, its teams and the
    leader / non-leader split, each checked against the minimum and against subtraction.

    The leader split is all or nothing: showing one half beside the org reveals the other.
    """
    everyone = {person.id: person for person in people}
    if not may_show(len(everyone), minimum):
        return {}
    groups: dict[tuple[GroupKind, str], frozenset[str]] = {(GroupKind.ORG, ""): frozenset(everyone)}
    by_team: dict[str, set[str]] = {}
    for person in everyone.values():
        if person.team is not None:
            by_team.setdefault(person.team, set()).add(person.id)
    counts = {team: len(ids) for team, ids in by_team.items()}
    for team in visible_groups(counts, minimum, parent_total=len(everyone)):
        groups[(GroupKind.TEAM, team)] = frozenset(by_team[team])
    leaders = frozenset(p.id for p in everyone.values() if p.is_leader)
    others = frozenset(everyone) - leaders
    if may_show(len(leaders), minimum) and may_show(len(others), minimum):
        groups[(GroupKind.LEADERS, "")] = leaders
        groups[(GroupKind.OTHERS, "")] = others
    return groups
