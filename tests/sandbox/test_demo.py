"""`make demo` stays true: history imported, four live rounds over real HTTP, and a digest that
tells the planted story."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from bot.db.engine import make_engine
from bot.db.models import Answer, PulseRound, RoundKind

# One demo run serves every demo test: under xdist they share a worker.
pytestmark = pytest.mark.xdist_group("demo")

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.demo
def test_demo_imports_history_runs_live_rounds_and_tells_the_planted_story(
    demo_run: tuple[str, Path],
) -> None:
    text, database = demo_run

    assert "weeks of history" in text
    assert "4 weekly digests posted" in text
    # Support's fall nudges its lead (once a week), never the whole team by DM.
    nudged = re.search(r"(\d+) team nudges sent to team leads", text)
    assert nudged is not None
    assert 1 <= int(nudged.group(1)) <= 4
    assert f"Database: {database}" in text
    assert "support: Empowerment fell to" in text  # the declining team
    assert "Say-do gap on Leadership walks the talk: leaders" in text  # the say-do gap
    assert "Silo on Cross-team collaboration: " in text  # the silo
    assert "sales at " in text
    assert "What moves with customer-first behaviour" in text
    assert "Focus this week" in text
    # Someone thanked a teammate with /cx kudos that week: the digest counts it, quotes it.
    assert "Kudos this week: 1 (" in text
    assert "thanked for what they did for a customer" in text
    # The pictures posted with it: the chart's panel and the heatmap's mark for the fall.
    assert (database.parent / "latest-chart.png").read_bytes().startswith(b"\x89PNG")
    assert (database.parent / "latest-heatmap.png").read_bytes().startswith(b"\x89PNG")
    assert "Real changes: support on Empowerment fell to" in " ".join(text.split())

    engine = make_engine(f"sqlite:///{database}")
    with Session(engine) as session:
        kinds = [r.kind for r in session.exec(select(PulseRound)).all()]
        assert kinds.count(RoundKind.IMPORTED) == 10
        assert kinds.count(RoundKind.SCHEDULED) == 4
        assert session.exec(select(func.count()).select_from(Answer)).one() > 10000
    engine.dispose()


@pytest.mark.demo
def test_the_demo_ends_on_the_web_reports_one_click_link(demo_run: tuple[str, Path]) -> None:
    """The link itself is followed in tests/web/test_login_browser.py, while it is served."""
    text, _ = demo_run
    *_, offer, link = text.rstrip("\n").splitlines()
    assert "The web report, signed in as" in offer
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/openid/connect/one-click/[\w-]+", link)


@pytest.mark.demo
def test_the_demos_digest_line_works_pasted_into_a_fresh_shell(
    demo_run: tuple[str, Path], tmp_path: Path
) -> None:
    """Pasted from the project root into a new shell: no venv on PATH, no key in the
    environment, nothing but what the line itself says."""
    text, database = demo_run
    [command] = [line for line in text.splitlines() if line.startswith("DATABASE_URL=")]
    assert f"sqlite:///{database}" in command
    assert "cx-pulse-demo-pseudonym-key" in command  # the demo's own key, not a real one
    assert " digest --print" in command
    fresh = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    pasted = subprocess.run(  # noqa: S602 - the line is run exactly as a person pastes it
        command,
        shell=True,
        cwd=PROJECT_ROOT,
        env=fresh,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert pasted.returncode == 0, pasted.stdout + pasted.stderr
    assert "Traceback" not in pasted.stderr
    # The same latest digest the demo showed, with its story.
    latest = re.findall(r"\d{4}-W\d{2}", text.split("#cx-leadership, as a leader sees it")[1])
    assert latest
    assert latest[0] in pasted.stdout
    assert "Focus this week" in pasted.stdout
