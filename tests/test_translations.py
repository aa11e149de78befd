"""A second language proves the copy is data: prompts/fr/ must translate every English entry,
nothing else, with the same placeholders and within the same limits."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from bot.prompts import DEFAULT_PROMPTS_DIR, load_prompts, placeholders
from bot.render.timefmt import local_time

ENGLISH = load_prompts()
FRENCH = ENGLISH.for_locale("fr-FR")


@pytest.fixture
def prompts_dir(tmp_path: Path) -> Path:
    """A copy of prompts/, English and French, to break one thing in."""
    root = tmp_path / "prompts"
    shutil.copytree(DEFAULT_PROMPTS_DIR, root)
    return root


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_locales_pick_the_language() -> None:
    assert ENGLISH.languages == ("en", "fr")
    assert FRENCH.language == "fr"
    for locale in ("fr-FR", "fr-CA", "fr_BE", "FR-fr", "fr"):
        assert ENGLISH.for_locale(locale) is FRENCH
    for locale in (None, "", "en-US", "en-GB", "de-DE", "ja-JP"):
        assert ENGLISH.for_locale(locale) is ENGLISH
    # Every language knows the others.
    assert FRENCH.for_locale("en-US") is ENGLISH
    assert FRENCH.for_locale(None) is ENGLISH


def test_ids_scores_and_structure_are_the_same_in_french() -> None:
    english, french = ENGLISH.bank, FRENCH.bank
    assert [d.id for d in french.dimensions] == [d.id for d in english.dimensions]
    assert list(french.questions_by_id) == list(english.questions_by_id)
    assert [p.score for p in french.scale] == [1, 2, 3, 4, 5]
    assert french.outcome_questions == english.outcome_questions
    assert french.sources == english.sources  # titles are names: never translated
    assert [q.id for q in french.retired] == [q.id for q in english.retired]
    for qid, (dimension, question) in english.questions_by_id.items():
        assert french.questions_by_id[qid][1].source == question.source
        assert french.questions_by_id[qid][0].id == dimension.id
        assert french.questions_by_id[qid][1].text != question.text
    assert {k: [n.id for n in v] for k, v in FRENCH.nudges.nudges.items()} == {
        k: [n.id for n in v] for k, v in ENGLISH.nudges.nudges.items()
    }
    assert FRENCH.copy.keys() == ENGLISH.copy.keys()
    assert FRENCH.bank.label(4) == "D'accord"
    assert FRENCH.bank.label(0) == "Ne me concerne pas"
    # A retired statement is still shown in the reader's language (App Home lists old answers).
    assert FRENCH.statement("customer_outcome.proud_to_show", "stored").startswith("Ce serait")
    assert FRENCH.statement("empowerment.fix_without_permission", "stored").startswith("Je peux")
    assert FRENCH.statement("retired.question", "stored") == "stored"


def test_french_keeps_every_placeholder_and_the_slack_markup() -> None:
    english, french = ENGLISH.copy.templates(), FRENCH.copy.templates()
    markup = re.compile(r"\*|`|\n|:[a-z_]+:|<#\{channel\}>")
    for key, text in english.items():
        assert placeholders(french[key]) == placeholders(text), key
        assert sorted(markup.findall(french[key])) == sorted(markup.findall(text)), key


def test_french_files_hold_only_text() -> None:
    bank = yaml.safe_load((DEFAULT_PROMPTS_DIR / "fr" / "questions.yaml").read_text())
    assert set(bank) == {"scale", "dimensions", "questions"}
    assert all(set(d) == {"name", "short", "why"} for d in bank["dimensions"].values())
    nudges = yaml.safe_load((DEFAULT_PROMPTS_DIR / "fr" / "nudges.yaml").read_text())
    assert set(nudges) == {"nudges"}
    assert all(isinstance(text, str) for text in nudges["nudges"].values())


def test_dates_are_worded_in_the_readers_language() -> None:
    moment = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
    assert local_time(moment, "Europe/London", ENGLISH.copy) == "Sun 29 Nov, 10:00 (Europe/London)"
    assert local_time(moment, "Europe/London") == "Sun 29 Nov, 10:00 (Europe/London)"
    assert local_time(moment, "Europe/Paris", FRENCH.copy) == "dim. 29 nov. à 11:00 (Europe/Paris)"


def test_placeholders_ignore_format_specs() -> None:
    assert placeholders("({gap:+.1f} points) {name}") == {"gap", "name"}
    assert placeholders("no fields") == set()


def test_a_stray_key_is_refused(prompts_dir: Path) -> None:
    _edit(
        prompts_dir / "fr" / "messages.yaml",
        "pulse:\n",
        'pulse:\n  confetti: "Bravo !"\n',
    )
    with pytest.raises(
        ValueError, match=r"prompts/fr/messages\.yaml: no English counterpart for pulse\.confetti"
    ):
        load_prompts(prompts_dir)


def test_restating_structure_is_refused(prompts_dir: Path) -> None:
    _edit(
        prompts_dir / "fr" / "questions.yaml",
        '    short: "Auton"\n',
        '    short: "Auton"\n    source: 000_6b2b1c1fb7e9cc1f.txt\n',
    )
    with pytest.raises(
        ValueError, match=r"no English counterpart for dimensions\.empowerment\.source"
    ):
        load_prompts(prompts_dir)


def test_a_question_that_is_not_in_the_bank_is_refused(prompts_dir: Path) -> None:
    _edit(
        prompts_dir / "fr" / "questions.yaml",
        "questions:\n",
        'questions:\n  empowerment.made_up: "Une affirmation qui n\'existe pas en anglais."\n',
    )
    with pytest.raises(
        ValueError,
        match=r"prompts/fr/questions\.yaml: no English counterpart for "
        r"questions\.empowerment\.made_up",
    ):
        load_prompts(prompts_dir)


def test_a_missing_translation_is_refused(prompts_dir: Path) -> None:
    path = prompts_dir / "fr" / "questions.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text(
        "".join(line for line in lines if "empowerment.bend_rules" not in line), encoding="utf-8"
    )
    with pytest.raises(
        ValueError,
        match=r"prompts/fr/questions\.yaml: no translation for questions\.empowerment\.bend_rules",
    ):
        load_prompts(prompts_dir)


def test_a_missing_message_is_refused(prompts_dir: Path) -> None:
    _edit(
        prompts_dir / "fr" / "messages.yaml",
        '  forget_me_cancelled: "Rien n\'a été supprimé."\n',
        "",
    )
    with pytest.raises(
        ValueError,
        match=r"prompts/fr/messages\.yaml: no translation for commands\.forget_me_cancelled",
    ):
        load_prompts(prompts_dir)


def test_a_new_english_message_needs_its_french(prompts_dir: Path) -> None:
    with (prompts_dir / "messages.yaml").open("a", encoding="utf-8") as handle:
        handle.write('\nbrand_new:\n  hello: "Hello {name}"\n')
    with pytest.raises(ValueError, match=r"no translation for brand_new\.hello"):
        load_prompts(prompts_dir)


def test_an_empty_translation_is_refused(prompts_dir: Path) -> None:
    path = prompts_dir / "fr" / "nudges.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text(
        "".join(
            '  root_cause.five_whys: ""\n' if "root_cause.five_whys" in line else line
            for line in lines
        ),
        encoding="utf-8",
    )
    with pytest.raises(
        ValueError,
        match=r"prompts/fr/nudges\.yaml: nudges\.root_cause\.five_whys must be a non-empty text",
    ):
        load_prompts(prompts_dir)


def test_a_missing_file_is_refused(prompts_dir: Path) -> None:
    (prompts_dir / "fr" / "nudges.yaml").unlink()
    with pytest.raises(ValueError, match=r"prompts/fr/nudges\.yaml is missing"):
        load_prompts(prompts_dir)


def test_a_placeholder_mismatch_is_refused(prompts_dir: Path) -> None:
    _edit(
        prompts_dir / "fr" / "messages.yaml",
        "Votre pulse CX pour {period} : {count}",
        "Votre pulse CX pour {periode} : {count}",
    )
    with pytest.raises(
        ValueError,
        match=r"prompts/fr/messages\.yaml: pulse\.fallback has placeholders \{count, periode\}, "
        r"the English has \{count, period\}",
    ):
        load_prompts(prompts_dir)


def test_a_dropped_placeholder_is_refused(prompts_dir: Path) -> None:
    _edit(
        prompts_dir / "fr" / "messages.yaml",
        "groupes d'au moins {min_group} personnes, et jamais avec votre nom.",
        "petits groupes, et jamais avec votre nom.",
    )
    with pytest.raises(ValueError, match=r"pulse\.intro has placeholders"):
        load_prompts(prompts_dir)


def test_a_french_why_must_keep_its_articles_real_title(prompts_dir: Path) -> None:
    _edit(
        prompts_dir / "fr" / "questions.yaml",
        "« Nine reasons for failing customer experiences » : si l'entreprise ne connaît pas",
        "« Neuf raisons d'échouer » : si l'entreprise ne connaît pas",
    )
    with pytest.raises(ValueError, match=r"customer_insight: `why` must name its source"):
        load_prompts(prompts_dir)


def test_a_missing_not_applicable_label_is_refused(prompts_dir: Path) -> None:
    _edit(prompts_dir / "fr" / "questions.yaml", '  not_applicable: "Ne me concerne pas"\n', "")
    with pytest.raises(ValueError, match=r"no translation for scale\.not_applicable"):
        load_prompts(prompts_dir)


def test_the_english_length_limits_apply_to_french(prompts_dir: Path) -> None:
    _edit(prompts_dir / "fr" / "questions.yaml", 'short: "Auton"', 'short: "Autonomie"')
    with pytest.raises(
        ValueError,
        match=r"prompts/fr/questions\.yaml: dimensions\.empowerment\.short: "
        r"String should have at most 5 characters",
    ):
        load_prompts(prompts_dir)


def test_slack_limits_on_copy_apply_to_french(prompts_dir: Path) -> None:
    _edit(
        prompts_dir / "fr" / "messages.yaml",
        'title: "Commentaire confidentiel"',
        'title: "Votre commentaire entièrement anonyme"',
    )
    with pytest.raises(
        ValueError, match=r"comment_modal\.title is 37 characters; Slack allows 24 there"
    ):
        load_prompts(prompts_dir)


def test_a_broken_french_template_is_refused(prompts_dir: Path) -> None:
    _edit(prompts_dir / "fr" / "messages.yaml", "{ref}", "{ref")
    with pytest.raises(ValueError, match=r"prompts/fr/messages\.yaml: errors\.unexpected"):
        load_prompts(prompts_dir)


def test_a_prompts_dir_without_translations_is_english_only(tmp_path: Path) -> None:
    for name in ("questions.yaml", "nudges.yaml", "messages.yaml"):
        shutil.copy(DEFAULT_PROMPTS_DIR / name, tmp_path / name)
    english_only = load_prompts(tmp_path)
    assert english_only.languages == ("en",)
    assert english_only.for_locale("fr-FR") is english_only
