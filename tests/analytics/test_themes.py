"""Theme tagging from a comment's words (the shipped lexicons), language by language, and a
week's themes with the "clear plurality" rule the digest's line follows."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.analytics.phrases import PhraseSet
from bot.analytics.themes import (
    MAX_TAGS,
    Cues,
    Language,
    Theme,
    ThemeTagger,
    decode_tags,
    encode_tags,
    main_theme,
    week_themes,
)
from bot.lexicons import theme_tagger
from bot.prompts import load_prompts

ORDER = tuple(d.id for d in load_prompts().bank.dimensions)


@pytest.fixture(scope="module")
def tagger() -> ThemeTagger:
    return theme_tagger(None, ORDER)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I need my team lead's approval for every refund.", {"empowerment"}),
        ("Nobody trained me on the new billing system.", {"training"}),
        ("Lip service from leadership again.", {"leadership"}),
        ("The CRM crashes and there's no budget to fix it.", {"resources"}),
        ("Sales and support work in silos.", {"collaboration"}),
        ("Our bonus only rewards upsell.", {"recognition"}),
        ("We patch the same problem every week instead of the root cause.", {"root_cause"}),
        ("Another initiative that will be dropped next quarter.", {"long_term"}),
        ("Je dois demander une autorisation pour le moindre geste commercial.", {"empowerment"}),
        (
            "Aucune formation sur le nouveau logiciel, on apprend sur le tas.",
            {"training", "resources"},
        ),
        ("La facturation et le support ne se parlent pas.", {"collaboration"}),
        ("Thanks for asking.", set()),
    ],
)
def test_a_comment_is_tagged_with_the_dimensions_its_words_speak_to(
    tagger: ThemeTagger, text: str, expected: set[str]
) -> None:
    assert set(tagger.tag(text)) == expected


def test_tags_are_strongest_first_and_at_most_three(tagger: ThemeTagger) -> None:
    text = (
        "Leaders cut the budget, nobody trained us, the CRM crashes, our bonus rewards upsell "
        "and we work in silos."
    )
    tags = tagger.tag(text)
    assert len(tags) == MAX_TAGS
    scores = tagger.scores(text)
    assert [scores[t] for t in tags] == sorted((scores[t] for t in tags), reverse=True)


def test_a_comment_is_read_in_its_own_language() -> None:
    """ "direction" is the management in French, a heading in English."""
    french = Language(
        "fr",
        {"leadership": Cues(PhraseSet(["direction"]), PhraseSet([]))},
        frozenset({"la", "le", "est"}),
    )
    english = Language(
        "en",
        {"purpose": Cues(PhraseSet(["direction"]), PhraseSet([]))},
        frozenset({"the", "is", "we"}),
    )
    tagger = ThemeTagger([english, french], ORDER)
    assert tagger.tag("La direction est absente, le magasin aussi.") == ("leadership",)
    assert tagger.tag("We need a direction, the team is lost.") == ("purpose",)
    # Too short to tell: every language's cues.
    assert set(tagger.tag("direction")) == {"leadership", "purpose"}


def test_weak_cues_need_company() -> None:
    tagger = ThemeTagger(
        [
            Language(
                "en",
                {"resources": Cues(PhraseSet(["budget"]), PhraseSet(["slow", "old"]))},
                frozenset(),
            )
        ],
        ORDER,
    )
    assert tagger.tag("slow") == ()
    assert tagger.tag("slow and old") == ("resources",)
    assert tagger.tag("budget") == ("resources",)


def test_a_week_names_its_main_theme_only_for_a_clear_plurality() -> None:
    tags = [("resources",)] * 7 + [("training", "resources")] * 0 + [("training",)] * 4 + [()] * 12
    found = week_themes(tags, ORDER)
    assert found.comments == 23
    assert found.main == Theme("resources", 7)
    assert [t.dimension for t in found.few] == ["resources", "training"]
    # Close behind: no main theme.
    assert main_theme([Theme("resources", 7), Theme("training", 6)], 23) is None
    # Too small a share, or too few comments.
    assert main_theme([Theme("resources", 5)], 23) is None
    assert main_theme([Theme("resources", 2)], 2) is None
    # A comment counts once per theme however its tags repeat.
    assert week_themes([("training", "training")], ORDER).themes == (Theme("training", 1),)


def test_tags_are_stored_and_read_back_in_order() -> None:
    assert decode_tags(encode_tags(("training", "resources"))) == ("training", "resources")
    assert decode_tags("") == ()
    assert decode_tags(None) == ()


def test_the_shipped_lexicons_cover_every_dimension_in_every_language() -> None:
    root = Path(__file__).resolve().parents[2] / "prompts"
    for path in (root / "themes.yaml", root / "fr" / "themes.yaml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert set(data["dimensions"]) == set(ORDER), path
