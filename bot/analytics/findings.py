"""What a report may claim about one period: readings, changes that are outside noise, the
say-do gap, silos and drivers. Pure: gated cells in, findings out.

Every test of a report joins one family, and Benjamini-Hochberg decides which are real, so a
steady organisation gets "no real change" almost always (at most `q` of the time) however many
teams and dimensions it has.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache

from bot.analytics.anonymity import GroupKind
from bot.analytics.cells import Cell, GroupKey, PeriodCells
from bot.analytics.noise import (
    Change,
    Distribution,
    Level,
    Spread,
    benjamini_hochberg,
    between_period_variance,
    compare,
    compare_levels,
    level,
    level_spread,
    pooled_variance,
    single_level,
    spearman_counted,
    spearman_interval,
)

BASELINE_PERIODS = 8
QUARTER_WEEKS = 13
PREVIOUS_WITHIN_WEEKS = 8
WINDOW_WEEKS = 4  # the rotation covers every dimension in four rounds
# Say-do gaps and silos are standing differences, not news: judged over two rotations.
STANDING_WEEKS = 2 * WINDOW_WEEKS
DRIVER_MIN_PAIRS = 30
FALSE_DISCOVERY_RATE = 0.05
# Group means are never treated as steadier than about 0.1 point from week to week (variance
# 0.01). Estimates from a few weeks run low, and with thousands of answers a sampling-only
# test would call a 0.05-point wobble "real": celebrating 67 to 68.
MIN_WEEKLY_SWING = 0.01
SWING_HISTORY = 26  # weeks of earlier readings that inform a group's weekly swing


@cache
def week_number(period: str) -> int:
    """Weeks since 0001-W01 for "YYYY-Www", so periods can be subtracted."""
    year, week = int(period[:4]), int(period[6:])
    return date.fromisocalendar(year, week, 1).toordinal() // 7


@dataclass
class Verdict:
    """A tested change; `real` is filled in once the whole report's family is known."""

    delta: float | None
    delta_favourable: float | None = None
    p_value: float = 1.0
    real: bool = False
    tested: bool = False

    @property
    def direction(self) -> str:
        if not self.real or self.delta is None:
            return "none"
        return "up" if self.delta > 0 else "down"


def _from_change(change: Change | None) -> Verdict:
    if change is None:
        return Verdict(None)
    return Verdict(change.delta_mean, change.delta_favourable, change.p_value, tested=True)


@dataclass
class Reading:
    """A group's latest answers on a dimension (within the rotation window of the report's
    period), with its changes."""

    dimension: str
    period: str
    respondents: int
    distribution: Distribution
    vs_previous: Verdict
    vs_baseline: Verdict
    # The last WINDOW_WEEKS weeks against the BASELINE_PERIODS weeks before them: how a change
    # spread over several weeks (a slow slide) shows up.
    recent: Verdict
    quarter: Verdict = field(default_factory=lambda: Verdict(None))
    previous_period: str | None = None

    @property
    def favourable_share(self) -> float:
        return self.distribution.favourable_share

    @property
    def unfavourable_share(self) -> float:
        return self.distribution.unfavourable_share

    @property
    def mean(self) -> float:
        return self.distribution.mean

    def verdicts(self) -> list[Verdict]:
        return [self.vs_previous, self.vs_baseline, self.recent, self.quarter]

    @property
    def real_direction(self) -> str:
        """ "down" or "up" when any of its changes is real ("down" wins), else "none"."""
        directions = {v.direction for v in self.verdicts()}
        if "down" in directions:
            return "down"
        return "up" if "up" in directions else "none"


@dataclass
class TeamFindings:
    team: str
    respondents: int
    readings: list[Reading]


@dataclass
class SayDoGap:
    dimension: str
    leaders_mean: float
    others_mean: float
    leaders: int
    others: int
    verdict: Verdict
    # What is shown: the two groups' favourable shares over the same weeks (tested on means).
    leaders_favourable: float = 0.0
    others_favourable: float = 0.0

    @property
    def gap(self) -> float:
        return self.leaders_mean - self.others_mean


@dataclass
class Silo:
    dimension: str
    spread: float
    highest: str
    lowest: str
    teams: int
    verdict: Verdict
    # The highest and lowest teams' favourable shares over the window (tested on means).
    highest_favourable: float = 0.0
    lowest_favourable: float = 0.0


@dataclass(frozen=True, slots=True)
class Driver:
    """Association (not cause) between a dimension and the customer-first outcome."""

    dimension: str
    rho: float
    low: float
    high: float
    pairs: int

    @property
    def real(self) -> bool:
        return self.low > 0 or self.high < 0


@dataclass
class ActionFollowUp:
    """Did a dimension move after leaders said what they are doing about it?"""

    dimension: str
    since: str  # the period the action was recorded in
    verdict: Verdict
    # Favourable shares of the readings after and before `since` (None without readings).
    after_favourable: float | None = None
    before_favourable: float | None = None


@dataclass
class Findings:
    period: str
    dimensions: list[Reading]
    teams: list[TeamFindings]
    say_do: list[SayDoGap]
    silos: list[Silo]
    drivers: list[Driver]
    follow_ups: list[ActionFollowUp] = field(default_factory=list)
    tests: int = 0


class Timeline(list[PeriodCells]):
    """A report's periods, oldest first, indexed by group and dimension on first use (a report
    reads each series several times; at 50 teams and 26 weeks that adds up)."""

    def __init__(self, periods: Sequence[PeriodCells]) -> None:
        super().__init__(periods)
        self._series: dict[tuple[GroupKey, str], list[tuple[int, Cell]]] | None = None

    def series(self, key: GroupKey, dimension: str) -> list[tuple[int, Cell]]:
        if self._series is None:
            self._series = _index(self)
        return self._series.get((key, dimension), [])


def _index(history: Sequence[PeriodCells]) -> dict[tuple[GroupKey, str], list[tuple[int, Cell]]]:
    """Every group's series in one pass over the cells shown (what `_scan` finds for each)."""
    found: dict[tuple[GroupKey, str], list[tuple[int, Cell]]] = {}
    for period in history:
        week = week_number(period.period)
        groups: list[tuple[GroupKey, dict[str, Cell]]] = [
            ((GroupKind.ORG, ""), period.org),
            ((GroupKind.LEADERS, ""), period.leaders),
            ((GroupKind.OTHERS, ""), period.others),
        ]
        groups += [((GroupKind.TEAM, team), cells) for team, cells in period.teams.items()]
        for key, cells in groups:
            for dimension, cell in cells.items():
                found.setdefault((key, dimension), []).append((week, cell))
    return found


def _scan(history: Sequence[PeriodCells], key: GroupKey, dimension: str) -> list[tuple[int, Cell]]:
    return [
        (week_number(p.period), cell)
        for p in history
        if (cell := p.group(key, dimension)) is not None
    ]


def _cells_of(
    history: Sequence[PeriodCells], key: GroupKey, dimension: str
) -> list[tuple[int, Cell]]:
    if isinstance(history, Timeline):
        return history.series(key, dimension)
    return _scan(history, key, dimension)


def group_swing(
    history: Sequence[PeriodCells],
    keys: Sequence[GroupKey],
    dimensions: Sequence[str],
    person_share: float,
) -> float:
    """Week-to-week variance of group means, from readings before the report's period.

    Pooled over dimensions and over `keys` (all teams together): a dozen people's few weeks
    say little about their swings alone, and an estimate that comes out too small would pass
    ordinary swings off as change.
    """
    # The series of the whole history (indexed once), cut to the earlier weeks.
    earlier = {week_number(p.period) for p in history[:-1][-SWING_HISTORY:]}
    series = [
        [c.dist for week, c in _cells_of(history, key, d) if week in earlier]
        for key in keys
        for d in dimensions
    ]
    return max(MIN_WEEKLY_SWING, between_period_variance(series, person_share=person_share))


@dataclass(frozen=True, slots=True)
class Noise:
    """What a group's readings vary by without any real change."""

    swing: float  # week-to-week variance of the group's means (all dimensions together)
    person_share: float  # share of answer spread that belongs to the people themselves


def _reading(
    history: Sequence[PeriodCells],
    key: GroupKey,
    dimension: str,
    *,
    noise: Noise,
    org_level: bool,
) -> Reading | None:
    """The group's reading in the last period of `history`, against its own past."""
    series = _cells_of(history, key, dimension)
    # The latest reading within the rotation window: a dimension asked three weeks ago is
    # still this week's news about it.
    if not series or week_number(history[-1].period) - series[-1][0] >= WINDOW_WEEKS:
        return None
    now, latest = series[-1]
    past = [(week, cell) for week, cell in series[:-1] if week < now]
    within = pooled_variance(c.dist for _, c in series[-(BASELINE_PERIODS + 1) :])
    previous = next(((w, c) for w, c in reversed(past) if now - w <= PREVIOUS_WITHIN_WEEKS), None)
    reading = Reading(
        dimension=dimension,
        period=next(p.period for p in history if week_number(p.period) == now),
        respondents=latest.people,
        distribution=latest.dist,
        vs_previous=_from_change(
            compare(
                previous[1].dist,
                latest.dist,
                between=noise.swing,
                within=within,
                person_share=noise.person_share,
            )
            if previous
            else None
        ),
        vs_baseline=Verdict(None),
        recent=_shift(series, now, noise, within),
    )
    if previous is not None:
        reading.previous_period = next(
            p.period for p in history if week_number(p.period) == previous[0]
        )
    baseline = _level([cell.dist for _, cell in past[-BASELINE_PERIODS:]], noise, within)
    if baseline is not None and len(past) >= 2:
        latest_level = single_level(
            latest.dist, between=noise.swing, within=within, person_share=noise.person_share
        )
        reading.vs_baseline = _from_change(compare_levels(baseline, latest_level))
    if org_level:
        reading.quarter = _shift(
            series, now, noise, within, recent=QUARTER_WEEKS, before=QUARTER_WEEKS
        )
    else:
        # A team's week-on-week change rests on a dozen people twice; it is shown as a number
        # but never tested, which keeps the family small enough for real team changes to count.
        reading.vs_previous.tested = False
    return reading


def _level(periods: Sequence[Distribution], noise: Noise, within: float | None) -> Level | None:
    return level(periods, between=noise.swing, within=within, person_share=noise.person_share)


def _shift(
    series: Sequence[tuple[int, Cell]],
    now: int,
    noise: Noise,
    within: float | None,
    *,
    recent: int = WINDOW_WEEKS,
    before: int = BASELINE_PERIODS,
) -> Verdict:
    """The group's level over the last `recent` weeks against the `before` weeks preceding
    them; needs two readings in the earlier stretch and, when `recent` spans more than one
    rotation, two in the later one."""
    later = [c.dist for w, c in series if now - recent < w <= now]
    earlier = [c.dist for w, c in series if now - recent - before < w <= now - recent]
    if len(earlier) < 2 or not later or (recent > WINDOW_WEEKS and len(later) < 2):
        return Verdict(None)
    after_level, before_level = _level(later, noise, within), _level(earlier, noise, within)
    if after_level is None or before_level is None:
        return Verdict(None)
    return _from_change(compare_levels(before_level, after_level))


def _window_level(
    history: Sequence[PeriodCells],
    key: GroupKey,
    dimension: str,
    swing: float,
    person_part: float,
) -> tuple[Level, int] | None:
    """A group's level over the last STANDING_WEEKS weeks, with the most people it had in any
    one of them; None without a reading in the rotation window."""
    series = _cells_of(history, key, dimension)
    now = week_number(history[-1].period)
    if not any(now - week < WINDOW_WEEKS for week, _ in series):
        return None
    recent = [cell for week, cell in series if now - week < STANDING_WEEKS]
    if not recent:
        return None
    within = pooled_variance(c.dist for _, c in series[-(BASELINE_PERIODS + 1) :])
    people = max(c.people for c in recent)
    found = level(
        [c.dist for c in recent],
        between=swing,
        within=within,
        person_share=person_part,
        people=people,
        against_other_people=True,
    )
    return None if found is None else (found, people)


def _say_do(
    history: Sequence[PeriodCells],
    dimension: str,
    swings: tuple[float, float],
    person_part: float,
) -> SayDoGap | None:
    """Leaders against everyone else on one dimension, over the rotation window: a standing
    gap, not one week's."""
    leaders = _window_level(history, (GroupKind.LEADERS, ""), dimension, swings[0], person_part)
    others = _window_level(history, (GroupKind.OTHERS, ""), dimension, swings[1], person_part)
    if leaders is None or others is None:
        return None
    return SayDoGap(
        dimension=dimension,
        leaders_mean=leaders[0].mean,
        others_mean=others[0].mean,
        leaders=leaders[1],
        others=others[1],
        verdict=_from_change(compare_levels(others[0], leaders[0])),
        leaders_favourable=leaders[0].favourable_share,
        others_favourable=others[0].favourable_share,
    )


def _silo(
    history: Sequence[PeriodCells], dimension: str, swing: float, person_part: float
) -> Silo | None:
    """How far the teams shown this period lie apart on one dimension, over the window."""
    now = week_number(history[-1].period)
    window = [p for p in history if now - week_number(p.period) < WINDOW_WEEKS]
    teams = sorted({team for p in window for team, cells in p.teams.items() if dimension in cells})
    levels = {
        team: found[0]
        for team in teams
        if (found := _window_level(history, (GroupKind.TEAM, team), dimension, swing, person_part))
    }
    found_spread: Spread | None = level_spread(levels)
    if found_spread is None:
        return None
    verdict = Verdict(found_spread.spread, None, found_spread.p_value, tested=True)
    return Silo(
        dimension,
        found_spread.spread,
        found_spread.highest,
        found_spread.lowest,
        len(levels),
        verdict,
        levels[found_spread.highest].favourable_share,
        levels[found_spread.lowest].favourable_share,
    )


def _follow_up(
    history: Sequence[PeriodCells], dimension: str, since: str, noise: Noise
) -> ActionFollowUp:
    """The org's level on a dimension in the readings after `since` against the ones before."""
    series = _cells_of(history, (GroupKind.ORG, ""), dimension)
    start = week_number(since)
    within = pooled_variance(c.dist for _, c in series[-(BASELINE_PERIODS + 1) :])
    after = [c.dist for w, c in series if w > start]
    before = [c.dist for w, c in series if start - BASELINE_PERIODS < w <= start]
    verdict = Verdict(None)
    shares: list[float | None] = [None, None]
    if after and len(before) >= 2:
        later, earlier = _level(after, noise, within), _level(before, noise, within)
        if later is not None and earlier is not None:
            verdict = _from_change(compare_levels(earlier, later))
            shares = [later.favourable_share, earlier.favourable_share]
    return ActionFollowUp(dimension, since, verdict, *shares)


def driver_findings(
    pairs: Mapping[str, Mapping[tuple[float, float], int]], *, confidence: float = 0.95
) -> list[Driver]:
    """Rank correlation of each dimension with the outcome, over respondent-periods: `pairs`
    counts how many gave each (dimension score, outcome score), the outcome score being the
    respondent-period's mean over the outcome items (`respondents.driver_pair_counts`).

    Reported only with at least DRIVER_MIN_PAIRS pairs; intervals are widened for the number of
    dimensions looked at, so a lucky one does not stand out.
    """
    sizes = {d: sum(counted.values()) for d, counted in pairs.items()}
    usable = {d: counted for d, counted in pairs.items() if sizes[d] >= DRIVER_MIN_PAIRS}
    if not usable:
        return []
    level = 1.0 - (1.0 - confidence) / len(usable)
    out = []
    for dimension, counted in usable.items():
        rho = spearman_counted(counted)
        low, high = spearman_interval(rho, sizes[dimension], level)
        out.append(Driver(dimension, rho, low, high, sizes[dimension]))
    return sorted(out, key=lambda d: (-d.rho, d.dimension))


def build_findings(
    history: Sequence[PeriodCells],
    *,
    dimensions: Sequence[str],
    driver_pairs: Mapping[str, Mapping[tuple[float, float], int]] | None = None,
    drivers: Sequence[Driver] | None = None,
    person_part: float | None = None,
    actions: Sequence[tuple[str, str]] = (),
    q: float = FALSE_DISCOVERY_RATE,
) -> Findings:
    """Findings for the last period of `history` (oldest first, already gated).

    `actions` are (dimension, period recorded) pairs from `/cx act`, followed up in the report.

    `driver_pairs` counts, by dimension, the respondent-periods giving each (dimension score,
    outcome score) (see `respondents.driver_pair_counts`); `drivers`, when given, are driver
    findings already worked out (frozen when a week was published) and take their place.

    `person_part` is the share of answer spread that belongs to the people themselves (see
    `noise.person_share`); unknown (None) counts as all of it, the cautious choice.
    """
    # Unknown, the cautious choice differs: over time nothing cancels (0), between groups all
    # of the spread is the people's own (1).
    over_time = 0.0 if person_part is None else person_part
    persistent = 1.0 if person_part is None else person_part
    history = Timeline(history)
    latest = history[-1]
    org: GroupKey = (GroupKind.ORG, "")
    org_noise = Noise(group_swing(history, [org], dimensions, over_time), over_time)
    readings = [
        r
        for dimension in dimensions
        if (r := _reading(history, org, dimension, noise=org_noise, org_level=True))
    ]
    teams = []
    team_keys = sorted({(GroupKind.TEAM, t) for p in history for t in p.teams})
    team_swing = group_swing(history, team_keys, dimensions, over_time)
    team_noise = Noise(team_swing, over_time)
    for team in sorted(latest.teams):
        key: GroupKey = (GroupKind.TEAM, team)
        team_readings = [
            r
            for dimension in dimensions
            if (r := _reading(history, key, dimension, noise=team_noise, org_level=False))
        ]
        if team_readings:
            people = max(r.respondents for r in team_readings)
            teams.append(TeamFindings(team, people, team_readings))
    split_swings = (
        group_swing(history, [(GroupKind.LEADERS, "")], dimensions, over_time),
        group_swing(history, [(GroupKind.OTHERS, "")], dimensions, over_time),
    )
    say_do = [g for d in dimensions if (g := _say_do(history, d, split_swings, persistent))]
    # Each team's level carries a team's weekly swings.
    silos = [s for d in dimensions if (s := _silo(history, d, team_swing, persistent))]
    family: list[Verdict] = [v for r in readings for v in r.verdicts()]
    family += [v for t in teams for r in t.readings for v in r.verdicts()]
    follow_ups = [_follow_up(history, d, since, org_noise) for d, since in actions]
    family += [g.verdict for g in say_do] + [s.verdict for s in silos]
    family += [f.verdict for f in follow_ups]
    tested = [v for v in family if v.tested]
    for verdict, real in zip(
        tested, benjamini_hochberg([v.p_value for v in tested], q), strict=True
    ):
        verdict.real = real
    return Findings(
        period=latest.period,
        dimensions=readings,
        teams=teams,
        say_do=say_do,
        silos=silos,
        drivers=list(drivers) if drivers is not None else driver_findings(driver_pairs or {}),
        follow_ups=follow_ups,
        tests=len(tested),
    )


def count_flags(findings: Findings, *, include: Callable[[str], bool] = lambda _: True) -> int:
    """How many real claims a report makes (by kind: change, say_do, silo)."""
    changes = [v for r in findings.dimensions for v in r.verdicts() if v.real]
    changes += [v for t in findings.teams for r in t.readings for v in r.verdicts() if v.real]
    total = len(changes) if include("change") else 0
    total += sum(g.verdict.real for g in findings.say_do) if include("say_do") else 0
    total += sum(s.verdict.real for s in findings.silos) if include("silo") else 0
    return total
