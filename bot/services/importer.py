"""`cxpulse import`: historic answers from a CSV file, all or nothing, idempotent.

Each answer lands in an imported round for its organisation week; the respondent column is
stored only as a keyed pseudonym, like every other answer. A score is 1 to 5, or "n/a" for
"doesn't apply to me" (stored as 0: the person answered, and the answer is in no figure).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from sqlmodel import Session

from bot.analytics.periods import period_key
from bot.db import pseudonym_keys, published
from bot.db import repositories as repo
from bot.db.engine import session_scope
from bot.db.models import NOT_APPLICABLE
from bot.services.context import Deps
from bot.services.publication import publish_due_weeks

REQUIRED_COLUMNS = ("date", "respondent", "team", "is_leader", "question_id", "score")
OPTIONAL_COLUMNS = ("comment",)
TRUE_WORDS = {"true", "1", "yes", "y", "t"}
FALSE_WORDS = {"false", "0", "no", "n", "f", ""}
MAX_ERRORS_SHOWN = 20
MAX_COMMENT_CHARS = 3000
PROGRESS_EVERY = 500  # rows checked between progress reports
NOT_APPLICABLE_WORDS = {"n/a"}  # any case; an empty score is a missing one, not this


@dataclass(frozen=True, slots=True)
class ImportRow:
    line: int
    day: date
    respondent: str
    team: str | None
    is_leader: bool
    question_id: str
    score: int
    comment: str | None


@dataclass(frozen=True, slots=True)
class ImportReport:
    rows: int
    added: int
    already_present: int
    periods: tuple[str, ...]


class ImportRejected(Exception):
    """The file has problems; nothing was written. `problems` are "line N: what is wrong"."""

    def __init__(self, problems: list[str], total: int) -> None:
        shown = problems[:MAX_ERRORS_SHOWN]
        more = total - len(shown)
        text = "\n".join(shown) + (f"\n... and {more} more problem(s)" if more > 0 else "")
        super().__init__(text)
        self.problems = problems
        self.total = total


def _check_header(header: list[str] | None) -> list[str]:
    if not header:
        return ["line 1: the file is empty; expected a header row"]
    names = [name.strip() for name in header]
    problems = []
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    unknown = [c for c in names if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if missing:
        problems.append(f"line 1: missing column(s): {', '.join(missing)}")
    if unknown:
        problems.append(f"line 1: unknown column(s): {', '.join(unknown)}")
    if len(set(names)) != len(names):
        problems.append("line 1: a column appears twice")
    return problems


def _parse_row(
    line: int, record: dict[str, str], known_questions: set[str]
) -> tuple[ImportRow | None, list[str]]:
    problems = []
    text = {key: (value or "").strip() for key, value in record.items() if key is not None}
    if None in record:
        problems.append(f"line {line}: more values than columns")
    try:
        day = date.fromisoformat(text["date"])
    except ValueError:
        problems.append(f"line {line}: bad date {text['date']!r} (expected YYYY-MM-DD)")
        day = date.min
    respondent = text["respondent"]
    if not respondent or len(respondent) > 200:
        problems.append(f"line {line}: respondent must be 1-200 characters")
    leader_word = text["is_leader"].lower()
    if leader_word not in TRUE_WORDS | FALSE_WORDS:
        problems.append(f"line {line}: is_leader must be true or false, not {text['is_leader']!r}")
    question_id = text["question_id"]
    if question_id not in known_questions:
        problems.append(f"line {line}: unknown question_id {question_id!r}")
    score_text = text["score"]
    not_applicable = score_text.lower() in NOT_APPLICABLE_WORDS
    if not (not_applicable or (score_text.isdigit() and 1 <= int(score_text) <= 5)):
        problems.append(
            f"line {line}: score must be a whole number from 1 to 5 or n/a, not {score_text!r}"
        )
    team = text["team"] or None
    if team is not None and len(team) > 120:
        problems.append(f"line {line}: team name over 120 characters")
    comment = text.get("comment") or None
    if comment is not None and len(comment) > MAX_COMMENT_CHARS:
        problems.append(f"line {line}: comment over {MAX_COMMENT_CHARS} characters")
    if problems:
        return None, problems
    row = ImportRow(
        line=line,
        day=day,
        respondent=respondent,
        team=team,
        is_leader=leader_word in TRUE_WORDS,
        question_id=question_id,
        score=NOT_APPLICABLE if not_applicable else int(score_text),
        comment=comment,
    )
    return row, []


def read_rows(
    lines: Iterable[str],
    known_questions: set[str],
    *,
    progress: Callable[[int], None] | None = None,
) -> list[ImportRow]:
    """Parse and check every row; raise ImportRejected listing every problem by line.

    `progress` hears now and then how many lines of the file have been read (header included).
    """
    reader = csv.DictReader(lines)
    try:
        problems = _check_header(reader.fieldnames)  # type: ignore[arg-type]
    except csv.Error as error:
        raise ImportRejected([f"line 1: unreadable CSV ({error})"], 1) from error
    if problems:
        raise ImportRejected(problems, len(problems))
    rows: list[ImportRow] = []
    try:
        for record in reader:
            row, found = _parse_row(reader.line_num, record, known_questions)
            problems.extend(found)
            if row is not None:
                rows.append(row)
            if progress is not None and reader.line_num % PROGRESS_EVERY == 0:
                progress(reader.line_num)
    except csv.Error as error:
        problems.append(f"line {reader.line_num}: unreadable CSV ({error})")
    if progress is not None:
        progress(reader.line_num)
    if problems:
        raise ImportRejected(problems, len(problems))
    if not rows:
        raise ImportRejected(["the file has a header but no answers"], 1)
    return rows


def _periods(rows: list[ImportRow], deps: Deps) -> dict[str, list[tuple[ImportRow, str]]]:
    """Rows by organisation week, each with its pseudonym; one answer per person and question."""
    zone = deps.settings.zone
    by_period: dict[str, list[tuple[ImportRow, str]]] = {}
    seen: dict[tuple[str, str, str], int] = {}
    problems = []
    for row in rows:
        moment = datetime.combine(row.day, time(12), tzinfo=zone)
        period = period_key(moment, zone)
        pseudonym = deps.respondent(row.respondent)
        key = (period, pseudonym, row.question_id)
        if key in seen:
            problems.append(
                f"line {row.line}: {row.respondent!r} already answered {row.question_id} in "
                f"{period} (line {seen[key]}); keep one answer per person, question and week"
            )
            continue
        seen[key] = row.line
        by_period.setdefault(period, []).append((row, pseudonym))
    if problems:
        raise ImportRejected(problems, len(problems))
    return by_period


def _week_bounds(period: str, deps: Deps) -> tuple[datetime, datetime]:
    year, week = int(period[:4]), int(period[6:])
    monday = date.fromisocalendar(year, week, 1)
    opened = datetime.combine(monday, time(0), tzinfo=deps.settings.zone)
    return opened, opened + timedelta(days=7)


def _imported_under_an_earlier_key(
    session: Session, by_period: dict[str, list[tuple[ImportRow, str]]], generation: int
) -> list[str]:
    """Weeks imported before the pseudonym key was rotated: their respondents are re-keyed from
    their old pseudonyms (they have no stored ID), so a file's rows can no longer be matched to
    them, and adding answers could count a person twice. Such a week takes no more imports."""
    problems = []
    for period in sorted(by_period):
        found = repo.round_by_schedule_key(session=session, schedule_key=f"import:{period}")
        if found is None or (found.key_generation or 1) == generation:
            continue
        lines = sorted(row.line for row, _ in by_period[period])
        shown = ", ".join(str(line) for line in lines[:5]) + (", ..." if len(lines) > 5 else "")
        problems.append(
            f"line {lines[0]}: {period} was imported before CX_PSEUDONYM_KEY was rotated, so "
            "this file's respondents can no longer be matched to its answers and nothing can "
            f"be added to it (it keeps what was imported then); leave its rows out of the file "
            f"(lines {shown})"
        )
    return problems


def import_answers(
    deps: Deps, rows: list[ImportRow], *, progress: Callable[[int], None] | None = None
) -> ImportReport:
    """Write the rows in one transaction; answers already present are left as they are.

    Weeks imported before a rotation of CX_PSEUDONYM_KEY are refused (ImportRejected)."""
    by_period = _periods(rows, deps)
    now = deps.clock.now()
    added = 0
    with session_scope(deps.engine) as session:
        state = pseudonym_keys.key_state(session=session)
        generation = 1 if state is None else state.generation
        rotated = _imported_under_an_earlier_key(session, by_period, generation)
        if rotated:
            raise ImportRejected(rotated, len(rotated))
        for period in sorted(by_period):
            if published.is_published(session=session, period=period):
                # A published week is frozen: the same file again is a no-op, new answers are
                # refused (they would change figures people have already seen).
                present = repo.imported_answer_keys(session=session, period=period)
                new = [row for row, p in by_period[period] if (p, row.question_id) not in present]
                if new:
                    raise ImportRejected(
                        [
                            f"line {row.line}: {period} is already published and its results are "
                            "frozen; answers can no longer be added to it"
                            for row in new
                        ],
                        len(new),
                    )
                if progress is not None:
                    progress(len(by_period[period]))
                continue
            pulse_round = repo.imported_round(
                session=session,
                period=period,
                bounds=_week_bounds(period, deps),
                question_ids=sorted({row.question_id for row, _ in by_period[period]}),
                key_generation=generation,
            )
            assert pulse_round.id is not None
            answers = [
                repo.ImportedAnswer(
                    respondent=repo.Respondent(
                        round_id=pulse_round.id,
                        pseudonym=pseudonym,
                        team=row.team,
                        is_leader=row.is_leader,
                    ),
                    question_id=row.question_id,
                    score=row.score,
                    comment=row.comment,
                    answered_at=datetime.combine(row.day, time(12), tzinfo=deps.settings.zone),
                )
                for row, pseudonym in by_period[period]
            ]
            added += repo.insert_answers_if_absent(session=session, answers=answers, now=now)
            # Team and leader flag wait beside the answers (never in them) until publication.
            published.add_pending_roster(
                session=session,
                round_id=pulse_round.id,
                roster={(p, row.team, row.is_leader) for row, p in by_period[period]},
            )
            if progress is not None:
                progress(len(answers))
    publish_due_weeks(deps)  # closed imported weeks are published at once, frozen from then
    return ImportReport(
        rows=len(rows),
        added=added,
        already_present=len(rows) - added,
        periods=tuple(sorted(by_period)),
    )


def read_file(
    path: Path, known_questions: set[str], *, progress: Callable[[int], None] | None = None
) -> list[ImportRow]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            return read_rows(handle, known_questions, progress=progress)
    except UnicodeDecodeError as error:
        raise ImportRejected([f"the file is not UTF-8 text ({error.reason})"], 1) from error


def count_lines(path: Path) -> int:
    """Physical lines in the file (a progress total: a quoted value may span lines)."""
    with path.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
