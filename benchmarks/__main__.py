"""`make bench`: every figure beside a baseline measured in the same run, as a ratio."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from benchmarks.digest_scale import DigestScale, run_digest_scale
from benchmarks.fanout import run_fanout
from benchmarks.interactions import run_interactions
from tests.postgres import PostgresServer, find_bindir

console = Console()


def _scaled(value: int, scale: float) -> int:
    return max(1, round(value * scale))


def main(
    scale: Annotated[
        float,
        typer.Option(envvar="BENCH_SCALE", help="Shrink every workload (0.1 for a quick look)."),
    ] = 1.0,
    budget: Annotated[float, typer.Option(help="The emulated posting budget, DMs/s.")] = 100.0,
) -> None:
    """Run the four benchmarks and print the table."""
    logging.basicConfig(level=logging.ERROR)
    rows: list[tuple[str, str, str, str, str]] = []
    with (
        tempfile.TemporaryDirectory(prefix="cxpulse-bench-") as scratch,
        Progress(
            SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console
        ) as progress,
    ):
        folder = Path(scratch)
        task = progress.add_task("1/4 fan-out to 5,000 members", total=None)
        fan = run_fanout(folder, people=_scaled(5000, scale), budget=budget)
        progress.update(task, description="1/4 fan-out done", completed=1, total=1)
        rows.append(
            (
                "1. Fan-out",
                f"{fan.people} DMs at {fan.achieved:.1f}/s; {fan.rate_limited} 429s; "
                f"{fan.duplicates} duplicates, {fan.missing} missing",
                f"budget {fan.budget:.0f}/s",
                f"{fan.share_of_budget:.0%} of budget",
                "ok"
                if fan.share_of_budget >= 0.9 and fan.duplicates == fan.missing == 0
                else "MISS",
            )
        )

        task = progress.add_task("2/4 + 4/4 clicks from 50 clients", total=None)
        served, bare = run_interactions(
            folder, people=_scaled(500, scale), clicks=_scaled(3000, scale)
        )
        progress.update(task, description="2/4 + 4/4 clicks done", completed=1, total=1)
        ratio = served.throughput / bare.throughput
        rows.append(
            (
                "2. Interactions",
                f"{served.throughput:.0f} req/s, p50 {served.p50_ms:.0f} ms, "
                f"p99 {served.p99_ms:.0f} ms, {served.errors} errors",
                f"bare Bolt {bare.throughput:.0f} req/s, p50 {bare.p50_ms:.0f} ms, "
                f"p99 {bare.p99_ms:.0f} ms",
                f"{ratio:.0%} of bare throughput",
                "ok" if served.p99_ms < 200 and ratio >= 0.5 and not served.errors else "MISS",
            )
        )
        rows.append(
            (
                "4. Memory",
                f"cxpulse serve peak RSS {served.peak_rss_mb:.0f} MB",
                f"bare Bolt {bare.peak_rss_mb:.0f} MB",
                f"{served.peak_rss_mb / bare.peak_rss_mb:.1f}x bare",
                "ok" if served.peak_rss_mb < 200 else "MISS",
            )
        )

        people, weeks = _scaled(5000, scale), 50
        scales: list[DigestScale] = []
        task = progress.add_task("3/4 digest over 1M answers (SQLite)", total=None)
        scales.append(
            run_digest_scale(
                f"sqlite:///{folder / 'digest.db'}", "SQLite", people=people, weeks=weeks
            )
        )
        progress.update(task, description="3/4 SQLite done", completed=1, total=1)
        postgres = _postgres_url()
        if postgres is not None:
            url, server = postgres
            task = progress.add_task("3/4 digest over 1M answers (PostgreSQL)", total=None)
            try:
                scales.append(run_digest_scale(url, "PostgreSQL", people=people, weeks=weeks))
            finally:
                server.stop()
            progress.update(task, description="3/4 PostgreSQL done", completed=1, total=1)
        for found in scales:
            rows.append(
                (
                    f"3. Digest ({found.database})",
                    f"{found.answers:,} answers in {found.digest_s:.2f} s",
                    f"bare GROUP BY {found.bare_s:.2f} s",
                    f"{found.ratio:.1f}x the bare query",
                    "ok" if found.digest_s < 2 and found.ratio <= 5 else "MISS",
                )
            )
    table = Table(title=f"cx-pulse benchmarks (scale {scale})")
    for column in ("benchmark", "measured", "baseline (same run)", "ratio", "target"):
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    console.print(table)
    if postgres is None:
        console.print("PostgreSQL binaries not found: the PostgreSQL digest row was skipped.")


def _postgres_url() -> tuple[str, PostgresServer] | None:
    bindir = find_bindir()
    if bindir is None or os.environ.get("BENCH_SKIP_POSTGRES"):
        return None
    server = PostgresServer(bindir).start()
    return server.create_database(), server


if __name__ == "__main__":
    typer.run(main)
