"""CX kudos (issue 14): thank a colleague for what they did for a customer, in public.

`/cx kudos @person <story>` and the message shortcut both end in `post_kudos`: the story goes
to the kudos channel (an admin setting, CX_KUDOS_CHANNEL by default) and the person gets a DM
(`dm_recipient`). Someone who opted out of being named (`set_kudos_naming`) is "a colleague on
<team>" in posts and the digest, or "a colleague" when their team is small enough to point at
them; they still get the DM. The digest counts the week's kudos per team and quotes one story
(`kudos_summary`). Kudos are recognition, not survey answers: nothing here reads or writes an
answer, a pseudonymous record or a round, and nothing about kudos is ever joined to them.

Limits, so kudos stay worth something: one kudos a day from a giver to the same person (a
unique key, so two clicks at once cannot both pass), and at most MAX_KUDOS_PER_DAY a day from
one giver; stories of 1 to MAX_STORY_CHARS characters.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.analytics.kudos import (
    TEAM_NAMING_FLOOR,
    KudosSummary,
    Shown,
    WeekQuote,
    pick_quote,
    shown,
    tally,
)
from bot.analytics.periods import period_key, period_monday
from bot.db import kudos as store
from bot.db import repositories as repo
from bot.db.engine import session_scope
from bot.errors import CxError
from bot.prompts import Prompts
from bot.services.context import Deps
from bot.services.directory import SLACKBOT_ID
from bot.services.language import prompts_for_locale
from bot.services.ports import DeliveryFailed, DirectoryUser, PostedMessage, SlackGateway
from bot.settings import Settings

log = logging.getLogger(__name__)

MAX_STORY_CHARS = 3000
MAX_KUDOS_PER_DAY = 10
DIGEST_TEAMS_SHOWN = 8
# Unlabelled mentions in a story (`<@U123>`) are named from Slack, at most this many a story.
MAX_NAMES_LOOKED_UP = 5
MAX_CANDIDATES_SHOWN = 5
KUDOS_DM_KEY_PREFIX = "kudos:"


class KudosSource(StrEnum):
    COMMAND = "command"
    SHORTCUT = "shortcut"


# --- what can go wrong, each with its polite words (prompts/messages.yaml, kudos.errors) ------
# `mentions` details are built here from validated user and channel IDs (bot.slack.errors puts
# them in as they are); `name` is what was typed and is escaped like any echo.


class KudosUsage(CxError):
    copy_key = "kudos.errors.usage"


class KudosNotAPerson(CxError):
    copy_key = "kudos.errors.not_a_person"


class NoKudosChannel(CxError):
    copy_key = "kudos.errors.no_channel"


class NoKudosChannelNoAdmins(CxError):
    copy_key = "kudos.errors.no_channel_no_admins"


class NoKudosChannelAdmin(CxError):
    copy_key = "kudos.errors.no_channel_admin"


class KudosToSelf(CxError):
    copy_key = "kudos.errors.self"


class KudosToBot(CxError):
    copy_key = "kudos.errors.bot"


class KudosUnreachable(CxError):
    copy_key = "kudos.errors.unreachable"


class KudosUnknownName(CxError):
    copy_key = "kudos.errors.unknown_name"


class KudosAmbiguousName(CxError):
    copy_key = "kudos.errors.ambiguous_name"


class KudosEmptyStory(CxError):
    copy_key = "kudos.errors.empty"


class KudosStoryTooLong(CxError):
    copy_key = "kudos.errors.too_long"


class KudosAlreadyToday(CxError):
    copy_key = "kudos.errors.already_today"


class KudosDailyLimit(CxError):
    copy_key = "kudos.errors.daily_limit"


class KudosChannelUnreachable(CxError):
    copy_key = "kudos.errors.channel_unreachable"


# Which errors are about the recipient (a modal shows them beside the people picker).
RECIPIENT_PROBLEMS = (
    KudosToSelf,
    KudosToBot,
    KudosUnreachable,
    KudosAlreadyToday,
)


def _mention(user_id: str) -> str:
    return f"<@{user_id}>"


# --- who is who ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Recipient:
    user_id: str
    team: str | None  # from the directory; None for someone it has not read yet
    locale: str | None


def _forgotten(deps: Deps, session: Session, user_id: str) -> bool:
    return deps.respondent(user_id) in repo.forgotten_pseudonyms(session=session)


def check_recipient(deps: Deps, gateway: SlackGateway, *, giver: str, recipient: str) -> Recipient:
    """The person to thank, if kudos may go to them: never the giver, a bot, a deactivated
    account or someone who asked cx-pulse to forget them (told apart from "unknown" by nothing,
    so a refusal never says who ran forget-me)."""
    if recipient == giver:
        raise KudosToSelf()
    with session_scope(deps.engine) as session:
        member = repo.get_member(session=session, slack_user_id=recipient)
        if member is not None and member.active:
            return Recipient(recipient, member.team, member.locale)
        forgotten = _forgotten(deps, session, recipient)
    if forgotten:
        raise KudosUnreachable(mentions=_mention(recipient))
    # Not in the directory as last read (new, a bot, gone): Slack says which.
    info = gateway.user_info(recipient)
    if info is not None and (info.is_bot or info.user_id == SLACKBOT_ID):
        raise KudosToBot(mentions=_mention(recipient))
    if info is None or info.deleted:
        raise KudosUnreachable(mentions=_mention(recipient))
    return Recipient(recipient, None, info.locale)


def _names(user: DirectoryUser) -> set[str]:
    return {
        " ".join(name.casefold().split())
        for name in (user.name, user.display_name, user.real_name)
        if name.strip()
    }


def find_by_name(
    deps: Deps, gateway: SlackGateway, candidates: Sequence[tuple[str, str]]
) -> tuple[str, str]:
    """The person meant by `@<name> <story>` typed without picking them from Slack's list.

    `candidates` are the ways the text splits into a name and the rest, longest name first
    (bot.slack.parsing.name_prefixes), each name case-folded; the first that matches anyone's
    handle, display or real name (users.list, every page) wins. Returns (user ID, the rest)."""
    with session_scope(deps.engine) as session:
        tombstones = repo.forgotten_pseudonyms(session=session)
    people = [
        user
        for user in gateway.list_users()
        if not user.deleted
        and user.user_id != SLACKBOT_ID
        and deps.respondent(user.user_id) not in tombstones
    ]
    bots: list[DirectoryUser] = []
    for name, rest in candidates:
        found = [user for user in people if name in _names(user)]
        humans = [user for user in found if not user.is_bot]
        if len(humans) == 1:
            return humans[0].user_id, rest
        if humans:
            listed = ", ".join(_mention(u.user_id) for u in humans[:MAX_CANDIDATES_SHOWN])
            raise KudosAmbiguousName(name=name, mentions=listed)
        bots += found
    if bots:
        raise KudosToBot(mentions=_mention(bots[0].user_id))
    raise KudosUnknownName(name=candidates[-1][0] if candidates else "")


def display_name(user: DirectoryUser) -> str:
    return user.display_name or user.real_name or user.name or user.user_id


def names_of(gateway: SlackGateway, user_ids: Sequence[str]) -> dict[str, str]:
    """How Slack names a few people (mentions in a story that carry no name of their own)."""
    names: dict[str, str] = {}
    for user_id in user_ids[:MAX_NAMES_LOOKED_UP]:
        info = gateway.user_info(user_id)
        if info is not None:
            names[user_id] = display_name(info)
    return names


def check_story(story: str) -> str:
    text = story.strip()
    if not text:
        raise KudosEmptyStory()
    if len(text) > MAX_STORY_CHARS:
        raise KudosStoryTooLong(limit=MAX_STORY_CHARS, length=len(text))
    return text


def kudos_channel(deps: Deps, *, giver: str) -> str:
    """Where kudos are posted; a polite refusal naming who can set it when nowhere is set."""
    settings = deps.settings
    if settings.kudos_channel:
        return settings.kudos_channel
    if giver in settings.admins:
        raise NoKudosChannelAdmin()
    if not settings.admins:
        raise NoKudosChannelNoAdmins()
    raise NoKudosChannel(mentions=", ".join(_mention(a) for a in sorted(settings.admins)))


# --- naming ----------------------------------------------------------------------------------


def naming_floor(settings: Settings) -> int:
    """The smallest team named for someone who opted out: the smallest group shown, at least."""
    return max(settings.min_group_size, TEAM_NAMING_FLOOR)


def _shown_pair(
    deps: Deps,
    session: Session,
    *,
    giver: str | None,
    recipient: str | None,
    recipient_team: str | None,
) -> tuple[Shown, Shown]:
    giver_member = repo.get_member(session=session, slack_user_id=giver) if giver else None
    giver_team = giver_member.team if giver_member is not None else None
    sizes = store.team_sizes(session=session, teams=[giver_team, recipient_team])
    out = store.opted_out(session=session, user_ids=[giver, recipient])
    floor = naming_floor(deps.settings)

    def one(user_id: str | None, team: str | None) -> Shown:
        size = sizes.get(team, 0) if team else 0
        return shown(user_id, opted_out=user_id in out, team=team, team_size=size, floor=floor)

    return one(giver, giver_team), one(recipient, recipient_team)


# --- giving ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KudosGiven:
    """A kudos posted in its channel (its DM goes out next, `dm_recipient`)."""

    kudos_id: int
    giver: str
    recipient: Recipient
    story: str
    channel: str
    posted: PostedMessage
    giver_shown: Shown
    recipient_shown: Shown


def _drop(deps: Deps, kudos_id: int) -> None:
    with session_scope(deps.engine) as session:
        store.drop_unposted(session=session, kudos_id=kudos_id)


def post_kudos(
    deps: Deps,
    gateway: SlackGateway,
    *,
    giver: str,
    recipient: str,
    story: str,
    source: KudosSource,
) -> KudosGiven:
    """Check everything, then post the story to the kudos channel.

    The row is written first (so the one-a-day key holds under two clicks at once) and removed
    again if the post fails: nothing counts, or is half-written, that nobody saw."""
    from bot.render.kudos import kudos_post  # here: bot.render.kudos reads this module's types

    channel = kudos_channel(deps, giver=giver)
    target = check_recipient(deps, gateway, giver=giver, recipient=recipient)
    text = check_story(story)
    settings = deps.settings
    now = deps.clock.now()
    day = now.astimezone(settings.zone).date()
    try:
        with session_scope(deps.engine) as session:
            if store.given_on_day(session=session, giver=giver, day=day) >= MAX_KUDOS_PER_DAY:
                raise KudosDailyLimit(limit=MAX_KUDOS_PER_DAY)
            row = store.add_kudos(
                session=session,
                giver=giver,
                recipient=recipient,
                recipient_team=target.team,
                story=text,
                source=source.value,
                given_on=day,
                period=period_key(now, settings.zone),
                now=now,
            )
            assert row.id is not None
            kudos_id = row.id
            giver_shown, recipient_shown = _shown_pair(
                deps, session, giver=giver, recipient=recipient, recipient_team=target.team
            )
    except IntegrityError as exc:
        raise KudosAlreadyToday(mentions=_mention(recipient)) from exc
    message = kudos_post(deps.prompts, giver=giver_shown, recipient=recipient_shown, story=text)
    try:
        posted = gateway.post_message(channel, message)
    except DeliveryFailed as exc:
        _drop(deps, kudos_id)
        log.warning("a kudos could not be posted in its channel: %s", exc.error)
        raise KudosChannelUnreachable(mentions=f"<#{channel}>") from exc
    except BaseException:
        _drop(deps, kudos_id)
        raise
    with session_scope(deps.engine) as session:
        store.mark_posted(session=session, kudos_id=kudos_id, channel=posted.channel, ts=posted.ts)
    deps.reports.invalidate()
    return KudosGiven(kudos_id, giver, target, text, channel, posted, giver_shown, recipient_shown)


def dm_recipient(deps: Deps, gateway: SlackGateway, given: KudosGiven) -> bool:
    """Tell the person, in their language; False when Slack would not take the DM."""
    from bot.render.kudos import kudos_dm

    prompts = prompts_for_locale(deps, given.recipient.locale)
    message = kudos_dm(
        prompts,
        giver=given.giver,
        story=given.story,
        channel=given.posted.channel,
        named=given.recipient_shown.user_id is not None,
    )
    key = f"{KUDOS_DM_KEY_PREFIX}{given.kudos_id}"
    try:
        gateway.deliver_dm(given.recipient.user_id, message, key=key, maybe_sent=False)
    except DeliveryFailed as exc:
        log.warning("a kudos DM could not be delivered: %s", exc.error)
        return False
    return True


def recipient_prompts(deps: Deps, given: KudosGiven) -> Prompts:
    return prompts_for_locale(deps, given.recipient.locale)


# --- being named, or not ---------------------------------------------------------------------


def set_kudos_naming(
    deps: Deps, gateway: SlackGateway | None, *, slack_user_id: str, named: bool
) -> int:
    """Opt out of (or back into) being named in kudos posts and the digest. Opting out also
    takes the name off earlier posts; returns how many were edited. Opting back in names the
    person in new posts and the digest; earlier posts stay as they are."""
    with session_scope(deps.engine) as session:
        store.set_opt_out(
            session=session, slack_user_id=slack_user_id, opted_out=not named, now=deps.clock.now()
        )
        rows = [] if named else store.posted_naming(session=session, slack_user_id=slack_user_id)
    deps.reports.invalidate()
    return refresh_posts(deps, gateway, rows) if gateway is not None else 0


def is_named(deps: Deps, *, slack_user_id: str) -> bool:
    with session_scope(deps.engine) as session:
        return not store.opted_out(session=session, user_ids=[slack_user_id])


def refresh_posts(deps: Deps, gateway: SlackGateway, rows: Iterable[store.Kudos]) -> int:
    """Re-render posted kudos as they should read now (after an opt-out or forget-me)."""
    from bot.render.kudos import kudos_post

    edited = 0
    for row in rows:
        if not row.channel or not row.ts:
            continue
        with session_scope(deps.engine) as session:
            giver, recipient = _shown_pair(
                deps,
                session,
                giver=row.giver,
                recipient=row.recipient,
                recipient_team=row.recipient_team,
            )
        message = kudos_post(deps.prompts, giver=giver, recipient=recipient, story=row.story)
        try:
            gateway.update_message(row.channel, row.ts, message)
            edited += 1
        except DeliveryFailed as exc:
            log.warning("a kudos post could not be edited: %s", exc.error)
    return edited


# --- the digest ------------------------------------------------------------------------------


def _week_over(deps: Deps, period: str) -> bool:
    zone = deps.settings.zone
    end = datetime.combine(period_monday(period) + timedelta(days=7), time(), tzinfo=zone)
    return deps.clock.now() >= end


def _quote_id(
    deps: Deps, session: Session, period: str, rows: list[store.Kudos], out: set[str]
) -> int | None:
    """The week's story: fixed the first time it is chosen once the week is over (before that
    a preview may pick another as kudos keep coming)."""
    fixed = store.quote_of(session=session, period=period)
    if fixed is not None:
        return fixed.kudos_id
    candidates = [
        (row.id, row.recipient is not None and row.recipient not in out)
        for row in rows
        if row.id is not None
    ]
    chosen = pick_quote(period, candidates)
    if _week_over(deps, period):
        return store.fix_quote(session=session, period=period, kudos_id=chosen)
    return chosen


def kudos_summary(deps: Deps, period: str) -> KudosSummary | None:
    """The digest's kudos section for a week: None when kudos are off and there were none."""
    settings = deps.settings
    with session_scope(deps.engine) as session:
        rows = store.week_kudos(session=session, period=period)
        if not rows and not settings.kudos_channel:
            return None
        teams = [row.recipient_team for row in rows]
        sizes: Mapping[str, int] = store.team_sizes(session=session, teams=teams)
        out = store.opted_out(session=session, user_ids=[row.recipient for row in rows])
        floor = naming_floor(settings)
        counts = tally(teams, sizes, floor=floor, shown=DIGEST_TEAMS_SHOWN)
        quote_id = _quote_id(deps, session, period, rows, out) if rows else None
    quote = None
    row = next((r for r in rows if r.id == quote_id), None)
    if row is not None:
        team = row.recipient_team
        recipient = shown(
            row.recipient,
            opted_out=row.recipient in out,
            team=team,
            team_size=sizes.get(team, 0) if team else 0,
            floor=floor,
        )
        quote = WeekQuote(row.story, recipient)
    return KudosSummary(counts, quote, settings.kudos_channel)
