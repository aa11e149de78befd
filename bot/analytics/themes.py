"""Which dimensions a comment speaks to, from its text alone, and a week's themes.

A classical, offline method (no model, nothing downloaded): each dimension of the question
bank has a lexicon per language (prompts/themes.yaml, prompts/fr/themes.yaml) of strong cues
(a phrase that on its own says what the comment is about: "sign-off", "lip service",
"silos") and weak ones (a word that needs another: "rule", "director", "target"). A comment's
score for a dimension is one point per distinct strong cue plus half a point per distinct weak
one; it is tagged with each dimension scoring at least one point, strongest first, at most
MAX_TAGS. A comment is read in the language it is written in, whatever its author's Slack
locale (people write in the language they think in).

Themes are derived from the words people wrote, which leaders read anyway, and never from the
statement a comment was left on: that attachment is disclosed only under the comment rule's
all-or-none condition (bot.services.publication).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.analytics.phrases import PhraseSet, fold

STRONG = 1.0
WEAK = 0.5
THRESHOLD = 1.0
MAX_TAGS = 3
# A text is taken to be in a language when at least this many of its words are that
# language's short words, and this many times as many as any other language's.
LANGUAGE_MIN_WORDS = 2
LANGUAGE_LEAD = 2
# "Most comments this week are about X (7 of 23)" only for a clear plurality: at least this
# many comments, this share of all shown, and this many more than the next theme.
MAIN_MIN_COMMENTS = 3
MAIN_MIN_SHARE = 0.25
MAIN_LEAD = 2
# The digest and the JSON name a week's few themes: those with at least this many comments.
THEME_MIN_COMMENTS = 2
MAX_THEMES = 3


@dataclass(frozen=True)
class Cues:
    """One dimension's cues in one language (or in all of them together)."""

    strong: PhraseSet
    weak: PhraseSet


@dataclass(frozen=True)
class Language:
    """One language's lexicon: its cues per dimension, and the short words that tell a text
    is in it."""

    code: str
    cues: Mapping[str, Cues]
    stopwords: frozenset[str]


class ThemeTagger:
    """Tags comments with the dimensions they speak to (see the module's docstring).

    A comment is read with the lexicon of the language it is written in, told by its short
    words ("the", "and"; "le", "et"): "direction" is the management in French, a heading in
    English. A comment whose language is unclear (too short, or mixed) is read with every
    language's cues together."""

    def __init__(self, languages: Sequence[Language], order: Sequence[str]) -> None:
        unknown = sorted({d for lang in languages for d in lang.cues} - set(order))
        if unknown:
            raise ValueError(f"cues for dimensions the bank lacks: {', '.join(unknown)}")
        self.order = tuple(d for d in order if any(d in lang.cues for lang in languages))
        self._languages = {lang.code: lang for lang in languages}
        self._every = {
            d: Cues(
                PhraseSet(
                    [
                        p
                        for lang in languages
                        if d in lang.cues
                        for p in lang.cues[d].strong.patterns
                    ]
                ),
                PhraseSet(
                    [p for lang in languages if d in lang.cues for p in lang.cues[d].weak.patterns]
                ),
            )
            for d in self.order
        }

    def language(self, folded: str) -> str | None:
        """The language a folded text is written in, if its short words say so clearly."""
        words = folded.split()
        counts = sorted(
            (
                (sum(1 for w in words if w in lang.stopwords), code)
                for code, lang in self._languages.items()
            ),
            reverse=True,
        )
        if not counts or counts[0][0] < LANGUAGE_MIN_WORDS:
            return None
        if len(counts) > 1 and counts[0][0] < LANGUAGE_LEAD * counts[1][0]:
            return None
        return counts[0][1]

    def scores(self, text: str) -> dict[str, float]:
        """Each dimension's score for this text (dimensions with no cue in it are left out)."""
        folded = fold(text)
        code = self.language(folded)
        cues = self._every if code is None else self._languages[code].cues
        out: dict[str, float] = {}
        for dimension in self.order:
            found = cues.get(dimension)
            if found is None:
                continue
            score = STRONG * len(found.strong.distinct(folded)) + WEAK * len(
                found.weak.distinct(folded)
            )
            if score:
                out[dimension] = score
        return out

    def tag(self, text: str) -> tuple[str, ...]:
        """The dimensions this text speaks to, strongest first (ties in bank order)."""
        scores = self.scores(text)
        ranked = sorted(
            (d for d, s in scores.items() if s >= THRESHOLD),
            key=lambda d: (-scores[d], self.order.index(d)),
        )
        return tuple(ranked[:MAX_TAGS])


@dataclass(frozen=True, slots=True)
class Theme:
    dimension: str
    comments: int  # comments tagged with it


@dataclass(frozen=True, slots=True)
class WeekThemes:
    """What a week's shown comments are about: every theme by how many comments it has,
    and the main one when it is a clear plurality."""

    comments: int  # comments shown (tagged or not)
    themes: tuple[Theme, ...]  # most comments first, ties in bank order
    main: Theme | None

    @property
    def few(self) -> tuple[Theme, ...]:
        """The handful worth naming: up to MAX_THEMES with THEME_MIN_COMMENTS or more."""
        return tuple(t for t in self.themes if t.comments >= THEME_MIN_COMMENTS)[:MAX_THEMES]


def week_themes(tags: Sequence[Sequence[str]], order: Sequence[str]) -> WeekThemes:
    """The themes of a week's shown comments, from each comment's stored tags."""
    counts = Counter(d for found in tags for d in dict.fromkeys(found))
    rank = {d: i for i, d in enumerate(order)}
    themes = tuple(
        Theme(d, n) for d, n in sorted(counts.items(), key=lambda x: (-x[1], rank.get(x[0], 99)))
    )
    return WeekThemes(len(tags), themes, main_theme(themes, len(tags)))


def main_theme(themes: Sequence[Theme], comments: int) -> Theme | None:
    """The theme most comments are about, if it clearly leads (see MAIN_*)."""
    if not themes or not comments:
        return None
    top = themes[0]
    second = themes[1].comments if len(themes) > 1 else 0
    clear = (
        top.comments >= MAIN_MIN_COMMENTS
        and top.comments >= MAIN_MIN_SHARE * comments
        and top.comments - second >= MAIN_LEAD
    )
    return top if clear else None


def encode_tags(tags: Sequence[str]) -> str:
    """Tags as stored on a published comment: dimension ids, strongest first, comma-separated."""
    return ",".join(tags)


def decode_tags(stored: str | None) -> tuple[str, ...]:
    return tuple(t for t in (stored or "").split(",") if t)
