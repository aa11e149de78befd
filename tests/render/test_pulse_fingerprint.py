"""A pulse DM's fingerprint covers everything its rendering reads: a refresh that finds the
same fingerprint as the message's last edit may skip the edit (bot/slack/dm_refresh.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.prompts import load_prompts
from bot.render.pulse import PulseView, dm_fingerprint, pulse_message
from bot.services.round_facts import ActionLine

PROMPTS = load_prompts()
FRENCH = PROMPTS.for_locale("fr")
QUESTIONS = tuple((d.questions[0].id, d.questions[0].text) for d in PROMPTS.bank.dimensions[:5])
QIDS = [qid for qid, _ in QUESTIONS]
ACTION = ActionLine(dimension=PROMPTS.bank.dimensions[0].id, text="Weekly <b>office</b> hours")

views = st.builds(
    PulseView,
    round_id=st.sampled_from([7, 8]),
    period=st.sampled_from(["2026-W48", "2026-W49"]),
    closes_at=st.sampled_from(
        [datetime(2026, 11, 29, 10, tzinfo=UTC), datetime(2026, 11, 29, 11, tzinfo=UTC)]
    ),
    zone_name=st.sampled_from(["UTC", "Europe/Paris"]),
    questions=st.sampled_from([QUESTIONS, QUESTIONS[:4]]),
    answers=st.dictionaries(st.sampled_from(QIDS), st.integers(0, 5)),
    commented=st.frozensets(st.sampled_from(QIDS)),
    min_group_size=st.sampled_from([5, 7]),
    actions=st.sampled_from([(), (ACTION,)]),
)


def _rendered(view: PulseView, english: bool) -> object:
    message = pulse_message(view, PROMPTS if english else FRENCH)
    return message.text, [block.to_dict() for block in message.blocks]


@given(views, views, st.booleans(), st.booleans())
def test_equal_fingerprints_render_the_same_dm(
    first: PulseView, second: PulseView, first_english: bool, second_english: bool
) -> None:
    a = dm_fingerprint(first, PROMPTS if first_english else FRENCH)
    b = dm_fingerprint(second, PROMPTS if second_english else FRENCH)
    if a == b:
        assert _rendered(first, first_english) == _rendered(second, second_english)


def test_a_changed_score_keeps_the_fingerprint_and_a_new_answer_changes_it() -> None:
    base = PulseView(7, "2026-W48", datetime(2026, 11, 29, 10, tzinfo=UTC), "UTC", QUESTIONS)
    one = PulseView(**{**_fields(base), "answers": {QIDS[0]: 1}})
    changed_mind = PulseView(**{**_fields(base), "answers": {QIDS[0]: 5}})
    two = PulseView(**{**_fields(base), "answers": {QIDS[0]: 5, QIDS[1]: 2}})
    later = PulseView(**{**_fields(one), "closes_at": base.closes_at + timedelta(hours=1)})
    assert dm_fingerprint(one, PROMPTS) == dm_fingerprint(changed_mind, PROMPTS)
    assert dm_fingerprint(one, PROMPTS) != dm_fingerprint(two, PROMPTS)
    assert dm_fingerprint(one, PROMPTS) != dm_fingerprint(later, PROMPTS)
    assert dm_fingerprint(one, PROMPTS) != dm_fingerprint(one, FRENCH)


def _fields(view: PulseView) -> dict[str, object]:
    return {name: getattr(view, name) for name in PulseView.__dataclass_fields__}
