"""Phrase lists matched against free text, in any of the languages prompts/ holds.

Lexicons (prompts/themes.yaml, prompts/sensitive.yaml and their translations) are written in
a small pattern language, matched on text folded the same way:

- text is lower-cased, accents are removed ("é" is "e"), apostrophes and hyphens split words
  ("l'équipe" is "l equipe", "burn-out" is "burn out"); punctuation (.,;:!?) stays, as a word
  of its own, so no phrase and no negation reaches across it;
- a pattern is words separated by spaces; `word*` matches any word starting with `word`;
  `a|b*` matches either word; `(a b|c d)` matches either phrase (groups nest); `~` matches up
  to five words (never punctuation).

So "harass*" finds "harassed" and "harassment", "(fire|emergency) exit* ~ block*" finds "the
fire exit in the stockroom has been blocked", "(at me|at us)" either phrase, and "prud hommes"
finds "prud'hommes".
"""

from __future__ import annotations

import re
import unicodedata

GAP_WORDS = 5
_WORD = re.compile(r"^[a-z0-9]+\*?$")
_TOKEN = re.compile(r"[a-z0-9]+|[.,;:!?]")
# Apostrophes (straight, curly) and hyphens split words.
_SPLITTERS = str.maketrans(dict.fromkeys("'`-\u2018\u2019\u2010\u2011", " "))
_GAP = rf"(?:[a-z0-9]+ ){{0,{GAP_WORDS}}}"
PUNCTUATION = frozenset(".,;:!?")


def fold(text: str) -> str:
    """The text as patterns are matched against: folded words and punctuation, one space apart."""
    lowered = text.lower().translate(_SPLITTERS)
    stripped = "".join(
        c for c in unicodedata.normalize("NFKD", lowered) if not unicodedata.combining(c)
    )
    return " ".join(_TOKEN.findall(stripped.replace("œ", "oe").replace("æ", "ae")))


def _word(word: str, pattern: str) -> str:
    choices = []
    for choice in word.split("|"):
        if not _WORD.match(choice):
            raise ValueError(f"{pattern!r}: {choice!r} is not a word (letters, digits, a final *)")
        stem = re.escape(choice.rstrip("*"))
        choices.append(stem + "[a-z0-9]*" if choice.endswith("*") else stem)
    return choices[0] if len(choices) == 1 else "(?:" + "|".join(choices) + ")"


def compile_pattern(pattern: str) -> str:
    """A pattern as a regular expression over folded text (ValueError if malformed)."""
    return rf"(?<![a-z0-9]){_phrase(fold_pattern(pattern).strip(), pattern)}(?![a-z0-9])"


def _split(text: str, separator: str, pattern: str) -> list[str]:
    """`text` split on `separator` outside parentheses."""
    parts, depth, current = [], 0, ""
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            raise ValueError(f"{pattern!r}: a ')' closes nothing")
        if char == separator and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    if depth:
        raise ValueError(f"{pattern!r}: a '(' is never closed")
    return [*parts, current]


def _phrase(text: str, pattern: str) -> str:
    words = [w for w in _split(text, " ", pattern) if w]
    if not words or words[0] == "~" or words[-1] == "~":
        raise ValueError(f"{pattern!r}: a phrase needs a word at each end")
    out = ""
    for index, word in enumerate(words):
        if word == "~":
            out += _GAP
            continue
        if word.startswith("(") and word.endswith(")"):
            choices = _split(word[1:-1], "|", pattern)
            out += "(?:" + "|".join(_phrase(c.strip(), pattern) for c in choices) + ")"
        else:
            out += _word(word, pattern)
        if index + 1 < len(words):
            out += " "
    return out


def fold_pattern(pattern: str) -> str:
    """A pattern folded as text is, keeping its `*`, `|` and `~`."""
    lowered = pattern.lower().translate(_SPLITTERS)
    return "".join(
        c for c in unicodedata.normalize("NFKD", lowered) if not unicodedata.combining(c)
    )


class PhraseSet:
    """Some patterns, compiled into one expression."""

    def __init__(self, patterns: tuple[str, ...] | list[str]) -> None:
        self.patterns = tuple(patterns)
        compiled = [compile_pattern(p) for p in self.patterns]
        joined = "|".join(f"(?:{c})" for c in compiled) if compiled else r"(?!x)x"
        self.regex = re.compile(joined)

    def spans(self, folded: str) -> list[tuple[int, int]]:
        """Where the patterns match in folded text (leftmost, not overlapping)."""
        return [m.span() for m in self.regex.finditer(folded)]

    def distinct(self, folded: str) -> set[str]:
        """The distinct phrases the patterns matched in folded text."""
        return {m.group(0) for m in self.regex.finditer(folded)}


def words_before(folded: str, start: int, count: int) -> list[str]:
    """Up to `count` words just before `start`, none from before a punctuation mark."""
    out: list[str] = []
    for token in reversed(folded[:start].split()):
        if token in PUNCTUATION or len(out) == count:
            break
        out.append(token)
    return out
