"""Loads the lexicons behind comment themes and sensitive-comment alerts from prompts/.

English holds the structure: prompts/themes.yaml names every dimension of the question bank,
prompts/sensitive.yaml every alert category and the words that negate. Each language
directory (prompts/fr/) has the same two files with its own words for the same keys (a
lexicon is not translated word for word: each language lists the phrases people use in it).
Every pattern is compiled when it is loaded, so a malformed one stops the process at start.

A CX_PROMPTS_DIR made before these files existed falls back to the shipped ones.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.analytics.phrases import PhraseSet, compile_pattern, fold
from bot.analytics.sensitive import Category, SensitiveScreen, build_rules
from bot.analytics.themes import Cues, Language, ThemeTagger
from bot.prompts import DEFAULT_PROMPTS_DIR, _read_yaml

THEMES_FILE = "themes.yaml"
SENSITIVE_FILE = "sensitive.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Pattern = str


class DimensionCues(_Strict):
    strong: tuple[Pattern, ...] = Field(min_length=1)
    weak: tuple[Pattern, ...] = ()


class ThemesFile(_Strict):
    # Short words that tell a text is in this language ("the", "and"; "le", "et").
    stopwords: tuple[str, ...] = Field(min_length=10)
    dimensions: dict[str, DimensionCues]


class CategoryRules(_Strict):
    triggers: tuple[Pattern, ...] = Field(min_length=1)
    benign: tuple[Pattern, ...] = ()


class SensitiveFile(_Strict):
    negations: tuple[str, ...] = Field(min_length=1)
    negation_breaks: tuple[str, ...] = ()
    categories: dict[Category, CategoryRules]


def _languages(root: Path, name: str) -> list[tuple[str, Path]]:
    """(shown path, path) of the English file and each language's, English first."""
    found = [(f"prompts/{name}", root / name)]
    for directory in sorted(p for p in root.iterdir() if p.is_dir() and len(p.name) == 2):
        if (directory / "messages.yaml").is_file():  # a language directory (bot.prompts)
            path = directory / name
            if not path.is_file():
                raise ValueError(f"prompts/{directory.name}/{name} is missing")
            found.append((f"prompts/{directory.name}/{name}", path))
    return found


def _root(directory: str | Path | None, name: str) -> Path:
    root = Path(directory) if directory else DEFAULT_PROMPTS_DIR
    return root if (root / name).is_file() else DEFAULT_PROMPTS_DIR


def _validated(model: type[_Strict], data: Any, shown: str) -> Any:
    try:
        parsed = model.model_validate(data or {})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ValueError(f"{shown}: {problems}") from None
    return parsed


def _check_patterns(patterns: tuple[str, ...], shown: str) -> None:
    for pattern in patterns:
        try:
            compile_pattern(pattern)
        except ValueError as exc:
            raise ValueError(f"{shown}: {exc}") from None


@cache
def theme_tagger(directory: str | None, dimensions: tuple[str, ...]) -> ThemeTagger:
    """The tagger over every language's themes.yaml, for the bank's dimensions (in order)."""
    languages: list[Language] = []
    for shown, path in _languages(_root(directory, THEMES_FILE), THEMES_FILE):
        parsed: ThemesFile = _validated(ThemesFile, _read_yaml(path), shown)
        stray = sorted(set(parsed.dimensions) - set(dimensions))
        missing = [d for d in dimensions if d not in parsed.dimensions]
        if stray or missing:
            raise ValueError(
                f"{shown}: needs cues for every dimension of the bank and no other"
                + (f"; missing {', '.join(missing)}" if missing else "")
                + (f"; unknown {', '.join(stray)}" if stray else "")
            )
        for dimension, found in parsed.dimensions.items():
            _check_patterns(found.strong + found.weak, f"{shown}: {dimension}")
        code = "en" if shown == f"prompts/{THEMES_FILE}" else path.parent.name
        cues = {
            d: Cues(PhraseSet(c.strong), PhraseSet(c.weak)) for d, c in parsed.dimensions.items()
        }
        stopwords = frozenset(w for word in parsed.stopwords for w in fold(word).split())
        languages.append(Language(code, cues, stopwords))
    return ThemeTagger(languages, dimensions)


@cache
def sensitive_screen(directory: str | None) -> SensitiveScreen:
    """The screen over every language's sensitive.yaml."""
    languages = []
    negations: set[str] = set()
    breaks: set[str] = set()
    for shown, path in _languages(_root(directory, SENSITIVE_FILE), SENSITIVE_FILE):
        parsed: SensitiveFile = _validated(SensitiveFile, _read_yaml(path), shown)
        missing = [c.value for c in Category if c not in parsed.categories]
        if missing:
            raise ValueError(f"{shown}: no rules for {', '.join(missing)}")
        for category, rules in parsed.categories.items():
            _check_patterns(rules.triggers + rules.benign, f"{shown}: {category.value}")
        for words, into in ((parsed.negations, negations), (parsed.negation_breaks, breaks)):
            for word in words:
                folded = fold(word).split()
                if len(folded) != 1:
                    raise ValueError(f"{shown}: {word!r} must be one word")
                into.add(folded[0])
        languages.append(
            {c: (list(r.triggers), list(r.benign)) for c, r in parsed.categories.items()}
        )
    return SensitiveScreen(build_rules(languages), frozenset(negations), frozenset(breaks))
