"""A synthetic organisation and how its people answer, with a planted story to find.

The default story: the support team's sense of empowerment falls by a full point over six
weeks; leaders rate "leadership walks the talk" 1.5 points above the front line; the sales team
diverges from everyone else on cross-team collaboration. `Story.pure_noise()` plants nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

TEAMS = ("support", "success", "sales", "product", "engineering", "billing")
ZONES = ("Europe/London", "America/New_York", "Europe/Berlin", "Asia/Kolkata")
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

    @property
    def team_leads(self) -> str:
        """CX_TEAM_LEADS for this organisation: each team's leader leads it."""
        leaders = set(self.leaders)
        return ",".join(
            f"{team}={' '.join(u for u in members if u in leaders)}"
            for team, members in self.teams.items()
            if leaders.intersection(members)
        )


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


@dataclass(frozen=True, slots=True)
class Story:
    """Effects planted in the synthetic answers; sizes are points on the 1-5 scale."""

    declining_team: str | None = "support"
    declining_dimension: str = "empowerment"
    decline: float = 1.0
    decline_weeks: int = 6
    say_do_dimension: str | None = "leadership"
    say_do_gap: float = 1.5
    silo_team: str | None = "sales"
    silo_dimension: str = "collaboration"
    silo_offset: float = -1.2
    # Swings that hit everyone in a week (a launch, an outage), and each team in a week: real
    # data has them, and a report must not read them as change.
    week_swing: float = 0.1
    team_week_swing: float = 0.1

    @classmethod
    def pure_noise(cls) -> Story:
        return cls(declining_team=None, say_do_dimension=None, silo_team=None)


def expected_score(person: Person, dimension: str, week: int, story: Story, *, weeks: int) -> float:
    """The mean this person would give in week `week` of `weeks`, before noise.

    The decline is a straight line over the last `decline_weeks` weeks, reaching `decline`
    points below the start in the final week.
    """
    level = 3.7 + person.mood
    if story.declining_team == person.team and dimension == story.declining_dimension:
        # Week indexes run 0..weeks-1: the last `decline_weeks` of them each fall a step.
        start = weeks - story.decline_weeks
        progress = min(max(week - start + 1, 0), story.decline_weeks) / story.decline_weeks
        level -= story.decline * progress
    if story.say_do_dimension == dimension:
        # Leaders above, front line below, 1.5 points apart, the company mean about unchanged.
        level += story.say_do_gap * (0.75 if person.is_leader else -0.25)
    if story.silo_team == person.team and dimension == story.silo_dimension:
        level += story.silo_offset
    return level


def simulated_score(
    person: Person,
    dimension: str,
    week: int,
    rng: random.Random,
    story: Story,
    *,
    weeks: int,
    swing: float = 0.0,
) -> int:
    """One answer: the expected level, this week's shared `swing`, and personal noise."""
    level = expected_score(person, dimension, week, story, weeks=weeks) + swing
    return max(1, min(5, round(level + rng.gauss(0.0, 0.6))))


# "Doesn't apply to me": now and then for anyone, and often from teams that seldom meet a
# customer when asked about customers' everyday life.
NOT_APPLICABLE_SHARE = 0.02
BACK_OFFICE_TEAMS = frozenset({"engineering", "product"})
BACK_OFFICE_NOT_APPLICABLE = {"customer_insight": 0.3}


def doesnt_apply(person: Person, dimension: str, rng: random.Random) -> bool:
    """Whether this person answers "doesn't apply to me" to a statement of `dimension`."""
    share = NOT_APPLICABLE_SHARE
    if person.team in BACK_OFFICE_TEAMS:
        share = BACK_OFFICE_NOT_APPLICABLE.get(dimension, share)
    return rng.random() < share


def will_respond(person: Person, rng: random.Random) -> bool:
    return rng.random() < (0.95 if person.is_leader else 0.85)


def maybe_comment(rng: random.Random) -> str | None:
    return rng.choice(COMMENTS) if rng.random() < 0.12 else None
