"""CX kudos over real HTTP (issue 14): `/cx kudos` and the message shortcut post the story to
the kudos channel and DM the person; people can opt out of being named; the digest counts
kudos per team and quotes one story; forget-me takes IDs off kudos and their posts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from bot.clock import ManualClock
from bot.db.engine import session_scope
from bot.db.kudos import Kudos, KudosQuote
from bot.db.models import ActionItem, RoundKind
from bot.render.digest import digest_message
from bot.render.ids import ActionId, BlockId, ShortcutId
from bot.render.json_report import report_json
from bot.runtime import build_deps
from bot.sandbox.emulator import BOT_USER_ID, SlackEmulator
from bot.sandbox.harness import ServedBot
from bot.sandbox.people import click_score, latest_dm, question_ids, wait_for
from bot.services.context import Deps
from bot.services.digest import build_digest
from bot.services.directory import refresh_directory
from bot.services.privacy import forget_member
from bot.services.rounds import send_round
from tests.e2e.conftest import (
    ADMIN,
    LEADERS_CHANNEL,
    Org,
    answers,
    ephemeral_texts,
    make_settings,
)

KUDOS = "C0KUDOS"
GENERAL = "C0GENERAL"


@pytest.fixture
def kudos_deps(
    database_url: str, emulator: SlackEmulator, org: Org, clock: ManualClock
) -> Iterator[Deps]:
    emulator.add_channel(KUDOS, "kudos", [*org.participants, BOT_USER_ID])
    emulator.add_channel(GENERAL, "general", [*org.participants, BOT_USER_ID])
    settings = make_settings(emulator, database_url, CX_KUDOS_CHANNEL=KUDOS)
    built = build_deps(settings, clock=clock)
    yield built
    built.engine.dispose()


@pytest.fixture
def served(kudos_deps: Deps, emulator: SlackEmulator) -> Iterator[ServedBot]:
    with ServedBot(kudos_deps) as bot:
        emulator.set_app_url(bot.events_url)
        _read_directory(kudos_deps, bot)
        yield bot


def _read_directory(deps: Deps, bot: ServedBot) -> None:
    with session_scope(deps.engine) as session:
        refresh_directory(
            session=session,
            gateway=bot.gateway,
            leadership_channel=LEADERS_CHANNEL,
            now=deps.clock.now(),
            forgotten=lambda _user: False,
        )


def _reply(emulator: SlackEmulator, user: str, text: str, **options: Any) -> str:
    before = len(emulator.responses())
    assert emulator.send_slash_command(user, text, **options).status == 200
    return str(wait_for(lambda: ephemeral_texts(emulator)[before:])[0])


def _posts(emulator: SlackEmulator) -> list[dict[str, Any]]:
    return emulator.messages(KUDOS)


def _text(message: dict[str, Any]) -> str:
    parts = [str(message.get("text") or "")]
    for block in message.get("blocks") or []:
        text = block.get("text")
        if isinstance(text, dict):
            parts.append(str(text.get("text", "")))
        for element in block.get("elements") or []:
            if isinstance(element, dict) and isinstance(element.get("text"), str):
                parts.append(element["text"])
    return "\n".join(parts)


def _rows(deps: Deps) -> list[Kudos]:
    with Session(deps.engine) as session:
        return list(session.exec(select(Kudos).order_by(Kudos.id)).all())  # type: ignore[arg-type]


def test_kudos_by_mention_posts_the_story_and_dms_the_person(
    served: ServedBot, emulator: SlackEmulator, org: Org, kudos_deps: Deps
) -> None:
    giver, person = org.teams["alpha"][1], org.teams["alpha"][2]
    typed = f"kudos @{person.lower()} stayed late & fixed the refund <!channel> <b>for real</b>"
    reply = _reply(emulator, giver, typed)
    assert f"Your kudos for <@{person}> is posted in <#{KUDOS}>" in reply
    assert "They got a DM with your words." in reply
    (post,) = _posts(emulator)
    shown = _text(post)
    assert f"*Kudos* to <@{person}> from <@{giver}>, for what they did for a customer" in shown
    # What was typed comes back as text: escaped once, quoted, nobody notified.
    assert ">stayed late &amp; fixed the refund &lt;!channel&gt; &lt;b&gt;for real&lt;/b&gt;" in (
        shown
    )
    assert "<!channel>" not in json.dumps(post)
    dm = latest_dm(emulator, person)
    assert f"<@{giver}> thanked you for what you did for a customer" in _text(dm)
    assert f"It is posted in <#{KUDOS}> for everyone to see." in _text(dm)
    (row,) = _rows(kudos_deps)
    assert (row.giver, row.recipient, row.recipient_team) == (giver, person, "alpha")
    assert row.story == "stayed late & fixed the refund <!channel> <b>for real</b>"
    assert (row.channel, row.ts) == (KUDOS, post["ts"])
    assert row.period == "2026-W48"


def test_mentions_without_a_name_and_other_subcommands_read_escaped_text(
    served: ServedBot, emulator: SlackEmulator, org: Org, kudos_deps: Deps
) -> None:
    # Slack may send a mention as <@U…> alone: the ID is all kudos needs, and a mention inside
    # the story is named from Slack (users.info).
    giver, person, other = org.teams["beta"][1], org.teams["beta"][2], org.teams["beta"][3]
    reply = _reply(
        emulator,
        giver,
        f"kudos @{person.lower()} backed up @{other.lower()} on a customer call",
        mention_labels=False,
    )
    assert "is posted in" in reply
    assert _rows(kudos_deps)[0].story == f"backed up @{other.lower()} on a customer call"
    # The escaped text every sub-command now gets reads as typed: a dimension, an action.
    unknown = _reply(emulator, giver, "score fish&chips")
    assert "the dimension `fish&amp;chips`" in unknown
    done = _reply(emulator, ADMIN, f"act empowerment Refunds & returns, ask @{other.lower()}")
    assert "Recorded for *Empowerment*" in done
    with Session(kudos_deps.engine) as session:
        (action,) = session.exec(select(ActionItem)).all()
    assert action.text == f"Refunds & returns, ask @{other.lower()}"


def test_a_plain_name_is_looked_up_in_the_directory(
    served: ServedBot, emulator: SlackEmulator, org: Org, kudos_deps: Deps
) -> None:
    emulator.add_user("UANAMARTIN", "amartin", real_name="Ana Martin")
    emulator.add_user("USAMLEE1", "slee", real_name="Sam Lee")
    emulator.add_user("USAMLEE2", "samuel.lee", real_name="Sam Lee")
    _read_directory(kudos_deps, served)
    giver = org.teams["alpha"][1]
    # "@Ana" is no handle, so Slack leaves the text as typed; the name has two words.
    reply = _reply(emulator, giver, "kudos @Ana Martin: called the customer back within the hour")
    assert "Your kudos for <@UANAMARTIN>" in reply
    assert _rows(kudos_deps)[-1].story == "called the customer back within the hour"
    ambiguous = _reply(emulator, giver, "kudos @sam lee fixed it")
    assert "More than one person goes by `@sam lee`: <@USAMLEE1>, <@USAMLEE2>" in ambiguous
    unknown = _reply(emulator, giver, "kudos @nob<ody> fixed it")
    assert "I don't know anyone called `@nob&lt;ody&gt;`" in unknown
    assert len(_rows(kudos_deps)) == 1


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("kudos", "Tell me who to thank"),
        ("kudos @{self} helped", "Kudos are for thanking someone else"),
        ("kudos @helper did it", "is a bot or an app: kudos are for people"),
        ("kudos @gone did it", "I don't know anyone called `@gone`"),
        ("kudos <@UGONE> did it", "I can't send kudos to <@UGONE>"),
        ("kudos @{other}", "Tell me what they did for a customer"),
        ("kudos @{other} " + "x" * 3001, "under 3,000 characters (this one has 3,001)"),
        ("kudos #general well done", "Kudos go to one person"),
        ("kudos @here well done", "Kudos go to one person"),
    ],
)
def test_malformed_kudos_get_a_specific_polite_reply_and_write_nothing(
    served: ServedBot,
    emulator: SlackEmulator,
    org: Org,
    kudos_deps: Deps,
    typed: str,
    expected: str,
) -> None:
    giver = org.teams["alpha"][1]
    text = typed.format(self=giver.lower(), other=org.teams["alpha"][2].lower())
    # `<@UGONE>` typed as such stays text in Slack; sent raw it is the mention Slack would send.
    raw = "<@UGONE>" in text
    reply = _reply(emulator, giver, text, escape=not raw)
    assert expected in reply
    assert _rows(kudos_deps) == []
    assert _posts(emulator) == []


def test_once_a_day_per_person_and_a_daily_cap(
    served: ServedBot, emulator: SlackEmulator, org: Org, kudos_deps: Deps, clock: ManualClock
) -> None:
    giver, person = org.teams["alpha"][1], org.teams["alpha"][2]
    assert "is posted in" in _reply(emulator, giver, f"kudos @{person.lower()} great call")
    again = _reply(emulator, giver, f"kudos @{person.lower()} another great call")
    assert f"You've already thanked <@{person}> today" in again
    others = [u for u in org.participants if u not in {giver, person}][:9]
    for other in others:
        assert "is posted in" in _reply(emulator, giver, f"kudos @{other.lower()} thanks")
    capped = _reply(emulator, giver, f"kudos @{org.teams['gamma'][2].lower()} thanks")
    assert "You've given 10 kudos today" in capped
    assert len(_rows(kudos_deps)) == 10
    clock.advance(timedelta(days=1))
    assert "is posted in" in _reply(emulator, giver, f"kudos @{person.lower()} still great")


def test_without_a_channel_the_giver_is_told_who_can_set_one(
    database_url: str, emulator: SlackEmulator, org: Org, clock: ManualClock
) -> None:
    deps = build_deps(make_settings(emulator, database_url), clock=clock)
    with ServedBot(deps) as bot:
        emulator.set_app_url(bot.events_url)
        _read_directory(deps, bot)
        person = org.teams["alpha"][2].lower()
        reply = _reply(emulator, org.teams["alpha"][1], f"kudos @{person} helped")
        assert "no kudos channel is set. Ask a cx-pulse admin (<@UADMIN>)" in reply
        admin = _reply(emulator, ADMIN, f"kudos @{person} helped")
        assert "Choose one in the cx-pulse Home tab" in admin
        assert "CX_KUDOS_CHANNEL" in admin
        # The admins' Home tab says it too, and the settings modal sets it.
        emulator.open_home(ADMIN)
        home = wait_for(lambda: emulator.home_view(ADMIN))
        assert "Kudos channel: none, so `/cx kudos` is off" in json.dumps(home)
        sent = emulator.click_in_view(
            ADMIN,
            view_id=home["id"],
            action_id=ActionId.HOME_OPEN_SETTINGS,
            block_id=BlockId.HOME_ADMIN_ACTIONS,
            value="open",
        )
        assert sent.trigger_id is not None
        modal = wait_for(lambda: emulator.view_for_trigger(str(sent.trigger_id)))
        values = {
            b["block_id"]: {b["element"]["action_id"]: _initial(b["element"])}
            for b in modal["blocks"]
            if b["type"] == "input"
        }
        values[BlockId.SETTINGS_KUDOS_CHANNEL] = {
            ActionId.SETTINGS_KUDOS_CHANNEL: {
                "type": "conversations_select",
                "selected_conversation": KUDOS,
            }
        }
        emulator.add_channel(KUDOS, "kudos", [BOT_USER_ID])
        answer = emulator.submit_view(ADMIN, view_id=modal["id"], values=values)
        assert answer.status == 200
        assert answer.json_body is None, answer.body
        wait_for(lambda: deps.settings.kudos_channel == KUDOS)
        assert "is posted in <#C0KUDOS>" in _reply(
            emulator, org.teams["alpha"][1], f"kudos @{person} helped"
        )
    deps.engine.dispose()


def _initial(element: dict[str, Any]) -> dict[str, Any]:
    """What an untouched input sends back: its initial value, as Slack does."""
    kind = element["type"]
    if kind == "conversations_select":
        return {"type": kind, "selected_conversation": element.get("initial_conversation")}
    if kind in {"static_select", "radio_buttons"}:
        return {"type": kind, "selected_option": element.get("initial_option")}
    if kind == "timepicker":
        return {"type": kind, "selected_time": element.get("initial_time")}
    if kind == "checkboxes":
        return {"type": kind, "selected_options": element.get("initial_options") or []}
    if kind == "multi_users_select":
        return {"type": kind, "selected_users": element.get("initial_users") or []}
    if kind == "number_input":
        return {"type": kind, "value": str(element.get("initial_value"))}
    return {"type": kind, "value": element.get("initial_value")}


def test_a_channel_the_bot_cannot_post_in_leaves_nothing_behind(
    database_url: str, emulator: SlackEmulator, org: Org, clock: ManualClock
) -> None:
    settings = make_settings(emulator, database_url, CX_KUDOS_CHANNEL="C0NOWHERE")
    deps = build_deps(settings, clock=clock)
    with ServedBot(deps) as bot:
        emulator.set_app_url(bot.events_url)
        _read_directory(deps, bot)
        person = org.teams["alpha"][2]
        reply = _reply(emulator, org.teams["alpha"][1], f"kudos @{person.lower()} helped")
        assert "I couldn't post in <#C0NOWHERE>: please ask an admin to invite @cx-pulse" in reply
        assert _rows(deps) == []
        assert emulator.messages(emulator.dm_channel(person)) == []
    deps.engine.dispose()


def test_opting_out_names_a_colleague_on_the_team_or_just_a_colleague(
    served: ServedBot, emulator: SlackEmulator, org: Org, kudos_deps: Deps
) -> None:
    alpha, gamma = org.teams["alpha"], org.teams["gamma"]
    giver = org.teams["beta"][1]
    assert "is posted in" in _reply(emulator, giver, f"kudos @{alpha[2].lower()} before")
    done = _reply(emulator, alpha[2], "kudos optout")
    assert "won't name you any more" in done
    assert "1 earlier post(s) no longer name you" in done
    # The earlier post no longer names them: alpha has 6 people, enough not to point at one.
    first = _text(_posts(emulator)[0])
    assert f"<@{alpha[2]}>" not in first
    assert "Kudos* to a colleague on *alpha* from" in first
    reply = _reply(emulator, org.teams["beta"][2], f"kudos @{alpha[2].lower()} after")
    assert "They asked not to be named in kudos, so the post says “a colleague on *alpha*”" in (
        reply
    )
    post = _text(_posts(emulator)[-1])
    assert f"<@{alpha[2]}>" not in post
    assert "a colleague on *alpha*" in post
    # They still get the DM, which says the post leaves their name out.
    dm = _text(latest_dm(emulator, alpha[2]))
    assert "without your name, as you asked" in dm
    # gamma has 3 people, fewer than the smallest group shown (5): just "a colleague".
    _reply(emulator, gamma[0], "kudos optout")
    _reply(emulator, giver, f"kudos @{gamma[0].lower()} helped")
    post = _text(_posts(emulator)[-1])
    assert "Kudos* to a colleague from" in post
    assert "gamma" not in post
    # An opted-out giver is not named either.
    _reply(emulator, alpha[2], f"kudos @{alpha[3].lower()} thanks")
    post = _text(_posts(emulator)[-1])
    assert f"to <@{alpha[3]}> from a colleague on *alpha*" in post
    assert "new kudos posts and the digest name you again" in _reply(
        emulator, alpha[2], "kudos optin"
    )
    _reply(emulator, org.teams["beta"][3], f"kudos @{alpha[2].lower()} named again")
    assert f"to <@{alpha[2]}> from" in _text(_posts(emulator)[-1])


def test_the_message_shortcut_thanks_the_author_in_their_words(
    served: ServedBot, emulator: SlackEmulator, org: Org, kudos_deps: Deps
) -> None:
    author, giver = org.teams["alpha"][2], org.teams["alpha"][1]
    ts = emulator.post_as_user(
        author, GENERAL, f"Called the customer back & sorted it with @{giver.lower()} <b>"
    )
    sent = emulator.send_message_shortcut(
        giver, channel_id=GENERAL, message_ts=ts, callback_id=ShortcutId.KUDOS
    )
    assert sent.status == 200
    modal = wait_for(lambda: emulator.view_for_trigger(str(sent.trigger_id)))
    picker = modal["blocks"][1]["element"]
    story = modal["blocks"][2]["element"]
    assert picker["initial_user"] == author
    assert (
        story["initial_value"] == f"Called the customer back & sorted it with @{giver.lower()} <b>"
    )

    def values(recipient: str, text: str) -> dict[str, dict[str, dict[str, Any]]]:
        return {
            BlockId.KUDOS_RECIPIENT: {
                ActionId.KUDOS_RECIPIENT: {"type": "users_select", "selected_user": recipient}
            },
            BlockId.KUDOS_STORY: {
                ActionId.KUDOS_STORY: {"type": "plain_text_input", "value": text}
            },
        }

    refused = emulator.submit_view(giver, view_id=modal["id"], values=values(giver, "me"))
    assert refused.json_body is not None
    assert refused.json_body["response_action"] == "errors"
    assert "someone else" in refused.json_body["errors"][BlockId.KUDOS_RECIPIENT]
    bot_pick = emulator.submit_view(giver, view_id=modal["id"], values=values("UBOTHELPER", "x"))
    assert bot_pick.json_body is not None
    assert bot_pick.json_body["errors"][BlockId.KUDOS_RECIPIENT].startswith("That's a bot")
    empty = emulator.submit_view(giver, view_id=modal["id"], values=values(author, "  "))
    assert empty.json_body is not None
    assert "what they did" in empty.json_body["errors"][BlockId.KUDOS_STORY]
    assert _rows(kudos_deps) == []

    done = emulator.submit_view(
        giver, view_id=modal["id"], values=values(author, story["initial_value"])
    )
    assert done.json_body is not None
    assert done.json_body["response_action"] == "update"
    assert f"Your kudos for <@{author}> is posted in <#{KUDOS}>" in json.dumps(done.json_body)
    (post,) = _posts(emulator)
    assert "&amp; sorted it" in _text(post)
    assert "&lt;b&gt;" in _text(post)
    wait_for(lambda: emulator.messages(emulator.dm_channel(author)))
    (row,) = _rows(kudos_deps)
    assert (row.source, row.recipient) == ("shortcut", author)
    # On one's own message, or a bot's, nobody is filled in.
    own = emulator.post_as_user(giver, GENERAL, "my own message")
    sent = emulator.send_message_shortcut(
        giver, channel_id=GENERAL, message_ts=own, callback_id=ShortcutId.KUDOS
    )
    mine = wait_for(lambda: emulator.view_for_trigger(str(sent.trigger_id)))
    assert "initial_user" not in mine["blocks"][1]["element"]


def test_the_shortcut_without_a_kudos_channel_says_so_privately(
    database_url: str, emulator: SlackEmulator, org: Org, clock: ManualClock
) -> None:
    deps = build_deps(make_settings(emulator, database_url), clock=clock)
    emulator.add_channel(GENERAL, "general", [*org.participants, BOT_USER_ID])
    with ServedBot(deps) as bot:
        emulator.set_app_url(bot.events_url)
        _read_directory(deps, bot)
        ts = emulator.post_as_user(org.teams["alpha"][2], GENERAL, "fixed it")
        sent = emulator.send_message_shortcut(
            org.teams["alpha"][1], channel_id=GENERAL, message_ts=ts, callback_id=ShortcutId.KUDOS
        )
        assert sent.status == 200
        text = wait_for(lambda: ephemeral_texts(emulator))[0]
        assert "no kudos channel is set" in text
        assert emulator.views() == {}
    deps.engine.dispose()


def test_the_digest_counts_kudos_per_team_and_quotes_one_story(
    served: ServedBot, emulator: SlackEmulator, org: Org, kudos_deps: Deps, clock: ManualClock
) -> None:
    deps, alpha, beta, gamma = kudos_deps, org.teams["alpha"], org.teams["beta"], org.teams["gamma"]
    send_round(deps, served.gateway, kind=RoundKind.ADHOC)
    before = len(answers(deps))
    for user in org.participants[:12]:
        click_score(emulator, user, question_ids(latest_dm(emulator, user))[0], 4)
    wait_for(lambda: len(answers(deps)) == before + 12)
    _reply(emulator, alpha[3], "kudos optout")
    for giver, person, story in [
        (beta[1], alpha[3], "Refunded a customer <!here> & called them"),
        (beta[2], alpha[3], "Stayed late for a customer"),
        (alpha[1], beta[3], "Wrote the fix a customer asked for"),
        (alpha[2], gamma[1], "Small team, big help"),
    ]:
        assert "is posted in" in _reply(emulator, giver, f"kudos @{person.lower()} {story}")
    clock.advance(timedelta(days=7))  # the week closes and is published; W48 is over
    report = build_digest(deps)
    assert report.period == "2026-W48"
    assert report.kudos is not None
    message = digest_message(report, deps.prompts, zone_name="Europe/London")
    rendered = "\n".join(_text({"blocks": [b.to_dict()]}) for b in message.blocks)
    # gamma (3 people) is too small to count on its own: "other teams".
    assert "*Kudos this week*: 4 (alpha 2, beta 1, other teams 1)" in rendered
    assert "<!here>" not in rendered
    quote = report.kudos.quote
    assert quote is not None
    with Session(deps.engine) as session:
        fixed = session.get(KudosQuote, "2026-W48")
    assert fixed is not None
    # Fixed at the first build once the week is over: the same story every time after.
    assert build_digest(deps).kudos == report.kudos
    # A story whose recipient may be named is preferred over alpha[3]'s (who opted out).
    assert quote.recipient.user_id in {beta[3], gamma[1]}
    assert f"<@{quote.recipient.user_id}>, thanked for what they did" in rendered
    kudos_json = report_json(report)["kudos"]
    assert kudos_json["total"] == 4
    assert kudos_json["teams"] == [{"team": "alpha", "count": 2}, {"team": "beta", "count": 1}]
    assert kudos_json["other_teams"] == 1
    assert kudos_json["quote"]["named"] is True
    assert "UALPHA" not in json.dumps(kudos_json)
    assert "UGAMMA" not in json.dumps(kudos_json)
    # The leaders' preview says the same.
    preview = _reply(emulator, org.leaders[0], "digest")
    assert "*Kudos this week*: 4 (alpha 2, beta 1, other teams 1)" in preview


def test_forget_me_takes_the_person_off_their_kudos_and_posts(
    served: ServedBot, emulator: SlackEmulator, org: Org, kudos_deps: Deps
) -> None:
    alpha = org.teams["alpha"]
    _reply(emulator, alpha[1], f"kudos @{alpha[2].lower()} helped a customer")
    _reply(emulator, alpha[2], f"kudos @{alpha[3].lower()} helped too")
    report = forget_member(kudos_deps, served.gateway, slack_user_id=alpha[2])
    assert report.messages_edited >= 2
    rows = _rows(kudos_deps)
    assert [(r.giver, r.recipient) for r in rows] == [(alpha[1], None), (None, alpha[3])]
    assert [r.recipient_team for r in rows] == ["alpha", "alpha"]  # the counts stay
    texts = [_text(p) for p in _posts(emulator)]
    assert all(f"<@{alpha[2]}>" not in t for t in texts)
    assert "Kudos* to a colleague from" in texts[0]
    assert f"to <@{alpha[3]}> from a colleague," in texts[1]
    # They are out of the directory now: kudos to them are refused, without saying why.
    gone = _reply(emulator, alpha[1], f"kudos <@{alpha[2]}> again", escape=False)
    assert f"I can't send kudos to <@{alpha[2]}>" in gone
