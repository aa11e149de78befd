"""A synthetic organisation and how its people answer, with a planted story to find.

The story: the support team's sense of empowerment falls week after week while everything else
stays steady; leaders rate "leadership walks the talk" higher than the front line does.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

TEAMS = ("support", "success", "sales", "product", "engineering", "billing")
ZONES = ("Europe/London", "America/New_York", "Europe/Berlin", "Asia/Kolkata")
DECLINING_TEAM = "support"
DECLINING_DIMENSION = "empowerment"
LEADERSHIP_CHANNEL = "C0LEADERSHIP"
ADMIN_ID = "U0ADMIN01"

COMMENTS = (
    "I had to ask three people before I could refund a customer who was clearly right.",
    "Our tooling makes it hard to see a customer's history across teams.",
    "Great week - the new escalation path actually worked.",
    "<!channel> please stop celebrating one-point NPS moves while the backlog keeps growing",
    "We keep fixing the same billing bug by hand; nobody owns the root cause.",
    "More time with customers and fewer internal meetings would help.",
    "Leaders talk about customers a lot, but the roadmap says otherwise.",
)


@dataclass(frozen=True, slots=True)
class Person:
    user_id: str
    name: str
    team: str
    is_leader: bool
    tz: str
    mood: float  # a personal offset, so answers are correlated within a person


@dataclass
class SyntheticOrg:
    people: list[Person]
    teams: dict[str, list[str]] = field(default_factory=dict)
    leaders: list[str] = field(default_factory=list)
    bots: list[str] = field(default_factory=list)
    deactivated: list[str] = field(default_factory=list)


def build_org(seed: int, *, people_per_team: int = 10) -> SyntheticOrg:
    """Six teams of ten; each team's first person is a leader (in the leadership channel)."""
    rng = random.Random(seed)
    people: list[Person] = []
    teams: dict[str, list[str]] = {}
    for team_index, team in enumerate(TEAMS):
        for member_index in range(people_per_team):
            user_id = f"U{team_index + 1:02d}{member_index:03d}X"
            people.append(
                Person(
                    user_id=user_id,
                    name=f"{team}.{member_index + 1:02d}",
                    team=team,
                    is_leader=member_index == 0,
                    tz=rng.choice(ZONES),
                    mood=rng.gauss(0.0, 0.35),
                )
            )
            teams.setdefault(team, []).append(user_id)
    return SyntheticOrg(
        people=people,
        teams=teams,
        leaders=[p.user_id for p in people if p.is_leader],
        bots=["U0HELPERBOT"],
        deactivated=["U0FORMER01"],
    )


def expected_score(person: Person, dimension: str, week: int) -> float:
    """The mean this person would give, before noise."""
    level = 3.7 + person.mood
    if dimension == DECLINING_DIMENSION and person.team == DECLINING_TEAM:
        level -= 0.35 * week  # about two points down over six weeks
    if dimension == "leadership":
        level += 0.9 if person.is_leader else -0.5
    return level


def simulated_score(person: Person, dimension: str, week: int, rng: random.Random) -> int:
    raw = expected_score(person, dimension, week) + rng.gauss(0.0, 0.6)
    return max(1, min(5, round(raw)))


def will_respond(person: Person, rng: random.Random) -> bool:
    return rng.random() < (0.95 if person.is_leader else 0.85)


def maybe_comment(rng: random.Random) -> str | None:
    return rng.choice(COMMENTS) if rng.random() < 0.12 else None
