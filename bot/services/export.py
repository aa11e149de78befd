"""`cxpulse export --csv`: aggregated results of every closed week with answers, through the
one anonymity gate (`bot.analytics.cells.gate`, read via `services.digest.gated_periods`).

One row per (period, group, dimension) that the gate lets any output show: the organisation,
each team that passes (its complement included), and the leader / non-leader split when both
halves pass. Each week is gated on its own, as in a digest's history, so the export shows
nothing a digest of that week could not. Nothing individual is written: no respondent,
pseudonym, comment or anyone's participation.

Weeks with a round still open are left out: their results change with every answer, so two
exports a few minutes apart would show what the one person in between answered.
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
from bot.db import repositories as repo
from bot.db.engine import session_scope
from bot.services.context import Deps
from bot.services.digest import gated_periods

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

    def values(self) -> tuple[str | int | float, ...]:
        dist = self.cell.dist
        return (
            self.period,
            KIND_NAMES[self.kind],
            _safe_text(self.group),
            _safe_text(self.dimension),
            self.cell.people,
            round(dist.favourable_share, PLACES),
            round(dist.unfavourable_share, PLACES),
            round(dist.mean, PLACES),
            *dist.counts,
        )


def _safe_text(text: str) -> str:
    """Team names come from Slack or an imported file: never let one be read as a formula."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def plan_export(deps: Deps, *, since: str | None = None, until: str | None = None) -> ExportPlan:
    """Which weeks an export covers: those in the range with answers (or kept aggregates)
    whose rounds have all closed; the others are listed as still open."""
    now = deps.clock.now()
    with session_scope(deps.engine) as session:
        answered = [
            period
            for period in repo.periods_with_answers(session=session)
            if (since is None or period >= since) and (until is None or period <= until)
        ]
        still_open = {
            period
            for period in answered
            if any(r.closes_at > now for r in repo.rounds_in_period(session=session, period=period))
        }
    return ExportPlan(
        periods=tuple(p for p in answered if p not in still_open),
        still_open=tuple(sorted(still_open)),
    )


def period_rows(cells: PeriodCells, dimensions: Sequence[str] = ()) -> list[ExportRow]:
    """The rows of one gated period: organisation, leaders, others, then teams by name; within
    each group, dimensions in `dimensions` order (any others after them, by id)."""
    position = {dimension: index for index, dimension in enumerate(dimensions)}

    def ordered(by_dimension: dict[str, Cell]) -> list[tuple[str, Cell]]:
        return sorted(
            by_dimension.items(), key=lambda item: (position.get(item[0], len(position)), item[0])
        )

    period = cells.period
    rows = [ExportRow(period, GroupKind.ORG, "", d, c) for d, c in ordered(cells.org)]
    rows += [ExportRow(period, GroupKind.LEADERS, "", d, c) for d, c in ordered(cells.leaders)]
    rows += [ExportRow(period, GroupKind.OTHERS, "", d, c) for d, c in ordered(cells.others)]
    for team in sorted(cells.teams):
        rows += [
            ExportRow(period, GroupKind.TEAM, team, d, c) for d, c in ordered(cells.teams[team])
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
    written = 0
    with session_scope(deps.engine) as session:
        dimension_of = repo.question_dimensions(session=session)
        for period in periods:
            (cells,) = gated_periods(
                session,
                [period],
                minimum=deps.settings.min_group_size,
                dimension_of=dimension_of,
            )
            rows = period_rows(cells, order)
            writer.writerows(row.values() for row in rows)
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
