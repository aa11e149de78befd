"""The sensitive-comment screen: reports of harm in English and French alert, near misses
(the same words for training, equipment, figures of speech, customers' cases, denials) do
not. The lexicons are the shipped ones (prompts/sensitive.yaml and prompts/fr/)."""

from __future__ import annotations

import pytest

from bot.analytics.phrases import PhraseSet, compile_pattern, fold, words_before
from bot.analytics.sensitive import Category, Rules, SensitiveScreen
from bot.lexicons import sensitive_screen


@pytest.fixture(scope="module")
def screen() -> SensitiveScreen:
    return sensitive_screen(None)


REPORTS = [
    # English
    ("My manager keeps harassing me after I said no.", Category.HARASSMENT),
    ("I'm being bullied by two colleagues and they humiliate me in meetings.", Category.HARASSMENT),
    ("They didn't stop harassing me even after HR spoke to them.", Category.HARASSMENT),
    ("I was told I'm too old for the new team.", Category.DISCRIMINATION),
    ("The supervisor makes racist remarks about my family.", Category.DISCRIMINATION),
    ("The fire exit behind the kitchen is locked every night.", Category.SAFETY),
    ("Someone will get hurt on that broken ladder.", Category.SAFETY),
    ("I have been thinking about killing myself.", Category.SELF_HARM),
    ("Honestly I don't want to live anymore.", Category.SELF_HARM),
    ("If nothing changes I'm going to sue the company.", Category.LEGAL_THREAT),
    ("I have spoken to a lawyer about my contract.", Category.LEGAL_THREAT),
    # French
    ("Mon chef me harcèle depuis des mois.", Category.HARASSMENT),
    ("On m'a refusé la promotion à cause de ma grossesse.", Category.DISCRIMINATION),
    ("La sortie de secours est bloquée par des cartons.", Category.SAFETY),
    ("Je pense à mettre fin à mes jours.", Category.SELF_HARM),
    ("Je vais saisir les prud'hommes.", Category.LEGAL_THREAT),
    ("J'ai consulté un avocat pour mon licenciement.", Category.LEGAL_THREAT),
]

NEAR_MISSES = [
    "We had good harassment training this week.",
    "The safety shoes are comfortable.",
    "This product is killing it with customers.",
    "The commute is killing me but I love the job.",
    "I'm dying to try the new tool.",
    "It would be career suicide to disagree with the director.",
    "I have never been harassed here.",
    "There is no discrimination in this team.",
    "A customer threatened to sue us over a late refund; sorted in an hour.",
    "Our legal team reviewed the new terms.",
    "I accidentally closed the ticket.",
    "It doesn't feel safe to disagree in meetings.",  # psychological safety: not a hazard
    "Sue from billing was brilliant this week.",
    "La formation sur le harcèlement était utile.",
    "Les chaussures de sécurité sont confortables.",
    "Ce rythme va me tuer, mais l'équipe est top.",
    "J'ai hâte d'en finir avec ce projet.",
    "Le traitement des plaintes clients est trop lent.",
    "Je n'ai jamais été harcelée ici.",
    "Ce serait un suicide commercial d'augmenter les prix.",
]


@pytest.mark.parametrize(("text", "category"), REPORTS)
def test_a_report_of_harm_alerts_with_its_category(
    screen: SensitiveScreen, text: str, category: Category
) -> None:
    assert category in screen.categories(text)


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_a_near_miss_does_not_alert(screen: SensitiveScreen, text: str) -> None:
    assert screen.categories(text) == ()


def test_several_categories_file_under_the_most_urgent(screen: SensitiveScreen) -> None:
    text = "I'm harassed every day and some days I want to die."
    assert screen.categories(text) == (Category.SELF_HARM, Category.HARASSMENT)
    assert screen.screen(text) == Category.SELF_HARM


def _screen(triggers: list[str], benign: list[str] = []) -> SensitiveScreen:  # noqa: B006
    empty = Rules(PhraseSet(["zzzz"]), PhraseSet([]))
    rules = dict.fromkeys(Category, empty)
    rules[Category.HARASSMENT] = Rules(PhraseSet(triggers), PhraseSet(benign))
    return SensitiveScreen(rules, frozenset({"never", "t"}), frozenset({"stop"}))


def test_a_negation_reaches_three_words_within_its_clause_and_a_break_ends_it() -> None:
    screen = _screen(["harass*"])
    assert screen.screen("I was never harassed") is None
    assert screen.screen("I wasn't harassed") is None  # "wasn t"
    assert screen.screen("never, ever, I was harassed") is not None  # a comma ends the clause
    assert screen.screen("I have never once been really harassed") is not None  # too far
    assert screen.screen("they didn't stop harassing me") is not None


def test_a_benign_phrase_cancels_only_the_trigger_it_overlaps() -> None:
    screen = _screen(["harass*"], ["harass* training"])
    assert screen.screen("the harassment training was good") is None
    assert screen.screen("the harassment training was good but he harasses me") is not None


def test_patterns_fold_case_accents_apostrophes_and_hyphens() -> None:
    assert fold("L\u2019Équipe, BURN-OUT!") == "l equipe , burn out !"
    found = PhraseSet(["(fire|emergency) exit* ~ block*", "prud hommes"])
    assert found.spans(fold("The fire exit in the stockroom has been blocked"))
    assert found.spans(fold("les prud'hommes"))
    assert not found.spans(fold("the fire exit, blocked"))  # a gap never crosses punctuation
    assert words_before("a b c , d e harass", 11, 3) == ["e", "d"]


@pytest.mark.parametrize("bad", ["(a b", "a)", "~ a", "a ~", "(a|)", "a b$"])
def test_a_malformed_pattern_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="a"):
        compile_pattern(bad)
