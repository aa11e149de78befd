"""`cxpulse import`: all or nothing, idempotent, grouped into organisation weeks."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from bot.db.models import (
    Answer,
    PendingRoster,
    PublishedComment,
    PublishedWeek,
    PulseRound,
    RoundKind,
)
from bot.db.replies import PendingComment
from bot.pseudonym import pseudonym
from bot.runtime import build_deps
from bot.services.context import Deps
from bot.services.importer import ImportRejected, import_answers, read_file
from bot.settings import Settings

KEY = "import-test-pseudonym-key"
HEADER = "date,respondent,team,is_leader,question_id,score,comment\n"


@pytest.fixture
def deps(database_url: str) -> Iterator[Deps]:
    settings = Settings.model_validate(
        {"DATABASE_URL": database_url, "CX_PSEUDONYM_KEY": KEY, "CX_TIMEZONE": "Europe/London"}
    )
    built = build_deps(settings)
    yield built
    built.engine.dispose()


def _known(deps: Deps) -> set[str]:
    return {q.id for d in deps.prompts.bank.dimensions for q in d.questions}


def _write(tmp_path: Path, body: str, name: str = "history.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def _count(deps: Deps, model: type[Answer] | type[PulseRound]) -> int:
    with Session(deps.engine) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def _questions(deps: Deps) -> tuple[str, str]:
    bank = deps.prompts.bank
    return bank.outcome_questions[-1], bank.dimensions[0].questions[0].id


def test_import_groups_by_organisation_week_and_adds_nothing_twice(
    deps: Deps, tmp_path: Path
) -> None:
    outcome, other = _questions(deps)
    path = _write(
        tmp_path,
        f"2026-11-22,p1,Support,false,{outcome},4,\n"  # Sunday: week 47
        f"2026-11-23,p1,Support,false,{outcome},2,slow tools\n"  # Monday: week 48
        f"2026-11-23,p2,Sales,TRUE,{other},5,\n"
        f"2026-11-24,p3,,no,{other},1,\n",
    )
    rows = read_file(path, _known(deps))
    report = import_answers(deps, rows)
    assert (report.rows, report.added, report.already_present) == (4, 4, 0)
    assert report.periods == ("2026-W47", "2026-W48")
    again = import_answers(deps, read_file(path, _known(deps)))
    assert (again.added, again.already_present) == (0, 4)
    assert _count(deps, Answer) == 4
    with Session(deps.engine) as session:
        rounds = session.exec(select(PulseRound).order_by(PulseRound.period)).all()
        stored = session.exec(select(Answer).where(Answer.score == 2)).one()
        comments = [c.text for c in session.exec(select(PublishedComment)).all()]
        pending = [c.text for c in session.exec(select(PendingComment)).all()]
        leader = session.exec(select(Answer).where(Answer.score == 5)).one()
    assert [(r.period, r.kind) for r in rounds] == [
        ("2026-W47", RoundKind.IMPORTED),
        ("2026-W48", RoundKind.IMPORTED),
    ]
    assert stored.respondent == pseudonym(KEY.encode(), "p1")
    # The comment was stored apart from the answer, linked to nobody; its week (3 people)
    # is below the comment rule, so publication kept nothing of it.
    assert (comments, pending) == ([], [])
    assert stored.round_id == rounds[1].id
    assert leader.round_id == rounds[1].id
    # Team and leader flag never sit in an answer: both closed weeks were published at once,
    # with each person in their class, and the roster kept beside the answers is gone.
    with Session(deps.engine) as session:
        weeks = {w.period: w for w in session.exec(select(PublishedWeek)).all()}
        assert session.exec(select(PendingRoster)).all() == []
    assert set(weeks) == {"2026-W47", "2026-W48"}
    classes = {
        tuple(a[:2]) for found in json.loads(weeks["2026-W48"].atoms).values() for a in found
    }
    assert classes == {("Support", False), ("Sales", True), (None, False)}


def test_a_published_week_accepts_the_same_file_again_but_no_new_answers(
    deps: Deps, tmp_path: Path
) -> None:
    outcome, _ = _questions(deps)
    first = _write(tmp_path, f"2026-11-23,p1,Support,false,{outcome},4,\n", "first.csv")
    import_answers(deps, read_file(first, _known(deps)))
    assert import_answers(deps, read_file(first, _known(deps))).added == 0
    more = _write(
        tmp_path,
        f"2026-11-23,p1,Support,false,{outcome},4,\n2026-11-24,p2,Support,false,{outcome},1,\n",
        "more.csv",
    )
    with pytest.raises(ImportRejected, match="already published"):
        import_answers(deps, read_file(more, _known(deps)))
    assert _count(deps, Answer) == 1


def test_bad_rows_are_reported_by_line_and_nothing_is_written(deps: Deps, tmp_path: Path) -> None:
    outcome, _ = _questions(deps)
    path = _write(
        tmp_path,
        f"2026-11-23,p1,Support,false,{outcome},4,\n"
        "2026-11-23,p2,Support,false,no.such_question,4,\n"
        f"2026-11-23,p3,Support,false,{outcome},6,\n"
        f"23/11/2026,p4,Support,false,{outcome},3,\n"
        f"2026-11-23,p5,Support,maybe,{outcome},3,\n"
        f"2026-11-23,,Support,false,{outcome},3,\n",
    )
    with pytest.raises(ImportRejected) as rejected:
        read_file(path, _known(deps))
    assert rejected.value.problems == [
        "line 3: unknown question_id 'no.such_question'",
        "line 4: score must be a whole number from 1 to 5 or n/a, not '6'",
        "line 5: bad date '23/11/2026' (expected YYYY-MM-DD)",
        "line 6: is_leader must be true or false, not 'maybe'",
        "line 7: respondent must be 1-200 characters",
    ]
    assert _count(deps, Answer) == 0
    assert _count(deps, PulseRound) == 0


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        ("date,respondent,team,question_id,score\n", "missing column(s): is_leader"),
        (
            "date,respondent,team,is_leader,question_id,score,mood\n",
            "unknown column(s): mood",
        ),
        ("", "the file is empty"),
    ],
)
def test_wrong_columns_are_refused(tmp_path: Path, deps: Deps, header: str, problem: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(header, encoding="utf-8")
    with pytest.raises(ImportRejected, match=re.escape(problem)):
        read_file(path, _known(deps))


def test_two_answers_from_one_person_to_one_question_in_a_week_are_refused(
    deps: Deps, tmp_path: Path
) -> None:
    outcome, _ = _questions(deps)
    path = _write(
        tmp_path,
        f"2026-11-23,p1,Support,false,{outcome},4,\n2026-11-25,p1,Support,false,{outcome},2,\n",
    )
    with pytest.raises(ImportRejected, match=r"line 3: 'p1' already answered .* \(line 2\)"):
        import_answers(deps, read_file(path, _known(deps)))
    assert _count(deps, Answer) == 0


def test_non_utf8_file_is_refused(deps: Deps, tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(HEADER.encode() + "2026-11-23,Jos\xe9,x,false,q,4,\n".encode("latin-1"))
    with pytest.raises(ImportRejected, match="not UTF-8"):
        read_file(path, _known(deps))


def test_cli_import_reports_and_exits_non_zero_on_problems(
    deps: Deps, tmp_path: Path, database_url: str
) -> None:
    outcome, _ = _questions(deps)
    env = {
        "PATH": "/usr/bin:/bin",
        "DATABASE_URL": database_url,
        "CX_PSEUDONYM_KEY": KEY,
        "CX_TIMEZONE": "Europe/London",
    }
    good = _write(tmp_path, f"2026-11-23,p1,Support,false,{outcome},4,\n")
    bad = _write(tmp_path, f"2026-11-23,p1,Support,false,{outcome},9,\n", name="bad.csv")

    def run(path: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603
            [sys.executable, "-m", "bot", "import", str(path)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    refused = run(bad)
    assert refused.returncode == 1
    assert "Nothing was imported" in refused.stdout
    assert "line 2: score must be a whole number from 1 to 5 or n/a, not '9'" in refused.stdout
    first = run(good)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "Imported 1 new answers from 1 rows (0 were already there)" in first.stdout
    assert "Imported 0 new answers from 1 rows (1 were already there)" in run(good).stdout
