"""Question bank version 2 (issue 13): one idea per statement, neutral wording, one time frame,
"doesn't apply to me", two outcome items, `why` notes that quote their seed by its real title,
and a history that keeps every old id."""

from __future__ import annotations

import re
import shutil
import unicodedata
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session, select

from bot.db.engine import make_engine
from bot.db.migrate import upgrade_to_head
from bot.db.models import NOT_APPLICABLE, Answer, Question
from bot.prompts import DEFAULT_PROMPTS_DIR, WHY_MAX_CHARS, load_prompts
from bot.runtime import sync_question_bank

PROMPTS = load_prompts()
FRENCH = PROMPTS.for_locale("fr")
BANK = PROMPTS.bank
SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
NO_SEEDS = "../shared/seeds is not beside this checkout (a clean clone); titles checked offline"
STATEMENTS = {q.id: q.text for d in BANK.dimensions for q in d.questions}

# Every statement version 1 asked: their answers exist, so each id must stay known forever.
VERSION_1_IDS = {
    "customer_outcome.proud_to_show",
    "empowerment.fix_without_permission",
    "empowerment.bend_rules",
    "empowerment.speak_up",
    "employees_first.cared_for",
    "employees_first.sustainable_load",
    "leadership.personal_time",
    "leadership.decisions_match_words",
    "leadership.consistent_message",
    "resources.time_and_budget",
    "resources.tools",
    "training.skills",
    "training.learn_from_cases",
    "customer_insight.know_their_day",
    "customer_insight.feedback_reaches_me",
    "customer_insight.direct_contact",
    "purpose.value_clear",
    "purpose.plan",
    "collaboration.other_teams_help",
    "collaboration.consistent_experience",
    "communication.kept_informed",
    "communication.honest_with_customers",
    "recognition.noticed",
    "recognition.goals_reward_cx",
    "long_term.not_a_fad",
    "long_term.beyond_the_score",
    "long_term.survives_busy_times",
    "root_cause.fix_for_good",
    "root_cause.see_connections",
}

# "One idea" cannot be parsed, so joins are refused unless a person has read the statement and
# found that its "and"/"or" does not join two claims. Reviewed for version 2:
ONE_IDEA_DESPITE_A_JOIN = {
    # One claim: that the two sources agree (it cannot be true of one and false of the other).
    "leadership.consistent_message",
}
JOINS = re.compile(r"\b(and|or|as well as|nor)\b|/|;", re.IGNORECASE)
# A second claim tacked on as a contrast, or a built-in judgement, leads the answer.
LEADING = re.compile(
    r"\b(not just|not only|rather than|instead of|but|proud|great|excellent|amazing|"
    r"fantastic|outstanding|wonderful|love|always|never|of course|obviously)\b",
    re.IGNORECASE,
)
# The time frame is stated once, in the DM ("the past month"); statements name none of their own.
TIME_WORDS = re.compile(
    r"\b(today|yesterday|week|weeks|month|months|year|years|lately|recently|these days|"
    r"last|past|this)\b",
    re.IGNORECASE,
)


def _plain(value: str) -> str:
    """Text for comparing with a seed: typographic quotes, dashes and spacing made plain."""
    value = unicodedata.normalize("NFKC", value)
    # Right and left single quotes, double quotes, en and em dashes.
    for fancy, plain in (
        ("\u2019", "'"),
        ("\u2018", "'"),
        ("\u201c", '"'),
        ("\u201d", '"'),
        ("\u2013", "-"),
        ("\u2014", "-"),
    ):
        value = value.replace(fancy, plain)
    return " ".join(value.split()).casefold()


def _why_parts(why: str) -> tuple[str, str]:
    """(title, quote) of an English `why`: From “<title>”: “<quote>” ..."""
    found = re.match(r"^From “(?P<title>[^”]+)”: “(?P<quote>[^”]+)”", why)
    assert found, f"{why!r} does not start From “<title>”: “<the line it draws on>”"
    return found["title"], found["quote"].rstrip(".")


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def test_at_least_two_outcome_items_customer_first_behaviour_and_customer_outcomes() -> None:
    outcome = BANK.dimension(BANK.outcome_dimension)
    assert [q.id for q in outcome.questions] == list(BANK.outcome_questions)
    assert len(BANK.outcome_questions) >= 2
    behaviour, result = BANK.outcome_questions[:2]
    assert STATEMENTS[behaviour].startswith("I put the customer's interest first")  # what I do
    assert STATEMENTS[result].startswith("Customers who deal with my team")  # what they get
    assert BANK.outcome_dimension not in {d.id for d in BANK.rotating_dimensions}


@pytest.mark.parametrize("question_id", sorted(STATEMENTS))
def test_each_statement_holds_one_idea_and_leads_nowhere(question_id: str) -> None:
    statement = STATEMENTS[question_id]
    if question_id not in ONE_IDEA_DESPITE_A_JOIN:
        assert not JOINS.search(statement), f"{question_id} may join two claims: {statement!r}"
    assert not LEADING.search(statement), f"{question_id} leads: {statement!r}"
    assert statement.count(".") == 1, "one sentence"
    assert statement.endswith(".")
    assert "?" not in statement
    assert "!" not in statement


def test_the_reviewed_joins_are_still_in_the_bank() -> None:
    assert set(STATEMENTS) >= ONE_IDEA_DESPITE_A_JOIN


@pytest.mark.parametrize("question_id", sorted(STATEMENTS))
def test_statements_name_no_time_frame_of_their_own(question_id: str) -> None:
    assert not TIME_WORDS.search(STATEMENTS[question_id]), STATEMENTS[question_id]


def test_the_pulse_states_the_one_time_frame() -> None:
    english = PROMPTS.copy.templates()["pulse.intro"]
    assert "Thinking about the past month, how true is each one for you?" in english
    assert "this week" not in english
    french = FRENCH.copy.templates()["pulse.intro"]
    assert "En pensant au mois écoulé" in french
    assert "cette semaine" not in french
    # And it says what "doesn't apply to me" does, with the button's own words.
    assert f"“{BANK.not_applicable.label}”" in english
    assert f"« {FRENCH.bank.not_applicable.label} »" in french


def test_doesnt_apply_to_me_is_score_zero_and_a_choice_of_its_own() -> None:
    assert BANK.not_applicable.score == NOT_APPLICABLE == 0
    assert BANK.label(NOT_APPLICABLE) == "Doesn't apply to me"
    assert [c.score for c in BANK.choices] == [1, 2, 3, 4, 5, 0]
    for score in (-1, 6):
        with pytest.raises(ValueError, match="no label"):
            BANK.label(score)


def test_every_why_names_its_seeds_real_title_and_quotes_a_line() -> None:
    for dimension in BANK.dimensions:
        title, quote = _why_parts(dimension.why)
        assert title == BANK.sources[dimension.source].title, dimension.id
        assert len(quote) >= 30, f"{dimension.id}: quote a line, not a word"
        assert len(dimension.why) <= WHY_MAX_CHARS
    for dimension in FRENCH.bank.dimensions:
        assert BANK.sources[dimension.source].title in dimension.why, dimension.id


def test_every_cited_seed_has_a_title() -> None:
    cited = {d.source for d in BANK.dimensions}
    cited |= {q.source for d in BANK.dimensions for q in d.questions}
    cited |= {q.source for q in BANK.retired}
    cited |= {n.source for n in PROMPTS.nudges.by_id.values()}
    assert cited <= set(BANK.sources)


def test_a_title_missing_from_its_seed_file_matches_the_posts_address() -> None:
    """Seed 003's file starts with its first paragraph: its title is the original post's, and
    the post's address spells it out word for word."""
    offline = {name: s for name, s in BANK.sources.items() if not s.title_in_file}
    assert set(offline) == {"003_37e38af4413877bc.txt"}
    for source in offline.values():
        assert source.url is not None
        assert source.url.rstrip("/").rsplit("/", 1)[-1] == _slug(source.title)


@pytest.mark.skipif(not SEEDS.is_dir(), reason=NO_SEEDS)
def test_titles_and_quotes_are_the_seeds_own() -> None:
    for name, source in BANK.sources.items():
        path = SEEDS / name
        assert path.is_file(), f"no seed {name} in {SEEDS}"
        body = path.read_text(encoding="utf-8")
        first_line = next(line for line in body.splitlines() if line.strip())
        if source.title_in_file:
            assert _plain(first_line) == _plain(source.title), name
        else:
            assert _plain(source.title) not in _plain(body), name
    for dimension in BANK.dimensions:
        _, quote = _why_parts(dimension.why)
        body = (SEEDS / dimension.source).read_text(encoding="utf-8")
        assert _plain(quote) in _plain(body), f"{dimension.id}: {quote!r} is not in its seed"


def test_every_version_1_id_is_still_known_and_reworded_ones_are_retired() -> None:
    assert BANK.known_question_ids >= VERSION_1_IDS
    retired = BANK.retired_by_id
    assert set(retired).isdisjoint(STATEMENTS)
    for question_id, old in retired.items():
        assert old.replaced_by, f"{question_id}: say what is asked instead"
        for new_id in old.replaced_by:
            assert new_id not in VERSION_1_IDS, "a reworded statement gets a new id"
            assert new_id.split(".")[0] == question_id.split(".")[0], "same dimension"
            assert STATEMENTS[new_id] != old.text
    # Kept ids kept their words: an id is one meaning, forever.
    kept = VERSION_1_IDS & set(STATEMENTS)
    assert len(kept) == len(VERSION_1_IDS) - len(retired)


# --- the loader refuses a bank that breaks the rules -----------------------------------------


@pytest.fixture
def english_dir(tmp_path: Path) -> Path:
    for name in ("questions.yaml", "nudges.yaml", "messages.yaml"):
        shutil.copy(DEFAULT_PROMPTS_DIR / name, tmp_path / name)
    return tmp_path


def _break(folder: Path, old: str, new: str) -> None:
    path = folder / "questions.yaml"
    body = path.read_text(encoding="utf-8")
    assert old in body
    path.write_text(body.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        (
            "      - id: customer_outcome.needs_met\n"
            '        text: "Customers who deal with my team get what they need."\n'
            "        source: 001_8670fb77f8a5851b.txt\n",
            "",
            "at least two outcome items",
        ),
        (
            "outcome_dimension: customer_outcome",
            "outcome_dimension: outcomes",
            "outcome_dimension outcomes is not in the bank",
        ),
        (
            "From “Nine reasons for failing customer experiences”: “If the company does not know",
            "From “Nine reasons CX fails”: “If the company does not know",
            "customer_insight: `why` must name its source by its title",
        ),
        (
            "        source: 003_37e38af4413877bc.txt\n      - id: root_cause.see_connections",
            "        source: 005_unknown.txt\n      - id: root_cause.see_connections",
            "no title under `sources` for 005_unknown.txt",
        ),
        (
            "  - id: purpose.plan  #",
            "  - id: purpose.value_clear  #",
            "purpose.value_clear is both asked and retired",
        ),
        (
            "    replaced_by: [purpose.know_the_plan]",
            "    replaced_by: [purpose.the_plan]",
            "replaced by unknown purpose.the_plan",
        ),
        (
            "    title_in_file: false\n",
            "    title_in_file: false\n    url: null\n",
            "needs the url it comes from",
        ),
        ("not_applicable: {score: 0,", "not_applicable: {score: 6,", "not_applicable.score"),
    ],
)
def test_a_bank_breaking_a_rule_is_refused(
    english_dir: Path, old: str, new: str, reason: str
) -> None:
    _break(english_dir, old, new)
    if "url: null" in new:  # a key given twice: drop the first
        _break(english_dir, '    url: "https://customerthink.com', '    old_url: "https://x')
        _break(english_dir, "    old_url:", "    # old_url:")
    with pytest.raises(ValueError, match=re.escape(reason)):
        load_prompts(english_dir)


def test_a_version_1_bank_is_refused_with_what_changed(english_dir: Path) -> None:
    _break(
        english_dir,
        "outcome_dimension: customer_outcome",
        "outcome_question: customer_outcome.needs_met",
    )
    with pytest.raises(ValueError, match="this is a version 1 bank"):
        load_prompts(english_dir)


# --- history: retired statements stay in the question table, with their answers ---------------


def _migrated(database_url: str) -> Engine:
    engine = make_engine(database_url)
    upgrade_to_head(engine)
    return engine


def test_retired_statements_stay_inactive_and_keep_their_answers(database_url: str) -> None:
    engine = _migrated(database_url)
    # A database that version 1 synced, with an answer to its outcome item and to a statement
    # whose wording did not change.
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO question (id, dimension, text, source, is_outcome, active) VALUES"
                " ('customer_outcome.proud_to_show', 'customer_outcome', 'I would be proud',"
                " '001_8670fb77f8a5851b.txt', true, true),"
                " ('empowerment.speak_up', 'empowerment', 'I can raise',"
                " '002_09d8498acc31176e.txt', false, true),"
                " ('legacy.dropped', 'legacy', 'Never in any bank file',"
                " '000_6b2b1c1fb7e9cc1f.txt', false, true)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO pulse_round (id, kind, schedule_key, period, sequence, opened_at,"
                " closes_at) VALUES (1, 'scheduled', '2026-W40', '2026-W40', 0,"
                " '2026-09-29 10:00:00', '2026-10-02 10:00:00')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO answer (round_id, respondent, question_id, score, click_order)"
                " VALUES (1, 'p1', 'customer_outcome.proud_to_show', 4, 0),"
                " (1, 'p1', 'empowerment.speak_up', 2, 0)"
            )
        )
    sync_question_bank(engine, PROMPTS)
    sync_question_bank(engine, PROMPTS)  # twice: nothing changes the second time
    with Session(engine) as session:
        rows = {q.id: q for q in session.exec(select(Question)).all()}
        kept = [(a.question_id, a.score) for a in session.exec(select(Answer)).all()]
    engine.dispose()
    old = rows["customer_outcome.proud_to_show"]
    assert (old.active, old.dimension, old.is_outcome) == (False, "customer_outcome", True)
    assert old.text == BANK.retired_by_id[old.id].text
    assert rows["empowerment.speak_up"].active  # same words, same id, still asked
    assert not rows["legacy.dropped"].active  # unknown to the bank: retired too
    for question_id in BANK.retired_by_id:
        assert not rows[question_id].active
    for question_id in STATEMENTS:
        assert rows[question_id].active
    for question_id in BANK.outcome_questions:
        assert rows[question_id].is_outcome
    assert sorted(kept) == [("customer_outcome.proud_to_show", 4), ("empowerment.speak_up", 2)]


def test_a_fresh_database_knows_the_retired_ids_too(database_url: str) -> None:
    engine = _migrated(database_url)
    sync_question_bank(engine, PROMPTS)
    with Session(engine) as session:
        active = {q.id: q.active for q in session.exec(select(Question)).all()}
    engine.dispose()
    assert active == {**dict.fromkeys(STATEMENTS, True), **dict.fromkeys(BANK.retired_by_id, False)}
