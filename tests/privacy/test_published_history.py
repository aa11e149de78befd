"""Attacks on published history, through imports, the CSV export and digest JSON, judged
against the ground truth by the brute-force oracle; and a property test over random
organisations and sequences of events."""

from __future__ import annotations

import csv
import io
import shutil
import uuid
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from bot.clock import ManualClock
from bot.db.engine import make_engine
from bot.db.migrate import upgrade_to_head
from bot.render.json_report import report_json
from bot.runtime import build_deps
from bot.services.context import Deps
from bot.services.digest import build_digest
from bot.services.export import plan_export, write_csv
from bot.services.importer import import_answers, read_rows
from bot.services.privacy import forget_member, purge_old_answers
from bot.settings import Settings
from tests.privacy.oracle import determined_groups

KEY = "published-history-pseudonym-key"
NOW = datetime(2026, 12, 3, 12, tzinfo=UTC)
MONDAY = date(2026, 11, 2)  # 2026-W45


def _settings(url: str, **extra: str) -> Settings:
    return Settings.model_validate(
        {"DATABASE_URL": url, "CX_PSEUDONYM_KEY": KEY, "CX_TIMEZONE": "UTC", **extra}
    )


@pytest.fixture
def deps(database_url: str) -> Iterator[Deps]:
    built = build_deps(_settings(database_url), clock=ManualClock(NOW))
    yield built
    built.engine.dispose()


Person = tuple[str, str | None, bool]  # id, team, leader


def _import(deps: Deps, week: int, people: list[Person], scores: dict[str, int]) -> None:
    """One week of answers to the outcome question, through `cxpulse import`."""
    question = deps.prompts.bank.outcome_questions[-1]
    day = MONDAY + timedelta(weeks=week, days=1)
    lines = ["date,respondent,team,is_leader,question_id,score"]
    lines += [
        f"{day},{pid},{team or ''},{str(leader).lower()},{question},{scores[pid]}"
        for pid, team, leader in people
    ]
    rows = read_rows(io.StringIO("\n".join(lines) + "\n"), {question})
    import_answers(deps, rows)


def _export(deps: Deps) -> list[dict[str, str]]:
    out = io.StringIO()
    write_csv(deps, out, plan_export(deps).periods)
    return list(csv.DictReader(io.StringIO(out.getvalue())))


def _truth(people: list[Person]) -> dict[tuple[str, str], set[str]]:
    """Who is behind each group an export row can name."""
    groups: dict[tuple[str, str], set[str]] = defaultdict(set)
    for pid, team, leader in people:
        groups[("organisation", "")].add(pid)
        groups[("leaders" if leader else "others", "")].add(pid)
        if team is not None:
            groups[("team", team)].add(pid)
    return groups


def _assert_no_small_group_determined(
    rows: list[dict[str, str]], people_by_week: dict[str, list[Person]], minimum: int
) -> None:
    by_week: dict[str, list[set[str]]] = defaultdict(list)
    for row in rows:
        truth = _truth(people_by_week[row["period"]])
        members = truth[(row["group_kind"], row["group"])]
        assert int(row["respondents"]) == len(members) >= minimum
        by_week[row["period"]].append(members)
    for period, cells in by_week.items():
        assert determined_groups(cells, minimum, limit=1) == [], period


def test_a_team_with_one_leader_beside_the_leader_split_gives_nobody_away(deps: Deps) -> None:
    """Attack 1: team a has one leader and team b is all leaders; the leader split and every
    team pass the minimum on their own, yet leaders minus team b is a's one leader."""
    people: list[Person] = (
        [(f"a{i}", "a", i == 0) for i in range(6)]
        + [(f"b{i}", "b", True) for i in range(6)]
        + [(f"c{i}", "c", False) for i in range(6)]
    )
    _import(deps, 0, people, {pid: 1 + n % 5 for n, (pid, _, _) in enumerate(people)})
    rows = _export(deps)
    period = rows[0]["period"]
    _assert_no_small_group_determined(rows, {period: people}, 5)
    shown = {(r["group_kind"], r["group"]) for r in rows}
    # Something had to give: the split and team b cannot both be shown.
    assert not {("leaders", ""), ("team", "b")} <= shown
    assert ("organisation", "") in shown
    report = report_json(build_digest(deps))
    assert {t["team"] for t in report["teams"]} == {g for k, g in shown if k == "team"}


def test_drivers_need_the_minimum_of_distinct_people_not_of_pairs(deps: Deps) -> None:
    """Attack 6: four people over twelve weeks give 48 pairs; that is still four people."""
    bank = deps.prompts.bank
    other = next(d for d in bank.rotating_dimensions).questions[0].id
    outcome = bank.outcome_questions[-1]

    def history(count: int, prefix: str) -> str:
        lines = ["date,respondent,team,is_leader,question_id,score"]
        for week in range(12):
            day = MONDAY - timedelta(weeks=12 - week)
            for n in range(count):
                score = 1 + (n + week) % 5
                lines.append(f"{day},{prefix}{n},,false,{other},{score}")
                lines.append(f"{day},{prefix}{n},,false,{outcome},{score}")
        return "\n".join(lines) + "\n"

    import_answers(deps, read_rows(io.StringIO(history(4, "few")), {other, outcome}))
    assert report_json(build_digest(deps))["drivers"] == []


def test_drivers_are_shown_when_enough_people_are_behind_them(database_url: str) -> None:
    built = build_deps(_settings(database_url, CX_MIN_GROUP_SIZE="3"), clock=ManualClock(NOW))
    bank = built.prompts.bank
    other = bank.rotating_dimensions[0].questions[0].id
    outcome = bank.outcome_questions[-1]
    lines = ["date,respondent,team,is_leader,question_id,score"]
    for week in range(8):
        day = MONDAY - timedelta(weeks=8 - week)
        for n in range(6):
            score = 1 + (n + week) % 5
            lines += [f"{day},p{n},,false,{other},{score}", f"{day},p{n},,false,{outcome},{score}"]
    import_answers(built, read_rows(io.StringIO("\n".join(lines) + "\n"), {other, outcome}))
    drivers = report_json(build_digest(built))["drivers"]
    built.engine.dispose()
    assert [d["dimension"] for d in drivers] == [bank.rotating_dimensions[0].id]
    assert drivers[0]["pairs"] == 48


def test_raising_the_minimum_hides_more_and_lowering_it_reveals_nothing_new(
    deps: Deps, database_url: str
) -> None:
    people: list[Person] = [(f"a{i}", "a", False) for i in range(6)] + [
        (f"b{i}", "b", False) for i in range(9)
    ]
    _import(deps, 0, people, {pid: 1 + n % 5 for n, (pid, _, _) in enumerate(people)})
    at_five = _export(deps)
    assert {r["group"] for r in at_five if r["group_kind"] == "team"} == {"a", "b"}
    stricter = build_deps(_settings(database_url, CX_MIN_GROUP_SIZE="7"), clock=ManualClock(NOW))
    at_seven = _export(stricter)
    assert {r["group"] for r in at_seven if r["group_kind"] == "team"} < {"a", "b"}
    assert all(row in at_five for row in at_seven)  # nothing new, nothing recomputed
    looser = build_deps(_settings(database_url, CX_MIN_GROUP_SIZE="3"), clock=ManualClock(NOW))
    assert _export(looser) == at_five  # published under 5: a lower minimum adds nothing
    stricter.engine.dispose()
    looser.engine.dispose()


# --- random organisations and events ------------------------------------------------------

TEAMS = ["a", "b", "c", None]
people_strategy = st.lists(
    st.tuples(st.sampled_from(TEAMS), st.booleans()), min_size=3, max_size=12
)
events = st.lists(
    st.one_of(
        st.tuples(st.just("week"), st.integers(0, 2**16)),
        st.tuples(st.just("forget"), st.integers(0, 11)),
        st.tuples(st.just("move"), st.integers(0, 11), st.sampled_from(TEAMS)),
        st.tuples(st.just("purge")),
        st.tuples(st.just("minimum"), st.integers(3, 6)),
    ),
    min_size=1,
    max_size=7,
)


def _shows_no_more(row: dict[str, str], earlier: dict[str, str]) -> bool:
    """Same cell as an earlier row, showing a subset of its values."""
    return all(value in ("", earlier[name]) for name, value in row.items())


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database, copied for each example (migrating is the slow part)."""
    path = tmp_path_factory.mktemp("template") / "cx.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade_to_head(engine)
    engine.dispose()
    return path


@settings(
    max_examples=60,
    deadline=None,
    # Each example builds a database; shrinking one would take minutes, and the failing
    # example is printed whole anyway.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(people_strategy, events)
def test_random_histories_never_determine_a_small_group(
    template: Path,
    tmp_path: Path,
    roster: list[tuple[str | None, bool]],
    script: list[tuple[object, ...]],
) -> None:
    """Weeks of answers, forget-me, purges, team moves and changes of the minimum, in any
    order: everything published is checked by the oracle against the truth, and every week
    once published reads the same ever after."""
    # A fresh name each example: a copy must never meet an earlier example's -wal file.
    path = tmp_path / f"cx-{uuid.uuid4().hex}.db"
    shutil.copy(template, path)
    url = f"sqlite:///{path}"
    people: list[Person] = [(f"p{i}", team, lead) for i, (team, lead) in enumerate(roster)]
    minimum = 4
    clock = ManualClock(NOW + timedelta(weeks=10))  # every week imported here has closed
    deps = build_deps(_settings(url, CX_MIN_GROUP_SIZE=str(minimum)), clock=clock)
    week = 0
    truth: dict[str, list[Person]] = {}
    ever: dict[str, list[dict[str, str]]] = {}
    try:
        for event in script:
            kind = event[0]
            if kind == "week" and people:
                seed = int(event[1])  # type: ignore[call-overload]
                scores = {pid: 1 + (seed >> (n % 16)) % 5 for n, (pid, _, _) in enumerate(people)}
                _import(deps, week, people, scores)
                period = f"2026-W{45 + week}"
                truth[period] = list(people)
                week += 1
            elif kind == "forget" and people:
                pid = people[int(event[1]) % len(people)][0]  # type: ignore[call-overload]
                forget_member(deps, slack_user_id=pid)
                people = [p for p in people if p[0] != pid]
            elif kind == "move" and people:
                index = int(event[1]) % len(people)  # type: ignore[call-overload]
                pid, _, lead = people[index]
                people[index] = (pid, event[2], lead)  # type: ignore[assignment]
            elif kind == "purge":
                purge_old_answers(
                    build_deps(_settings(url, CX_RETENTION_DAYS="1"), clock=clock, migrate=False)
                )
            elif kind == "minimum":
                minimum = int(event[1])  # type: ignore[call-overload]
                deps = build_deps(
                    _settings(url, CX_MIN_GROUP_SIZE=str(minimum)), clock=clock, migrate=False
                )
            rows = _export(deps)
            by_period: dict[str, list[dict[str, str]]] = defaultdict(list)
            for row in rows:
                by_period[row["period"]].append(row)
            _assert_no_small_group_determined(rows, truth, minimum)
            for period, published in by_period.items():
                # A week never gains a cell or changes a figure; a raised minimum may hide
                # cells, or a distribution (blank values).
                for row in published:
                    assert any(_shows_no_more(row, seen) for seen in ever.get(period, [row]))
                ever.setdefault(period, []).extend(r for r in published if r not in ever[period])
            if truth:
                report = report_json(build_digest(deps))
                assert report["period"] == max(truth)
                teams = {r["group"] for r in by_period.get(report["period"], [])}
                assert {t["team"] for t in report["teams"]} <= teams
    finally:
        deps.engine.dispose()


def test_a_team_that_shrinks_to_the_minimum_shows_shares_only(deps: Deps) -> None:
    """Week 1: team a has 6 and b has 12. One of a is forgotten, and week 2 has a at exactly
    the minimum: its members could each subtract their own answer from a whole distribution,
    so a gets shares only, and week 1 reads as it was published."""
    a = [(f"a{i}", "a", False) for i in range(6)]
    b = [(f"b{i}", "b", False) for i in range(12)]
    scores = {pid: 1 + n % 5 for n, (pid, _, _) in enumerate(a + b)}
    _import(deps, 0, a + b, scores)
    week_one = _export(deps)
    forget_member(deps, slack_user_id="a5")
    _import(deps, 1, a[:5] + b, scores)
    rows = _export(deps)
    assert [r for r in rows if r["period"] == week_one[0]["period"]] == week_one
    (team_a,) = [r for r in rows if r["period"] != week_one[0]["period"] and r["group"] == "a"]
    assert team_a["respondents"] == "5"
    assert team_a["favourable_share"] != ""
    assert [team_a[f"score_{k}"] for k in range(1, 6)] == [""] * 5
    (org,) = [
        r
        for r in rows
        if r["period"] != week_one[0]["period"] and r["group_kind"] == "organisation"
    ]
    assert org["score_5"] != ""  # 17 people: the whole distribution is shown
