"""Does a comment report harassment, discrimination, a safety risk, self-harm or a legal
threat? A classical, offline screen over the lexicons in prompts/sensitive.yaml (and each
translation's), every language's matched against every comment.

Each category lists triggers ("harass*", "fire exit* ~ block*", "porter plainte") and benign
phrases: near misses that use the same words for something else ("harassment training",
"career suicide", "a customer threatened to sue"). A trigger counts unless a benign phrase of
its category overlaps it, or a negation stands among the few words just before it in the same
clause ("I have never been harassed", "aucune discrimination") with no break in between
("they didn't stop harassing me" still counts). One
trigger that counts is enough: a missed report costs more than a comment an admin reads
instead of leaders.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.analytics.phrases import PhraseSet, fold, words_before

NEGATION_WINDOW = 3  # words before a trigger


class Category(StrEnum):
    # In the order a comment with several is filed under: the most urgent first.
    SELF_HARM = "self_harm"
    SAFETY = "safety"
    HARASSMENT = "harassment"
    DISCRIMINATION = "discrimination"
    LEGAL_THREAT = "legal_threat"


@dataclass(frozen=True)
class Rules:
    """One category's triggers and near misses, every language's together."""

    triggers: PhraseSet
    benign: PhraseSet


class SensitiveScreen:
    def __init__(
        self,
        rules: Mapping[Category, Rules],
        negations: frozenset[str],
        breaks: frozenset[str] = frozenset(),
    ) -> None:
        missing = [c for c in Category if c not in rules]
        if missing:
            raise ValueError(f"no rules for {', '.join(missing)}")
        self._rules = dict(rules)
        self._negations = negations
        self._breaks = breaks

    def categories(self, text: str) -> tuple[Category, ...]:
        """Every category the text reports, the most urgent first; () for none."""
        folded = fold(text)
        return tuple(c for c in Category if self._reports(folded, self._rules[c]))

    def screen(self, text: str) -> Category | None:
        """The category an alert about this text is filed under, or None: nothing to pass on."""
        found = self.categories(text)
        return found[0] if found else None

    def _reports(self, folded: str, rules: Rules) -> bool:
        benign = rules.benign.spans(folded)
        for start, end in rules.triggers.spans(folded):
            if any(b_start < end and start < b_end for b_start, b_end in benign):
                continue
            if self._negated(words_before(folded, start, NEGATION_WINDOW)):
                continue
            return True
        return False

    def _negated(self, before: list[str]) -> bool:
        """Whether a negation reaches the trigger: the nearest words first, and a break
        ("they didn't *stop* harassing me") ends its reach."""
        for word in before:
            if word in self._breaks:
                return False
            if word in self._negations:
                return True
        return False


def build_rules(
    languages: Sequence[Mapping[Category, tuple[list[str], list[str]]]],
) -> dict[Category, Rules]:
    """Every language's (triggers, benign) per category, merged into one set each."""
    return {
        c: Rules(
            triggers=PhraseSet([p for language in languages for p in language[c][0]]),
            benign=PhraseSet([p for language in languages for p in language[c][1]]),
        )
        for c in Category
    }
