"""Kudos in numbers and words: how a person is named in public, the week's per-team counts
and which story the digest quotes. Pure functions: no database, no Slack, no clock."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

# A team smaller than this would point at the person ("a colleague on a team of two" is one
# of two people), so it is never named for someone who opted out, and its kudos are counted
# under "other teams". The digest uses the larger of this and the smallest group shown.
TEAM_NAMING_FLOOR = 3


class Naming(StrEnum):
    NAMED = "named"  # a mention of the person
    TEAM = "team"  # "a colleague on <team>"
    COLLEAGUE = "colleague"  # "a colleague"


def naming(*, known: bool, opted_out: bool, team: str | None, team_size: int, floor: int) -> Naming:
    """How a giver or recipient is shown in a kudos post or the digest.

    `known`: their user ID is still held (forget-me clears it). Someone who opted out, or was
    forgotten, is "a colleague on <team>" when the team is at least `floor` people, else "a
    colleague"; a forgotten person never gets their team (it was part of what they asked to
    have forgotten)."""
    if known and not opted_out:
        return Naming.NAMED
    if known and team and team_size >= max(floor, TEAM_NAMING_FLOOR):
        return Naming.TEAM
    return Naming.COLLEAGUE


@dataclass(frozen=True, slots=True)
class Shown:
    """A giver or recipient as a post or the digest shows them."""

    naming: Naming
    user_id: str | None = None  # only when named
    team: str | None = None  # only when shown as "a colleague on <team>"


def shown(
    user_id: str | None, *, opted_out: bool, team: str | None, team_size: int, floor: int
) -> Shown:
    chosen = naming(
        known=user_id is not None, opted_out=opted_out, team=team, team_size=team_size, floor=floor
    )
    return Shown(
        chosen,
        user_id if chosen is Naming.NAMED else None,
        team if chosen is Naming.TEAM else None,
    )


@dataclass(frozen=True, slots=True)
class TeamCount:
    team: str
    count: int


@dataclass(frozen=True, slots=True)
class KudosTally:
    """A week's kudos: all of them, the teams shown (most first) and the rest together."""

    total: int
    teams: tuple[TeamCount, ...]
    other: int


def tally(
    teams: Iterable[str | None], sizes: Mapping[str, int], *, floor: int, shown: int
) -> KudosTally:
    """Kudos per recipient team. Teams under the naming floor, kudos of people in no team and
    the teams beyond the first `shown` (by count, then name) are counted as "other teams"."""
    floor = max(floor, TEAM_NAMING_FLOOR)
    counts = Counter(teams)
    total = sum(counts.values())
    named = sorted(
        (
            (team, count)
            for team, count in counts.items()
            if team is not None and sizes.get(team, 0) >= floor
        ),
        key=lambda item: (-item[1], item[0]),
    )[:shown]
    listed = tuple(TeamCount(team, count) for team, count in named)
    return KudosTally(total, listed, total - sum(t.count for t in listed))


@dataclass(frozen=True, slots=True)
class WeekQuote:
    """The story a digest quotes, and its recipient as shown."""

    story: str
    recipient: Shown


@dataclass(frozen=True, slots=True)
class KudosSummary:
    """A digest's kudos section: the week's counts, one story, and where kudos are posted."""

    tally: KudosTally
    quote: WeekQuote | None
    channel: str | None


def _order_key(period: str, kudos_id: int) -> str:
    """A fixed shuffle of a week's stories: neither the first nor the latest is favoured."""
    return hashlib.sha256(f"{period}|{kudos_id}".encode()).hexdigest()


def pick_quote(period: str, candidates: Sequence[tuple[int, bool]]) -> int | None:
    """The story to quote from (kudos id, recipient may be named) pairs: one whose recipient
    may be named if there is one, else an anonymous one; the same for the same week."""
    if not candidates:
        return None
    ranked = sorted(candidates, key=lambda c: (not c[1], _order_key(period, c[0])))
    return ranked[0][0]
