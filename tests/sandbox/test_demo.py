"""`make demo` stays true: six rounds through real HTTP, a digest with the planted story."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from rich.console import Console
from sqlmodel import Session, func, select

from bot.db.engine import make_engine
from bot.db.models import Answer, PulseRound
from bot.sandbox.demo import run_demo


@pytest.mark.demo
def test_demo_runs_six_rounds_and_shows_the_declining_team(tmp_path: Path) -> None:
    out = io.StringIO()
    database = tmp_path / "demo" / "cx.db"
    run_demo(Console(file=out, width=120), seed=11, database=database)
    text = out.getvalue()

    assert "6 weekly digests posted" in text
    assert f"Database: {database}" in text
    assert "Teams at a glance" in text
    support = next(line for line in text.splitlines() if line.startswith("support ("))
    empowerment_column = text.splitlines()
    header = next(line for line in empowerment_column if line.startswith("Team (people)"))
    start = header.index("Empwr")
    cell = support[start - 1 : start + 6]
    assert "↓" in cell, (header, support)
    assert int(re.sub(r"\D", "", cell)) < 50

    engine = make_engine(f"sqlite:///{database}")
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(PulseRound)).one() == 6
        assert session.exec(select(func.count()).select_from(Answer)).one() > 1000
    engine.dispose()
