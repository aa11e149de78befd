"""Each person reads cx-pulse in their own Slack locale's language, over real signed HTTP;
answers in every language count together, and the leadership channel keeps one language."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
from sqlmodel import Session

from bot.clock import ManualClock
from bot.db.engine import session_scope
from bot.db.models import Question, RoundKind
from bot.prompts import Prompts
from bot.render.digest import is_digest
from bot.render.ids import BlockId
from bot.runtime import build_deps
from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.harness import ServedBot
from bot.sandbox.history import generate_history
from bot.sandbox.org import Story, build_org
from bot.sandbox.people import (
    answered_in,
    click_score,
    confirmations,
    confirmed,
    latest_dm,
    open_comment_modal,
    pulse_now,
    question_ids,
    submit_comment,
    wait_for,
)
from bot.services.context import Deps
from bot.services.digest import build_digest
from bot.services.directory import refresh_directory
from bot.services.importer import ImportRow, import_answers
from bot.services.publishing import post_digest, send_team_nudges
from bot.services.reminders import send_reminders
from bot.services.rounds import send_round
from tests.e2e.conftest import (
    ADMIN,
    LEADERS_CHANNEL,
    Org,
    answers,
    ephemeral_texts,
    last_digest,
    make_settings,
    member,
)


def _speak_french(emulator: SlackEmulator, users: list[str]) -> None:
    for user in users:
        emulator.add_user(user, user.lower(), tz="Europe/Paris", locale="fr-FR")


def _button_labels(message: dict[str, Any], question_id: str) -> list[str]:
    block_id = f"{BlockId.QUESTION_PREFIX}{question_id}"
    block = next(b for b in message["blocks"] if b.get("block_id") == block_id)
    return [element["text"]["text"] for element in block["elements"]]


def _text(message: dict[str, Any]) -> str:
    return json.dumps(message["blocks"], ensure_ascii=False)


def _french(deps: Deps) -> Prompts:
    return deps.prompts.for_locale("fr-FR")


def test_a_french_colleague_gets_french_and_both_answers_count_together(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps, clock: ManualClock
) -> None:
    english, french = deps.prompts.bank, _french(deps).bank
    _speak_french(emulator, org.teams["alpha"])  # the whole alpha team works in France
    pulse_now(emulator, ADMIN)  # the admin's reply stays English
    wait_for(lambda: any("sent to 18 people" in t for t in ephemeral_texts(emulator)))
    marie, john = org.teams["alpha"][1], org.teams["beta"][1]
    assert (m := member(deps, marie)) is not None
    assert m.locale == "fr-FR"
    users_list = emulator.calls("users.list")[-1].params
    assert str(users_list.get("include_locale")).lower() in {"1", "true"}

    # One round, the same statements for both, each in their own language.
    french_dm, english_dm = latest_dm(emulator, marie), latest_dm(emulator, john)
    questions = question_ids(french_dm)
    assert questions == question_ids(english_dm)
    first = questions[0]
    french_text, english_text = _text(french_dm), _text(english_dm)
    for qid in questions:
        assert french.questions_by_id[qid][1].text in french_text
        assert english.questions_by_id[qid][1].text not in french_text
        assert english.questions_by_id[qid][1].text in english_text
    assert _button_labels(french_dm, first) == [
        "Pas du tout d'accord",
        "Pas d'accord",
        "Neutre",
        "D'accord",
        "Tout à fait d'accord",
        "Ne me concerne pas",
    ]
    assert _button_labels(english_dm, first) == [p.label for p in english.choices]
    assert french_dm["text"].startswith("Votre pulse CX pour")
    assert "Ajouter un commentaire confidentiel" in french_text
    assert "(Europe/Paris)" in french_text
    assert "Ouvert jusqu'au dim. 29 nov. à 11:00" in french_text
    assert english_dm["text"].startswith("Your CX pulse for")
    assert "Open until Sun 29 Nov, 10:00 (Europe/London)" in english_text

    # Marie clicks; her DM is updated in place, still in French, and she alone is shown her
    # choice, in French too.
    assert click_score(emulator, marie, first, 4).status == 200
    updated = wait_for(
        lambda: (dm := latest_dm(emulator, marie)) and answered_in(dm) == [first] and dm
    )
    assert updated["ts"] == french_dm["ts"]
    assert french.questions_by_id[first][1].text in _text(updated)
    assert "Répondu. Votre choix n'est montré qu'à vous" in _text(updated)
    assert "Answered" not in _text(updated)
    assert f"Réponses : 1 sur {len(questions)}." in _text(updated)
    assert _button_labels(updated, first)[3] == "D'accord"
    line = wait_for(lambda: confirmed(emulator, marie).get(first))
    assert line.startswith("Enregistré : *D'accord* pour « Je peux")
    assert "visible que par vous" in _text(confirmations(emulator, marie)[-1])

    # John clicks the same statement; his DM and his confirmation stay English.
    click_score(emulator, john, first, 4)
    wait_for(lambda: answered_in(latest_dm(emulator, john)) == [first])
    wait_for(lambda: confirmed(emulator, john).get(first, "").startswith("Recorded: *Agree* for"))

    # The comment modal and its confirmation are French too.
    view = open_comment_modal(emulator, marie)
    assert view["title"]["text"] == "Commentaire confidentiel"
    assert view["submit"]["text"] == "Enregistrer"
    options = json.dumps(view["blocks"], ensure_ascii=False)
    assert french.questions_by_id[first][1].text[:40] in options
    refused = submit_comment(emulator, marie, view, questions[1], "Pas encore répondu")
    assert (
        "Répondez d'abord à cette affirmation"
        in json.loads(refused.body)["errors"][BlockId.COMMENT_QUESTION]
    )
    submit_comment(emulator, marie, view, first, "Deux validations pour un remboursement.")
    wait_for(lambda: "Commentaire enregistré" in confirmed(emulator, marie).get(first, ""))

    # `/cx` replies to a person follow their locale, looked up in the directory.
    emulator.send_slash_command(marie, "help")
    wait_for(lambda: any("pose chaque semaine" in t for t in ephemeral_texts(emulator)))
    emulator.send_slash_command(marie, "frobnicate")
    wait_for(
        lambda: any("Je ne connais pas `/cx frobnicate`" in t for t in ephemeral_texts(emulator))
    )
    emulator.send_slash_command(john, "score")
    wait_for(lambda: any("No week has been published yet" in t for t in ephemeral_texts(emulator)))

    # Everyone answers the first statement: French and English answers fill one dimension.
    others = [u for u in org.participants if u not in (marie, john)]
    for user in others:
        click_score(emulator, user, first, 4)
    wait_for(lambda: len(answers(deps)) == len(org.participants), timeout=30)
    dimension = english.questions_by_id[first][0].id
    clock.advance(timedelta(days=6))
    report = build_digest(deps)
    reading = report.reading(dimension)
    assert reading is not None
    assert reading.respondents == len(org.participants)
    alpha = next(t for t in report.findings.teams if t.team == "alpha")
    assert alpha.respondents == len(org.teams["alpha"])

    # The leadership channel's digest is in the organisation's language.
    post_digest(deps, bot.gateway)
    digest = last_digest(emulator)
    assert is_digest(digest)
    assert digest["text"].startswith("CX pulse 2")
    assert english.dimension(dimension).name in _text(digest)
    assert deps.prompts.copy.t("digest.heatmap_pointer", teams=3)[:40] in _text(digest)
    assert "Bilan" not in _text(digest)


def test_reminders_and_what_leaders_are_doing_reach_people_in_their_language(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps, clock: ManualClock
) -> None:
    _speak_french(emulator, org.teams["alpha"])
    send_round(deps, bot.gateway, kind=RoundKind.ADHOC)  # reads everyone's locale
    leader = org.leaders[0]  # in alpha, so French
    emulator.send_slash_command(leader, "act empowerment Les remboursements sont libres")
    wait_for(lambda: any("Enregistré pour *Autonomie*" in t for t in ephemeral_texts(emulator)))

    clock.advance(timedelta(days=7))
    send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
    marie, john = org.teams["alpha"][1], org.teams["beta"][1]
    french_text, english_text = _text(latest_dm(emulator, marie)), _text(latest_dm(emulator, john))
    assert "*Vous nous l'avez dit, voici ce que nous faisons :*" in french_text
    assert "- *Autonomie* : Les remboursements sont libres" in french_text
    assert "*You told us, here is what we are doing:*" in english_text
    assert "- *Empowerment*: Les remboursements sont libres" in english_text

    clock.advance(timedelta(days=4, hours=1))  # a day before the round closes
    assert send_reminders(deps, bot.gateway) == len(org.participants)
    french_reminder = latest_dm(emulator, marie)["text"]
    assert french_reminder.startswith(":hourglass_flowing_sand: Petit rappel")
    assert "se termine le dim. 6 déc. à 11:00 (Europe/Paris)" in french_reminder
    english_reminder = latest_dm(emulator, john)["text"]
    assert "A friendly nudge" in english_reminder
    assert "closes Sun 6 Dec, 10:00 (Europe/London)" in english_reminder


def test_cx_locale_sets_the_language_of_channel_posts(
    database_url: str, emulator: SlackEmulator, org: Org, clock: ManualClock
) -> None:
    with pytest.raises(ValueError, match="CX_LOCALE=de: prompts/ has no translation for it"):
        build_deps(make_settings(emulator, database_url, CX_LOCALE="de"), clock=clock)
    deps = build_deps(make_settings(emulator, database_url, CX_LOCALE="fr"), clock=clock)
    try:
        assert deps.prompts.language == "fr"
        with ServedBot(deps) as served:
            emulator.set_app_url(served.events_url)
            _speak_french(emulator, org.teams["alpha"][:1])
            send_round(deps, served.gateway, kind=RoundKind.ADHOC)
            # People keep their own language: en-US stays English, fr-FR is French.
            english_user, french_user = org.teams["beta"][1], org.teams["alpha"][0]
            assert latest_dm(emulator, english_user)["text"].startswith("Your CX pulse")
            assert latest_dm(emulator, french_user)["text"].startswith("Votre pulse CX")
            for user in org.participants:
                click_score(emulator, user, question_ids(latest_dm(emulator, user))[0], 4)
            wait_for(lambda: len(answers(deps)) == len(org.participants), timeout=30)
            clock.advance(timedelta(days=6))
            post_digest(deps, served.gateway)
            posted = emulator.messages(LEADERS_CHANNEL)
            digest = next(m for m in posted if is_digest(m))
            assert digest["text"].startswith("Pulse CX 2")  # the notification, in French
            assert "*Où en est chaque dimension*" in _text(digest)
            # The question bank stays mirrored in English: answers never depend on a language.
            with Session(deps.engine) as session:
                stored = session.get(Question, "empowerment.fix_without_permission")
            assert stored is not None
            assert stored.text.startswith("I can fix a customer's problem")
    finally:
        deps.engine.dispose()


def test_a_team_nudge_by_dm_is_worded_for_each_lead(
    bot: ServedBot, emulator: SlackEmulator, deps: Deps, clock: ManualClock
) -> None:
    bank = deps.prompts.bank
    rows = generate_history(
        build_org(1000, people_per_team=20),
        {d.id: [q.id for q in d.questions] for d in bank.dimensions},
        Story(),  # support's empowerment clearly slips
        seed=1000,
        weeks=12,
        last_monday=date(2026, 11, 16),
    )
    import_answers(
        deps,
        [
            ImportRow(i + 2, r.day, r.respondent, r.team, r.is_leader, r.question_id, r.score, None)
            for i, r in enumerate(rows)
        ],
    )
    emulator.add_user("USUPFR", "amelie", tz="Europe/Paris", locale="fr-FR")
    emulator.add_user("USUPEN", "sam", tz="Europe/London", locale="en-GB")
    emulator.add_user("USUPMEMBER", "kim", tz="Europe/Paris", locale="fr-FR")
    emulator.add_usergroup("S9", "support", "Support", ["USUPFR", "USUPEN", "USUPMEMBER"])
    settings = deps.settings.model_copy(update={"team_leads": {"support": ("USUPFR", "USUPEN")}})
    deps = Deps(env=settings, engine=deps.engine, clock=deps.clock, prompts=deps.prompts)
    with session_scope(deps.engine) as session:
        refresh_directory(
            session=session,
            gateway=bot.gateway,
            leadership_channel=LEADERS_CHANNEL,
            now=clock.now(),
            forgotten=lambda _user: False,
        )
    report = build_digest(deps)
    assert [n.team for n in report.team_nudges] == ["support"]
    assert send_team_nudges(deps, bot.gateway, report) == 2
    french = latest_dm(emulator, "USUPFR")["text"]
    assert french.startswith("*Votre équipe support* : Autonomie a nettement reculé")
    assert "jamais sur les réponses individuelles" in french
    nudge_id = report.team_nudges[0].nudge_id
    assert _french(deps).nudges.by_id[nudge_id].text in french
    english = latest_dm(emulator, "USUPEN")["text"]
    assert english.startswith("*Your team support*: Empowerment has clearly slipped")
    assert deps.prompts.nudges.by_id[nudge_id].text in english
    # Only the leads: the team's other members are never DMed a team nudge.
    assert emulator.messages(emulator.dm_channel("USUPMEMBER")) == []
