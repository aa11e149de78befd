"""`make bench`: every figure beside a baseline measured in the same run, as a ratio."""

from __future__ import annotations

import logging
import os
import platform
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from benchmarks.digest_scale import DigestScale, run_digest_scale
from benchmarks.directory import run_directory
from benchmarks.fanout import run_fanout
from benchmarks.history import run_history, run_startup
from benchmarks.interactions import run_interactions
from benchmarks.report import (
    Row,
    digest_row,
    directory_row,
    fanout_row,
    history_rows,
    interaction_rows,
    reply_row,
    startup_rows,
    themes_rows,
)
from benchmarks.themes import agreement_table, run_themes
from tests.postgres import PostgresServer, find_bindir

T = TypeVar("T")
BENCHMARKS = ("fanout", "interactions", "digest", "history", "startup", "directory", "themes")
# A log or a pipe gets a table wide enough to read; a terminal keeps its own width.
console = Console() if Console().is_terminal else Console(width=170)


def _scaled(value: int, scale: float) -> int:
    return max(1, round(value * scale))


def _step(progress: Progress, title: str, action: Callable[[], T]) -> T:
    task = progress.add_task(title, total=1)
    result = action()
    progress.update(task, completed=1)
    return result


@contextmanager
def _postgres_url() -> Iterator[str | None]:
    """A database on a throwaway PostgreSQL server, or None without the binaries."""
    bindir = find_bindir()
    if bindir is None or os.environ.get("BENCH_SKIP_POSTGRES"):
        yield None
        return
    server = PostgresServer(bindir).start()
    try:
        yield server.create_database()
    finally:
        server.stop()


def main(
    scale: Annotated[
        float, typer.Option(envvar="BENCH_SCALE", help="Shrink every workload (0.1: a quick look).")
    ] = 1.0,
    only: Annotated[
        str,
        typer.Option(
            envvar="BENCH_ONLY",
            help="Comma-separated: fanout,interactions,digest,history,startup,directory,themes.",
        ),
    ] = ",".join(BENCHMARKS),
    budget: Annotated[float, typer.Option(help="The emulated posting budget, DMs/s.")] = 100.0,
    digest_sizes: Annotated[
        str,
        typer.Option(
            envvar="BENCH_DIGEST_PEOPLE",
            help="People in each digest benchmark, comma-separated (5000: 1M answers).",
        ),
    ] = "5000,50000",
    send_workers: Annotated[
        int | None, typer.Option(help="CX_SEND_WORKERS for the fan-out (default: cx-pulse's).")
    ] = None,
) -> None:
    """Run the benchmarks and print one table."""
    logging.basicConfig(level=logging.ERROR)
    chosen = {name.strip() for name in only.split(",")}
    rows: list[Row] = []
    notes: list[str] = [
        f"scale {scale}; {os.cpu_count()} CPUs; Python {platform.python_version()}; "
        "the load generator, the emulator and the app under test share this machine."
    ]
    with (
        tempfile.TemporaryDirectory(prefix="cxpulse-bench-") as scratch,
        Progress(
            SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console
        ) as progress,
    ):
        folder = Path(scratch)
        if "fanout" in chosen:
            people = _scaled(50_000, scale)
            fan = _step(
                progress,
                f"1. fan-out to {people:,} members at {budget:.0f}/s",
                lambda: run_fanout(folder, people=people, budget=budget, send_workers=send_workers),
            )
            rows.append(fanout_row(fan))
        if "interactions" in chosen:
            clicks = _scaled(3000, scale)
            found = _step(
                progress,
                f"2+4. {clicks:,} clicks from 50 clients, cxpulse serve then bare Bolt",
                lambda: run_interactions(folder, people=_scaled(500, scale), clicks=clicks),
            )
            rows.extend(interaction_rows(found))
            shares = (found.cxpulse.load.client_cpu_share, found.bare.load.client_cpu_share)
            notes.append(
                f"2. the load generator used {shares[0]:.0%} / {shares[1]:.0%} of a core"
                " (cx-pulse run / bare run; it hosts the emulator too)."
            )
        if "digest" in chosen:
            # 1M and 10M answers (5,000 and 50,000 people, 50 weeks, 4 statements a round).
            sizes = [_scaled(int(n), scale) for n in digest_sizes.split(",") if n.strip()]
            scales: list[DigestScale] = []
            for people in sizes:
                scales.append(
                    _step(
                        progress,
                        f"3. digest over {people * 250:,} answers, SQLite",
                        lambda people=people: run_digest_scale(  # type: ignore[misc]
                            f"sqlite:///{folder / f'digest-{people}.db'}",
                            "SQLite",
                            people=people,
                            weeks=50,
                        ),
                    )
                )
                with _postgres_url() as url:
                    if url is None:
                        notes.append("3. PostgreSQL binaries not found: its rows were skipped.")
                    else:
                        scales.append(
                            _step(
                                progress,
                                f"3. digest over {people * 250:,} answers, PostgreSQL",
                                lambda url=url, people=people: run_digest_scale(  # type: ignore[misc]
                                    url, "PostgreSQL", people=people, weeks=50
                                ),
                            )
                        )
            for found_scale in scales:
                rows.append(digest_row(found_scale))
                rows.append(reply_row(found_scale))
                notes.append(
                    f"3. {found_scale.database}, {found_scale.answers:,} answers: loaded in "
                    f"{found_scale.load_s:.1f} s; hot spots: {found_scale.hot_spots.describe()}."
                )
        if "history" in chosen:
            people = _scaled(2000, scale)
            history = _step(
                progress,
                f"6. {people:,} people with 10 and with 100 weeks of history",
                lambda: run_history(folder, people=people),
            )
            rows.extend(history_rows(history))
        if "startup" in chosen:
            rows.extend(startup_rows(_step(progress, "7. start-up", lambda: run_startup(folder))))
        if "directory" in chosen:
            people = _scaled(50_000, scale)
            directory = _step(
                progress,
                f"8. directory refresh of {people:,} people",
                lambda: run_directory(folder, people=people),
            )
            rows.append(directory_row(directory))
        if "themes" in chosen:
            comments = _scaled(1000, scale)
            themed = _step(
                progress,
                f"9. themes and alerts over {comments:,} comments, and agreement",
                lambda: run_themes(comments),
            )
            rows.extend(themes_rows(themed))
            notes.append(
                "9. Themes, precision and recall per dimension, held-out half of "
                "benchmarks/data/comments_labelled.yaml:\n" + agreement_table(themed.themes)
            )
            notes.append(
                "9. Themes, the set written after the lexicons froze "
                "(benchmarks/data/comments_fresh.yaml):\n" + agreement_table(themed.fresh_themes)
            )
            notes.append(
                "9. Alerts per category, held-out half (sensitive_labelled.yaml plus the "
                "ordinary comments):\n" + agreement_table([*themed.alerts, themed.alert_any])
            )
            notes.append(
                "9. Alerts per category, the first set written after a freeze "
                "(the lexicons were broadened after it):\n"
                + agreement_table([*themed.fresh_alerts, themed.fresh_alert_any])
            )
            notes.append(
                "9. Alerts per category, the second set, never tuned on "
                "(benchmarks/data/sensitive_fresh.yaml):\n"
                + agreement_table([*themed.fresh2_alerts, themed.fresh2_alert_any])
            )
    _print(rows, notes)


def _print(rows: list[Row], notes: list[str]) -> None:
    table = Table(title="cx-pulse benchmarks", show_lines=True)
    for column in ("benchmark", "measured", "baseline (same run)", "ratio", "target"):
        table.add_column(column)
    for row in sorted(rows):
        table.add_row(*row)
    console.print(table)
    for note in notes:
        console.print(note, soft_wrap=True)


if __name__ == "__main__":
    typer.run(main)
