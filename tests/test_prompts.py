"""The question bank, nudges and copy are data; check them as strictly as code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.prompts import DEFAULT_PROMPTS_DIR, load_prompts

PROMPTS = load_prompts()
SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
SEED_FILES = {
    "000_6b2b1c1fb7e9cc1f.txt",
    "001_8670fb77f8a5851b.txt",
    "002_09d8498acc31176e.txt",
    "003_37e38af4413877bc.txt",
    "004_28a742b1960dac21.txt",
}


def test_bank_is_big_and_broad_enough() -> None:
    bank = PROMPTS.bank
    statements = [q for d in bank.dimensions for q in d.questions]
    assert len(statements) >= 24
    assert len(bank.dimensions) >= 10
    assert bank.outcome_dimension == "customer_outcome"
    assert bank.outcome_questions == (
        "customer_outcome.customer_first_decisions",
        "customer_outcome.needs_met",
    )
    assert {
        "empowerment",
        "employees_first",
        "leadership",
        "resources",
        "training",
        "customer_insight",
        "purpose",
        "collaboration",
        "communication",
        "recognition",
        "long_term",
        "root_cause",
    } <= {d.id for d in bank.rotating_dimensions}


def test_every_statement_and_nudge_cites_a_seed_article() -> None:
    sources = {q.source for d in PROMPTS.bank.dimensions for q in d.questions}
    sources |= {n.source for nudges in PROMPTS.nudges.nudges.values() for n in nudges}
    assert sources <= SEED_FILES
    if SEEDS.is_dir():  # beside the checkout in development and CI
        assert {p.name for p in SEEDS.iterdir()} >= SEED_FILES


def test_every_dimension_has_nudges() -> None:
    for dimension in PROMPTS.bank.dimensions:
        assert len(PROMPTS.nudges.for_dimension(dimension.id)) >= 1


def test_every_copy_key_the_code_uses_exists() -> None:
    code = "\n".join(p.read_text() for p in (Path(__file__).parents[1] / "bot").rglob("*.py"))
    used = set(re.findall(r"""copy\.t\(\s*["']([a-z_.]+)["']""", code))
    used |= set(re.findall(r'copy_key = "([a-z_.]+)"', code))
    used |= set(re.findall(r'CommentProblem\("([a-z_.]+)"\)', code))
    assert used, "the scan found no copy keys at all"
    missing = used - PROMPTS.copy.keys()
    assert not missing


def test_a_broken_bank_is_refused_with_a_reason(tmp_path: Path) -> None:
    for name in ("nudges.yaml", "messages.yaml"):
        (tmp_path / name).write_text((DEFAULT_PROMPTS_DIR / name).read_text())
    text = (DEFAULT_PROMPTS_DIR / "questions.yaml").read_text()
    (tmp_path / "questions.yaml").write_text(text.replace("score: 5", "score: 6", 1))
    with pytest.raises(ValueError, match="less than or equal to 5"):
        load_prompts(tmp_path)
