"""One run of the demo shared by every demo test (it takes a while)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """What the demo printed, and its database. Someone's own file sits beside the database
    beforehand: a demo run must leave it alone."""
    from bot.sandbox.demo import run_demo

    out = io.StringIO()
    database = tmp_path_factory.mktemp("demo") / "demo" / "cx.db"
    database.parent.mkdir()
    (database.parent / "notes.txt").write_text("mine", encoding="utf-8")
    run_demo(Console(file=out, width=120), seed=7, database=database)
    return out.getvalue(), database
