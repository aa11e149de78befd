"""Where things go in a trend chart's inline SVG: geometry only (the template draws it, and
writes every label through the template engine's escaping).

A chart is a 360 x 150 viewBox that scales to its container: % favourable by week, the noise
band behind the line (where each week would likely land had nothing changed), the line broken
where a week was not asked or hidden (a thin dotted bridge lets the eye follow it), and a
dashed marker at the week a real change is measured from.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.services.web_report import Trend

WIDTH = 360.0
HEIGHT = 150.0
LEFT = 34.0
RIGHT = 36.0  # room for the latest value, written to the right of its point
TOP = 12.0
BOTTOM = 22.0
PLOT_WIDTH = WIDTH - LEFT - RIGHT
PLOT_HEIGHT = HEIGHT - TOP - BOTTOM


@dataclass(frozen=True, slots=True)
class Rect:
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True, slots=True)
class Point:
    x: float
    y: float
    period: str
    share: float
    people: int | None


@dataclass(frozen=True, slots=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True, slots=True)
class Marker:
    x: float
    direction: str
    period: str
    label_x: float
    anchor: str  # "start" or "end": which side of the marker its label sits


@dataclass(frozen=True, slots=True)
class TrendGeometry:
    width: float
    height: float
    plot_left: float
    plot_right: float
    bands: tuple[Rect, ...]
    segments: tuple[str, ...]  # SVG path data of each unbroken stretch of the line
    bridge: str  # path data through every known point (dotted)
    points: tuple[Point, ...]
    grid: tuple[Tick, ...]  # y positions of 0, 25, 50, 75 and 100%
    weeks: tuple[Tick, ...]  # x positions of the week labels
    markers: tuple[Marker, ...]
    last: Point | None  # the latest point, labelled with its value to its right
    last_label_x: float
    last_label_y: float


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _y(share: float) -> float:
    return TOP + (1.0 - share) * PLOT_HEIGHT


def _week_ticks(count: int) -> list[int]:
    """Every 2nd to 4th week, always the latest (as the digest's chart labels them)."""
    step = 2 if count <= 8 else 3 if count <= 15 else 4
    return list(range(count - 1, -1, -step))[::-1]


def _path(points: list[Point]) -> str:
    return " ".join(
        f"{'M' if i == 0 else 'L'}{_fmt(p.x)},{_fmt(p.y)}" for i, p in enumerate(points)
    )


def trend_geometry(trend: Trend) -> TrendGeometry:
    weeks = trend.weeks
    count = max(1, len(weeks))
    step = PLOT_WIDTH / count

    def x_of(index: int) -> float:
        return LEFT + (index + 0.5) * step

    bands = tuple(
        Rect(
            LEFT + index * step,
            _y(week.band.high),
            step,
            max(0.5, (week.band.high - week.band.low) * PLOT_HEIGHT),
        )
        for index, week in enumerate(weeks)
        if week.band is not None
    )
    points: list[Point] = []
    segments: list[str] = []
    stretch: list[Point] = []
    for index, week in enumerate(weeks):
        if week.share is None:
            if stretch:
                segments.append(_path(stretch))
            stretch = []
            continue
        point = Point(x_of(index), _y(week.share), week.period, week.share, week.people)
        points.append(point)
        stretch.append(point)
    if stretch:
        segments.append(_path(stretch))
    markers = []
    for index, week in enumerate(weeks):
        if week.marked:
            right = index > count * 0.6
            markers.append(
                Marker(
                    x_of(index),
                    week.marked,
                    week.period,
                    x_of(index) + (-4 if right else 4),
                    "end" if right else "start",
                )
            )
    last = points[-1] if points else None
    return TrendGeometry(
        width=WIDTH,
        height=HEIGHT,
        plot_left=LEFT,
        plot_right=WIDTH - RIGHT,
        bands=bands,
        segments=tuple(segments),
        bridge=_path(points) if len(points) > 1 else "",
        points=tuple(points),
        grid=tuple(Tick(_y(share / 100), f"{share}%") for share in (0, 25, 50, 75, 100)),
        weeks=tuple(Tick(x_of(i), weeks[i].period[-3:]) for i in _week_ticks(len(weeks))),
        markers=tuple(markers),
        last=last,
        last_label_x=last.x + 6 if last else 0.0,
        last_label_y=last.y + 4.5 if last else 0.0,
    )
