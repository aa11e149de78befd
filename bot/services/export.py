"""`cxpulse export --csv`: the published results of every closed week, exactly as published
through the disclosure gate (read via `services.digest.gated_periods`).

One row per (period, group, dimension) that the gate lets any output show: the organisation,
each team that passes (its complement included), and the leader / non-leader split when both
halves pass. Each week is gated on its own, as in a digest's history, so the export shows
nothing a digest of that week could not. Nothing individual is written: no respondent,
pseudonym, comment or anyone's participation.

Weeks with a round still open are left out: nothing of a week is shown before it is
published, once. Score counts and the mean are given only for groups of at least twice the
minimum (favourable shares otherwise): in a smaller group, a member who subtracts their own
answer from the whole distribution learns too much about the others.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TextIO

from bot.analytics.anonymity import GroupKind
from bot.analytics.cells import Cell, PeriodCells
from bot.db import published
from bot.db import repositories as repo
from bot.db.engine import session_scope
from bot.services.context import Deps
from bot.services.digest import gated_periods
from bot.services.publication import publish_due_weeks

COLUMNS = (
    "period",
    "group_kind",
    "group",
    "dimension",
    "respondents",
    "favourable_share",
    "unfavourable_share",
    "mean",
    "score_1",
    "score_2",
    "score_3",
    "score_4",
    "score_5",
)
KIND_NAMES = {
    GroupKind.ORG: "organisation",
    GroupKind.TEAM: "team",
    GroupKind.LEADERS: "leaders",
    GroupKind.OTHERS: "others",
}
WEEK = re.compile(r"(\d{4})-W(\d{2})")
# A cell starting with one of these is run as a formula by spreadsheet programs.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLACES = 4
DISTRIBUTION_FACTOR = 2


def parse_week(text: str) -> str:
    """`text` if it is an ISO week such as "2026-W48" (one that exists), else ValueError."""
    match = WEEK.fullmatch(text)
    try:
        if match is None:
            raise ValueError(text)
        date.fromisocalendar(int(match[1]), int(match[2]), 1)  # 2026-W54 does not exist
    except ValueError:
        raise ValueError(f"not an ISO week: {text[:16]!r}") from None
    return text


@dataclass(frozen=True, slots=True)
class ExportPlan:
    periods: tuple[str, ...]  # closed weeks with answers in the range, oldest first
    still_open: tuple[str, ...]  # weeks in the range left out because a round is open


@dataclass(frozen=True, slots=True)
class ExportReport:
    periods: tuple[str, ...]
    rows: int


@dataclass(frozen=True, slots=True)
class ExportRow:
    period: str
    kind: GroupKind
    group: str
    dimension: str
    cell: Cell
    minimum: int = 0  # the minimum the week was published with

    def values(self, minimum: int) -> tuple[str | int | float, ...]:
        dist = self.cell.dist
        whole = self.cell.people >= DISTRIBUTION_FACTOR * minimum
        return (
            self.period,
            KIND_NAMES[self.kind],
            _safe_text(self.group),
            _safe_text(self.dimension),
            self.cell.people,
            round(dist.favourable_share, PLACES),
            round(dist.unfavourable_share, PLACES),
            *((round(dist.mean, PLACES), *dist.counts) if whole else ("",) * 6),
        )


def _safe_text(text: str) -> str:
    """Team names come from Slack or an imported file: never let one be read as a formula."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def plan_export(deps: Deps, *, since: str | None = None, until: str | None = None) -> ExportPlan:
    """Which weeks an export covers: the published weeks in the range; weeks in it with a
    round still open are listed as still open."""
    publish_due_weeks(deps)

    def wanted(period: str) -> bool:
        return (since is None or period >= since) and (until is None or period <= until)

    with session_scope(deps.engine) as session:
        done = [p for p in published.published_periods(session=session) if wanted(p)]
        weeks = {p for p in repo.periods_with_rounds(session=session) if wanted(p)}
    return ExportPlan(periods=tuple(done), still_open=tuple(sorted(weeks - set(done))))


def period_rows(cells: PeriodCells, dimensions: Sequence[str] = ()) -> list[ExportRow]:
    """The rows of one gated period: organisation, leaders, others, then teams by name; within
    each group, dimensions in `dimensions` order (any others after them, by id)."""
    position = {dimension: index for index, dimension in enumerate(dimensions)}

    def ordered(by_dimension: dict[str, Cell]) -> list[tuple[str, Cell]]:
        return sorted(
            by_dimension.items(), key=lambda item: (position.get(item[0], len(position)), item[0])
        )

    period = cells.period
    low = cells.minimum
    rows = [ExportRow(period, GroupKind.ORG, "", d, c, low) for d, c in ordered(cells.org)]
    rows += [ExportRow(period, GroupKind.LEADERS, "", d, c, low) for d, c in ordered(cells.leaders)]
    rows += [ExportRow(period, GroupKind.OTHERS, "", d, c, low) for d, c in ordered(cells.others)]
    for team in sorted(cells.teams):
        rows += [
            ExportRow(period, GroupKind.TEAM, team, d, c, low)
            for d, c in ordered(cells.teams[team])
        ]
    return rows


def write_csv(
    deps: Deps,
    out: TextIO,
    periods: Sequence[str],
    *,
    progress: Callable[[str], None] | None = None,
) -> ExportReport:
    """Write the header and every gated row of `periods`; `progress` hears of each period."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    order = [d.id for d in deps.prompts.bank.dimensions]
    minimum = deps.settings.min_group_size
    written = 0
    with session_scope(deps.engine) as session:
        for period in periods:
            rows = [
                row
                for cells in gated_periods(session, [period], minimum=minimum)
                for row in period_rows(cells, order)
            ]
            writer.writerows(row.values(max(minimum, row.minimum)) for row in rows)
            written += len(rows)
            if progress is not None:
                progress(period)
    return ExportReport(periods=tuple(periods), rows=written)


def write_csv_file(
    deps: Deps,
    path: Path,
    periods: Sequence[str],
    *,
    progress: Callable[[str], None] | None = None,
) -> ExportReport:
    """`write_csv` to a file, which appears only once complete (never half-written)."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        with partial.open("w", newline="", encoding="utf-8") as handle:
            report = write_csv(deps, handle, periods, progress=progress)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return report
