"""The core loop over real HTTP: pulse -> click -> change -> comment -> digest."""

from __future__ import annotations

import json
from datetime import timedelta

from bot.clock import ManualClock
from bot.db.models import RoundKind
from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.harness import ServedBot
from bot.sandbox.people import (
    answered_in,
    click_score,
    confirmed,
    latest_dm,
    open_comment_modal,
    pulse_now,
    question_ids,
    submit_comment,
    wait_for,
)
from bot.services.context import Deps
from bot.services.publishing import post_digest
from bot.services.rounds import send_round
from tests.e2e.conftest import (
    ADMIN,
    Org,
    answers,
    comment_texts,
    ephemeral_texts,
    last_digest,
    member,
)


def test_url_verification_echoes_the_challenge(bot: ServedBot, emulator: SlackEmulator) -> None:
    sent = emulator.url_verification("challenge-123")
    assert sent.status == 200
    assert "challenge-123" in sent.body


def test_healthz(bot: ServedBot) -> None:
    import urllib.request

    with urllib.request.urlopen(f"{bot.base_url}/healthz", timeout=5) as response:  # noqa: S310
        assert response.status == 200
        assert json.loads(response.read()) == {"ok": True}


def test_full_round(bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps) -> None:
    # An admin starts a round from Slack (it asks first; the Send button sends).
    pulse_now(emulator, ADMIN)
    wait_for(lambda: any("sent to 18 people" in t for t in ephemeral_texts(emulator)))

    # Every participant, and nobody else, got exactly one DM: 3 rotating statements, then
    # every outcome item (customer-first behaviour, customer outcomes).
    posts = emulator.calls("chat.postMessage")
    assert sorted(c.params["channel"] for c in posts) == sorted(org.participants)
    for user in org.bots + org.deleted + ["USLACKBOT"]:
        assert user not in {c.params["channel"] for c in posts}
    alice = org.teams["alpha"][1]
    dm = latest_dm(emulator, alice)
    questions = question_ids(dm)
    outcome = list(deps.prompts.bank.outcome_questions)
    assert len(questions) == 3 + len(outcome) == 5
    assert questions[-len(outcome) :] == outcome

    # A click records the answer; the DM is updated in place to say it is answered (not with
    # what), and Alice alone is shown her choice in an ephemeral confirmation.
    assert click_score(emulator, alice, questions[0], 4).status == 200
    wait_for(lambda: len(answers(deps)) == 1)
    wait_for(lambda: answered_in(latest_dm(emulator, alice)) == [questions[0]])
    assert latest_dm(emulator, alice)["ts"] == dm["ts"]
    wait_for(lambda: "*Agree*" in confirmed(emulator, alice).get(questions[0], ""))
    assert "Agree*" not in json.dumps(latest_dm(emulator, alice)["blocks"])

    # Clicking again changes the answer; it never adds a second one.
    click_score(emulator, alice, questions[0], 2)
    wait_for(lambda: answers(deps)[0].score == 2)
    assert len(answers(deps)) == 1
    wait_for(lambda: "*Disagree*" in confirmed(emulator, alice).get(questions[0], ""))
    assert answered_in(latest_dm(emulator, alice)) == [questions[0]]

    # The comment modal attaches a confidential comment to an answered statement; only the
    # confirmation says so, the DM does not change.
    before = latest_dm(emulator, alice)
    view = open_comment_modal(emulator, alice)
    assert view["callback_id"] == "comment_modal"
    result = submit_comment(emulator, alice, view, questions[0], "Refunds need two approvals.")
    assert result.status == 200
    wait_for(lambda: comment_texts(deps) == ["Refunds need two approvals."])
    wait_for(lambda: "Comment saved" in confirmed(emulator, alice).get(questions[0], ""))
    assert latest_dm(emulator, alice) == before

    # A leader asks for the digest while the round is open: nothing of it is shown yet.
    leader = org.leaders[0]
    emulator.send_slash_command(leader, "digest")
    preview = wait_for(lambda: [t for t in ephemeral_texts(emulator) if "published" in t])
    assert "No week has been published yet" in preview[0]


def test_comment_needs_an_answer_first(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps
) -> None:
    send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
    user = org.teams["beta"][2]
    questions = question_ids(latest_dm(emulator, user))
    view = open_comment_modal(emulator, user)
    result = submit_comment(emulator, user, view, questions[1], "Something")
    assert result.status == 200
    body = json.loads(result.body)
    assert body["response_action"] == "errors"
    assert "answer this statement" in json.dumps(body["errors"])
    empty = submit_comment(emulator, user, view, questions[1], "   ")
    assert "write something" in empty.body
    assert answers(deps) == []


def test_answers_after_the_round_closes_are_refused(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps, clock: ManualClock
) -> None:
    send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
    user = org.teams["alpha"][3]
    question = question_ids(latest_dm(emulator, user))[0]
    click_score(emulator, user, question, 5)
    wait_for(lambda: len(answers(deps)) == 1)

    clock.advance(timedelta(days=deps.settings.round_days, seconds=1))
    assert click_score(emulator, user, question, 1).status == 200
    refusal = wait_for(lambda: [t for t in ephemeral_texts(emulator) if "closed" in t])
    assert "Your earlier answers are safe" in refusal[0]
    assert [a.score for a in answers(deps)] == [5]


def test_a_click_is_acked_only_once_its_answer_is_stored(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps
) -> None:
    """Answer clicks take the fast path (stored and acked on the request's thread, no listener
    thread): the 200 Slack gets means the answer is in the database, with no waiting."""
    send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
    user = org.teams["alpha"][2]
    first, second = question_ids(latest_dm(emulator, user))[:2]
    for question, score in ((first, 4), (second, 0), (first, 2)):
        assert click_score(emulator, user, question, score).status == 200
        stored = {a.question_id: a.score for a in answers(deps)}
        assert stored[question] == score  # read at once, not waited for


def test_opted_out_members_receive_nothing(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps, clock: ManualClock
) -> None:
    quitter = org.teams["beta"][4]
    emulator.send_slash_command(quitter, "optout")
    wait_for(lambda: (m := member(deps, quitter)) is not None and m.opted_out)
    report = send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
    assert report.sent == len(org.participants) - 1
    assert quitter not in {c.params["channel"] for c in emulator.calls("chat.postMessage")}

    emulator.send_slash_command(quitter, "optin")
    wait_for(lambda: (m := member(deps, quitter)) is not None and not m.opted_out)
    clock.advance(timedelta(weeks=1))  # the next week's round (one round a week)
    send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
    assert quitter in {c.params["channel"] for c in emulator.calls("chat.postMessage")}


def _everyone_answers(emulator: SlackEmulator, org: Org, deps: Deps, score: int) -> None:
    expected = len(answers(deps))
    for user in org.participants:
        for question in question_ids(latest_dm(emulator, user)):
            click_score(emulator, user, question, score)
            expected += 1
    wait_for(lambda: len(answers(deps)) == expected, timeout=30)


def test_digest_escapes_comments_and_hides_small_teams(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps, clock: ManualClock
) -> None:
    send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
    _everyone_answers(emulator, org, deps, 4)
    writer = org.teams["gamma"][0]
    outcome = deps.prompts.bank.outcome_questions[-1]
    view = open_comment_modal(emulator, writer)
    submit_comment(
        emulator, writer, view, outcome, "<!channel> see <http://evil.example|our wiki> & more"
    )
    wait_for(lambda: comment_texts(deps))

    clock.advance(timedelta(days=6))
    post_digest(deps, bot.gateway)
    digest = last_digest(emulator)
    text = json.dumps(digest["blocks"])
    assert "&lt;!channel&gt; see &lt;http://evil.example|our wiki&gt; &amp; more" in text
    assert "<!channel>" not in text
    assert "<http://evil" not in text
    # Teams are in the heatmap posted beside it (its alt text says the same); gamma, below
    # the minimum, is in neither.
    heatmap = next(f for f in emulator.uploaded_files() if "heatmap" in f["name"])
    assert "alpha" in heatmap["alt_txt"]
    assert "beta" in heatmap["alt_txt"]
    assert "gamma" not in heatmap["alt_txt"]
    assert "gamma" not in text
    assert "1 team(s) had too few answers" in text
    assert "provisional" not in text
    assert "100% favourable" in text
