"""`cxpulse export --csv`: a seeded history imported into a fresh database, exported, and
checked against the answers themselves and against every way of subtracting a small group."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.analytics.cells import Observation, publish_period
from bot.analytics.periods import period_key
from bot.clock import ManualClock
from bot.runtime import build_deps
from bot.sandbox.history import HistoryRow, generate_history, history_csv
from bot.sandbox.org import COMMENTS, Story, build_org
from bot.services.context import Deps
from bot.services.export import (
    COLUMNS,
    parse_week,
    period_rows,
    plan_export,
    write_csv,
    write_csv_file,
)
from bot.services.importer import import_answers, read_file
from bot.settings import Settings

KEY = "export-test-pseudonym-key"
MINIMUM = 5  # CX_MIN_GROUP_SIZE's default, which these tests run with
SEED = 11
LAST_MONDAY = date(2026, 11, 16)  # 2026-W47
WEEKS = 6
TINY_COMMENT = "only three of us in tiny, this would name me"
Key = tuple[str, str, str, str]  # period, group_kind, group, dimension


@pytest.fixture
def deps(database_url: str) -> Iterator[Deps]:
    built = build_deps(
        Settings.model_validate(
            {"DATABASE_URL": database_url, "CX_PSEUDONYM_KEY": KEY, "CX_TIMEZONE": "UTC"}
        )
    )
    yield built
    built.engine.dispose()


def _questions(deps: Deps) -> dict[str, list[str]]:
    return {d.id: [q.id for q in d.questions] for d in deps.prompts.bank.dimensions}


def _seeded_history(deps: Deps) -> list[HistoryRow]:
    """Six teams of 12 (about 10 answer each week) and a team of 3 who always answer.

    The tiny team is below the minimum, and its 3 people are what is left of the organisation
    beside the six shown teams: so the smallest of those must go too, every week.
    """
    rows = generate_history(
        build_org(SEED, people_per_team=12),
        _questions(deps),
        Story(),
        seed=SEED,
        weeks=WEEKS,
        last_monday=LAST_MONDAY,
    )
    asked: dict[date, set[str]] = defaultdict(set)
    for row in rows:
        asked[row.day - timedelta(days=row.day.weekday())].add(row.question_id)
    for monday, question_ids in sorted(asked.items()):
        for index in range(3):
            for question_id in sorted(question_ids):
                rows.append(
                    HistoryRow(
                        day=monday + timedelta(days=1),
                        respondent=f"UTINY{index}",
                        team="tiny",
                        is_leader=False,
                        question_id=question_id,
                        score=index + 1,
                        comment=TINY_COMMENT if index == 0 else None,
                    )
                )
    return rows


def _import(deps: Deps, rows: list[HistoryRow], tmp_path: Path) -> None:
    path = tmp_path / "history.csv"
    path.write_text(history_csv(rows), encoding="utf-8")
    known = {q for ids in _questions(deps).values() for q in ids}
    assert import_answers(deps, read_file(path, known)).added == len(rows)


def _export(deps: Deps, **bounds: str) -> tuple[str, list[dict[str, str]]]:
    plan = plan_export(deps, **bounds)
    out = io.StringIO()
    report = write_csv(deps, out, plan.periods)
    text = out.getvalue()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert report.rows == len(rows)
    return text, rows


@dataclass
class Direct:
    """Each group's answers summed straight from the history rows, gate or no gate."""

    people: dict[Key, set[str]] = field(default_factory=lambda: defaultdict(set))
    scores: dict[Key, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0] * 5))

    @classmethod
    def of(cls, rows: list[HistoryRow], deps: Deps) -> Direct:
        dimension_of = {q: d for d, ids in _questions(deps).items() for q in ids}
        direct = cls()
        for row in rows:
            moment = datetime.combine(row.day, time(12), tzinfo=UTC)
            period = period_key(moment, ZoneInfo("UTC"))
            dimension = dimension_of[row.question_id]
            split = "leaders" if row.is_leader else "others"
            for kind, group in (("organisation", ""), ("team", row.team), (split, "")):
                key = (period, kind, group, dimension)
                direct.people[key].add(row.respondent)
                direct.scores[key][row.score - 1] += 1
        return direct

    def count(self, period: str, kind: str, group: str, dimension: str) -> int:
        return len(self.people.get((period, kind, group, dimension), set()))


def _key(row: dict[str, str]) -> Key:
    return (row["period"], row["group_kind"], row["group"], row["dimension"])


def _check_nothing_small_is_derivable(rows: list[dict[str, str]]) -> None:
    """From the export alone: every group, and every difference of shown groups, is empty or
    at least the minimum, in every period and dimension on its own."""
    cells: dict[tuple[str, str], dict[tuple[str, str], int]] = defaultdict(dict)
    for row in rows:
        people = int(row["respondents"])
        assert people >= MINIMUM
        cells[(row["period"], row["dimension"])][(row["group_kind"], row["group"])] = people
    for groups in cells.values():
        org = groups.pop(("organisation", ""))  # nothing is shown without its organisation
        teams = [n for (kind, _), n in groups.items() if kind == "team"]
        remainder = org - sum(teams)
        assert remainder == 0 or remainder >= MINIMUM
        assert all(org - n == 0 or org - n >= MINIMUM for n in teams)
        leaders, others = groups.get(("leaders", "")), groups.get(("others", ""))
        for half in (leaders, others):
            # Either half beside the organisation gives the other: both must pass.
            assert half is None or (half >= MINIMUM and org - half >= MINIMUM)
        if leaders is not None and others is not None:
            assert leaders + others == org


def test_export_matches_the_answers_for_every_group_that_passes_and_nothing_else(
    deps: Deps, tmp_path: Path
) -> None:
    history = _seeded_history(deps)
    _import(deps, history, tmp_path)
    direct = Direct.of(history, deps)
    text, rows = _export(deps)

    assert text.splitlines()[0].split(",") == [
        "period",
        "group_kind",
        "group",
        "dimension",
        "respondents",
        "favourable_share",
        "unfavourable_share",
        "mean",
        "score_1",
        "score_2",
        "score_3",
        "score_4",
        "score_5",
    ]
    periods = sorted({key[0] for key in direct.people})
    assert len(periods) == WEEKS
    assert sorted({row["period"] for row in rows}) == periods
    dimensions = {d.id for d in deps.prompts.bank.dimensions}

    # Every figure is what the answers say, for each group shown.
    for row in rows:
        key = _key(row)
        scores = direct.scores[key]
        answers = sum(scores)
        people = int(row["respondents"])
        assert people == direct.count(*key) >= MINIMUM
        assert float(row["favourable_share"]) == round((scores[3] + scores[4]) / answers, 4)
        assert float(row["unfavourable_share"]) == round((scores[0] + scores[1]) / answers, 4)
        if people < 2 * MINIMUM:
            # A small group's whole distribution is not given: shares only (README).
            assert [row["mean"], *(row[f"score_{k}"] for k in range(1, 6))] == [""] * 6
            continue
        assert [int(row[f"score_{k}"]) for k in range(1, 6)] == scores
        mean = sum(score * n for score, n in enumerate(scores, start=1)) / answers
        assert float(row["mean"]) == pytest.approx(mean, abs=5e-5)
    assert len(set(map(_key, rows))) == len(rows)

    shown = {_key(row) for row in rows}
    big_teams = sorted(t for t in {k[2] for k in direct.people if k[1] == "team"} if t != "tiny")
    assert len(big_teams) == 6
    for period in periods:
        for dimension in dimensions:
            # The organisation is always big enough here, so it is always there.
            assert (period, "organisation", "", dimension) in shown
            # The team of 3 never appears...
            assert (period, "team", "tiny", dimension) not in shown
            # ...and since org minus the six teams would be those 3 people, at least one
            # team is hidden too; the auditor hides the smallest first.
            counts = {t: direct.count(period, "team", t, dimension) for t in big_teams}
            assert min(counts.values()) >= MINIMUM
            teams = {t for t in big_teams if (period, "team", t, dimension) in shown}
            assert 3 <= len(teams) <= 5
            hidden = set(big_teams) - teams
            assert min(counts[t] for t in hidden) == min(counts.values())
            # The leader split only ever when both halves are big enough.
            leaders = direct.count(period, "leaders", "", dimension)
            others = direct.count(period, "others", "", dimension)
            if (period, "leaders", "", dimension) in shown:
                assert leaders >= MINIMUM
                assert others >= MINIMUM
    assert sum(k[1] == "team" for k in shown) >= 4 * WEEKS  # teams are mostly shown
    _check_nothing_small_is_derivable(rows)

    # Nothing individual: no respondent id, pseudonym or comment, not even the tiny team's name.
    respondents = {row.respondent for row in history}
    comments = {row.comment for row in history if row.comment} | set(COMMENTS)
    assert TINY_COMMENT in comments
    for secret in respondents | {deps.respondent(r) for r in respondents} | comments:
        assert secret not in text
    assert "tiny" not in text


def test_a_team_whose_complement_is_small_is_hidden_in_that_week_only(
    deps: Deps, tmp_path: Path
) -> None:
    """ops (8 people) and 3 people in no team: showing ops would show those 3 by subtraction.
    The week the 3 stay silent, ops *is* the organisation and may be shown."""
    question = deps.prompts.bank.outcome_questions[-1]
    lines = ["date,respondent,team,is_leader,question_id,score"]
    lines += [f"2026-11-03,ops{i},ops,false,{question},{i % 5 + 1}" for i in range(8)]
    lines += [f"2026-11-03,free{i},,false,{question},5" for i in range(3)]
    lines += [f"2026-11-10,ops{i},ops,false,{question},4" for i in range(8)]
    path = tmp_path / "two-weeks.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    import_answers(deps, read_file(path, {question}))

    _, rows = _export(deps)
    by_period: dict[str, set[tuple[str, str, int]]] = defaultdict(set)
    for row in rows:
        by_period[row["period"]].add((row["group_kind"], row["group"], int(row["respondents"])))
    assert by_period == {
        "2026-W45": {("organisation", "", 11)},
        "2026-W46": {("organisation", "", 8), ("team", "ops", 8)},
    }
    _check_nothing_small_is_derivable(rows)


def test_since_until_and_open_weeks(deps: Deps, tmp_path: Path) -> None:
    # Imported on the Wednesday of 2026-W47: that week's round is still open, so nothing of it
    # is published or exported yet; the weeks before it are published at once.
    wednesday = build_deps(
        deps.settings, clock=ManualClock(datetime(2026, 11, 18, tzinfo=UTC)), engine=deps.engine
    )
    history = _seeded_history(deps)
    _import(wednesday, history, tmp_path)
    plan = plan_export(wednesday)
    assert plan.still_open == ("2026-W47",)
    assert plan.periods == tuple(f"2026-W{w}" for w in range(42, 47))
    # Once it has closed, it is published too, and the export has every week.
    _, everything = _export(deps)
    assert {row["period"] for row in everything} == {f"2026-W{w}" for w in range(42, 48)}
    _, some = _export(deps, since="2026-W44", until="2026-W45")
    assert {row["period"] for row in some} == {"2026-W44", "2026-W45"}
    assert some == [row for row in everything if row["period"] in {"2026-W44", "2026-W45"}]
    assert plan_export(deps, since="2026-W48").periods == ()
    assert plan_export(deps, until="2026-W42").periods == ("2026-W42",)

    with pytest.raises(ValueError, match="not an ISO week"):
        parse_week("2026-W54")
    with pytest.raises(ValueError, match="not an ISO week"):
        parse_week("last week")
    assert parse_week("2026-W53") == "2026-W53"


def test_a_file_is_written_whole_and_formula_like_names_stay_text(
    deps: Deps, tmp_path: Path
) -> None:
    question = deps.prompts.bank.outcome_questions[-1]
    lines = ["date,respondent,team,is_leader,question_id,score"]
    lines += [f"2026-11-03,a{i},=HYPERLINK(1),false,{question},4" for i in range(6)]
    lines += [f"2026-11-03,b{i},plain,false,{question},2" for i in range(6)]
    path = tmp_path / "formula.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    import_answers(deps, read_file(path, {question}))

    target = tmp_path / "out.csv"
    seen: list[str] = []
    report = write_csv_file(deps, target, plan_export(deps).periods, progress=seen.append)
    assert seen == ["2026-W45"]
    assert [p.name for p in tmp_path.iterdir() if "partial" in p.name] == []
    rows = list(csv.DictReader(target.open(encoding="utf-8", newline="")))
    assert report.rows == len(rows) == 3
    assert {row["group"] for row in rows if row["group_kind"] == "team"} == {
        "'=HYPERLINK(1)",
        "plain",
    }


# --- the rows alone never let a small group be subtracted out, whatever the organisation ----

team_sizes = st.lists(st.integers(0, 12), min_size=1, max_size=6)


def _observations(
    period: str, sizes: list[int], loners: int, leaders: int, dropped: int
) -> list[Observation]:
    rows = []
    for index, size in enumerate(sizes):
        for member in range(size):
            person = f"t{index}-{member}"
            rows += [
                Observation(period, person, f"team{index}", member < leaders, d, 1 + member % 5)
                for d in ("d1", "d2")
            ]
    rows += [Observation(period, f"x{i}", None, False, "d1", 2) for i in range(loners)]
    return rows[2 * dropped :]


@settings(max_examples=200, deadline=None)
@given(
    team_sizes,
    st.integers(0, 8),
    st.integers(0, 6),
    st.lists(st.integers(0, 6), min_size=2, max_size=2),
)
def test_export_rows_never_reveal_a_small_group_in_any_week(
    sizes: list[int], loners: int, leaders: int, dropped: list[int]
) -> None:
    """Two weeks, the second missing a few people: each week's rows on their own and side by
    side pass every subtraction check, and every group in them has its real size."""
    observations = _observations("2026-W47", sizes, loners, leaders, dropped[0])
    observations += _observations("2026-W48", sizes, loners, leaders, dropped[1])
    people: dict[tuple[str, str, str, str], set[str]] = defaultdict(set)
    for o in observations:
        split = "leaders" if o.is_leader else "others"
        for kind, group in (("organisation", ""), ("team", o.team or ""), (split, "")):
            if kind != "team" or o.team is not None:
                people[(o.period, kind, group, o.dimension)].add(o.respondent)
    rows = []
    for period in sorted({o.period for o in observations}):
        week = [o for o in observations if o.period == period]
        for row in period_rows(publish_period(period, week, MINIMUM).cells, ["d2", "d1"]):
            values = dict(zip(COLUMNS, map(str, row.values(MINIMUM)), strict=True))
            rows.append(values)
            assert int(values["respondents"]) == len(people[_key(values)])
    _check_nothing_small_is_derivable(rows)
