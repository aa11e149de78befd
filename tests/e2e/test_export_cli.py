"""`cxpulse import` then `cxpulse export --csv` as an operator runs them, as real processes."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest

from bot.prompts import load_prompts
from bot.sandbox.history import generate_history, history_csv
from bot.sandbox.org import Story, build_org
from bot.services.export import COLUMNS
from tests.e2e.conftest import cxpulse, offline_env

BANK = load_prompts().bank


@pytest.fixture
def env(database_url: str) -> dict[str, str]:
    return offline_env(database_url)


def test_export_to_stdout_is_csv_only_and_to_a_file_reports(
    env: dict[str, str], tmp_path: Path
) -> None:
    history = tmp_path / "history.csv"
    rows = generate_history(
        build_org(5, people_per_team=10),
        {d.id: [q.id for q in d.questions] for d in BANK.dimensions},
        Story(),
        seed=5,
        weeks=4,
        last_monday=date(2026, 11, 16),
    )
    history.write_text(history_csv(rows), encoding="utf-8")
    imported = cxpulse(env, "import", str(history))
    assert imported.returncode == 0, imported.stdout + imported.stderr
    # Progress bars never land on stdout.
    assert imported.stdout.startswith("Imported ")
    assert "Checking rows" not in imported.stdout

    piped = cxpulse(env, "export", "--csv", "-")
    assert piped.returncode == 0, piped.stdout + piped.stderr
    lines = piped.stdout.splitlines()
    assert lines[0] == ",".join(COLUMNS)
    parsed = list(csv.reader(io.StringIO(piped.stdout)))
    assert all(len(row) == len(COLUMNS) for row in parsed)
    records = [dict(zip(COLUMNS, row, strict=True)) for row in parsed[1:]]
    assert {r["period"] for r in records} == {"2026-W44", "2026-W45", "2026-W46", "2026-W47"}
    assert {r["group_kind"] for r in records} >= {"organisation", "team"}
    assert all(int(r["respondents"]) >= 5 for r in records)
    assert not any(row.respondent in piped.stdout for row in rows)
    assert "Exported" in piped.stderr  # the summary goes beside the pipe, not into it

    target = tmp_path / "results.csv"
    written = cxpulse(env, "export", "--csv", str(target), "--since", "2026-W46")
    assert written.returncode == 0, written.stdout + written.stderr
    assert "Exported" in written.stdout
    assert "2026-W46 to 2026-W47" in written.stdout
    in_file = list(csv.DictReader(target.open(encoding="utf-8", newline="")))
    assert in_file == [r for r in records if r["period"] >= "2026-W46"]

    only = cxpulse(env, "export", "--csv", "-", "--since", "2026-W45", "--until", "2026-W45")
    assert {r[0] for r in list(csv.reader(io.StringIO(only.stdout)))[1:]} == {"2026-W45"}

    bad = cxpulse(env, "export", "--csv", "-", "--until", "2026-W99")
    assert bad.returncode == 2
    assert bad.stdout == ""
    assert "--until must be an ISO week" in bad.stderr
    backwards = cxpulse(env, "export", "--csv", "-", "--since", "2026-W47", "--until", "2026-W44")
    assert backwards.returncode == 2
    empty_target = tmp_path / "none.csv"
    empty = cxpulse(env, "export", "--csv", str(empty_target), "--since", "2027-W01")
    assert empty.returncode == 1
    assert "nothing was exported" in empty.stdout
    assert not empty_target.exists()
