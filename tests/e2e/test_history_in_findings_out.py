"""The contract outside tools rely on: `cxpulse import` a CSV, `cxpulse digest --json` back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.prompts import load_prompts
from bot.sandbox.history import generate_history, history_csv
from bot.sandbox.org import Story, build_org
from tests.e2e.conftest import cxpulse, offline_env

BANK = load_prompts().bank


@pytest.fixture
def env(database_url: str) -> dict[str, str]:
    return offline_env(database_url)


def _write_history(path: Path, story: Story, seed: int) -> None:
    from datetime import date

    questions = {d.id: [q.id for q in d.questions] for d in BANK.dimensions}
    rows = generate_history(
        build_org(seed, people_per_team=20),
        questions,
        story,
        seed=seed,
        weeks=12,
        last_monday=date(2026, 11, 16),
    )
    path.write_text(history_csv(rows), encoding="utf-8")


def test_planted_history_comes_back_as_flagged_findings(
    env: dict[str, str], tmp_path: Path
) -> None:
    csv_path = tmp_path / "history.csv"
    _write_history(csv_path, Story(), seed=1000)
    imported = cxpulse(env, "import", str(csv_path))
    assert imported.returncode == 0, imported.stdout + imported.stderr
    assert "12 week(s): 2026-W36 to 2026-W47" in imported.stdout
    again = cxpulse(env, "import", str(csv_path))
    assert "Imported 0 new answers" in again.stdout

    result = cxpulse(env, "digest", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["period"] == "2026-W47"
    assert report["response_rate"] is None  # imported weeks invite nobody
    assert report["respondents"] is None
    dimensions = {d["id"]: d for d in report["dimensions"]}
    assert set(dimensions) == {d.id for d in BANK.dimensions}
    for entry in dimensions.values():
        assert 0.0 <= entry["favourable_share"] <= 1.0
        assert 1.0 <= entry["mean"] <= 5.0
        assert entry["respondents"] >= 5
        for key in ("change_vs_previous", "change_vs_baseline"):
            assert set(entry[key]) >= {"delta", "real"}

    support = next(t for t in report["teams"] if t["team"] == "support")
    empowerment = next(d for d in support["dimensions"] if d["id"] == "empowerment")
    assert empowerment["direction"] == "down"
    assert empowerment["change_vs_baseline"]["real"] or empowerment["change_recent"]["real"]
    gap = next(g for g in report["say_do_gaps"] if g["dimension"] == "leadership")
    assert gap["real"]
    assert gap["gap"] > 1.0
    assert gap["leaders_mean"] > gap["others_mean"]
    silo = next(s for s in report["silos"] if s["dimension"] == "collaboration")
    assert silo["real"]
    assert silo["lowest"] == "sales"
    # Nothing else is called real at the team level.
    stray = [
        (t["team"], d["id"])
        for t in report["teams"]
        for d in t["dimensions"]
        if d["direction"] != "none" and (t["team"], d["id"]) != ("support", "empowerment")
    ]
    assert stray == []
    for team in report["teams"]:
        assert team["respondents"] >= 5
        assert set(team["dimensions"][0]) >= {
            "id",
            "favourable_share",
            "mean",
            "change_vs_previous",
        }

    earlier = json.loads(cxpulse(env, "digest", "--json", "--period", "2026-W40").stdout)
    assert earlier["period"] == "2026-W40"
    assert all(d["direction"] != "down" for t in earlier["teams"] for d in t["dimensions"])
    missing = cxpulse(env, "digest", "--json", "--period", "2020-W01")
    assert missing.returncode == 1
    assert "no answers for `2020-W01`" in missing.stdout
    assert cxpulse(env, "digest", "--json", "--period", "last week").returncode == 2


def test_a_steady_history_reports_no_real_change(env: dict[str, str], tmp_path: Path) -> None:
    csv_path = tmp_path / "steady.csv"
    _write_history(csv_path, Story.pure_noise(), seed=3)
    assert cxpulse(env, "import", str(csv_path)).returncode == 0
    report = json.loads(cxpulse(env, "digest", "--json").stdout)
    verdicts = [
        change["real"]
        for d in report["dimensions"]
        for key in ("change_vs_previous", "change_vs_baseline", "change_recent", "change_quarter")
        if (change := d[key])
    ]
    verdicts += [d["change_vs_baseline"]["real"] for t in report["teams"] for d in t["dimensions"]]
    verdicts += [g["real"] for g in report["say_do_gaps"]] + [s["real"] for s in report["silos"]]
    assert len(verdicts) > 100
    assert not any(verdicts)
    printed = cxpulse(env, "digest", "--print")
    assert "No real change this week" in printed.stdout
    chart = tmp_path / "trend.png"
    saved = cxpulse(env, "digest", "--chart", str(chart))
    assert saved.returncode == 0, saved.stdout
    assert chart.read_bytes().startswith(b"\x89PNG")
