"""`make demo` stays true: history imported, four live rounds over real HTTP, and a digest that
tells the planted story."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console
from sqlmodel import Session, func, select

from bot.db.engine import make_engine
from bot.db.models import Answer, PulseRound, RoundKind


@pytest.mark.demo
def test_demo_imports_history_runs_live_rounds_and_tells_the_planted_story(
    tmp_path: Path,
) -> None:
    from bot.sandbox.demo import run_demo

    out = io.StringIO()
    database = tmp_path / "demo" / "cx.db"
    run_demo(Console(file=out, width=120), seed=7, database=database)
    text = out.getvalue()

    assert "weeks of history" in text
    assert "4 weekly digests posted" in text
    assert f"Database: {database}" in text
    assert "support on Empowerment down" in text  # the declining team
    assert "Leadership walks the talk: leaders" in text  # the say-do gap
    assert "Cross-team collaboration: teams" in text  # the silo
    assert "sales lowest" in text
    assert "What moves with customer-first behaviour" in text
    assert "Focus this week" in text
    support = next(line for line in text.splitlines() if line.startswith("support ("))
    assert "v" in support  # the heatmap marks the fall
    assert (database.parent / "latest-chart.png").read_bytes().startswith(b"\x89PNG")

    engine = make_engine(f"sqlite:///{database}")
    with Session(engine) as session:
        kinds = [r.kind for r in session.exec(select(PulseRound)).all()]
        assert kinds.count(RoundKind.IMPORTED) == 10
        assert kinds.count(RoundKind.SCHEDULED) == 4
        assert session.exec(select(func.count()).select_from(Answer)).one() > 10000
    engine.dispose()
