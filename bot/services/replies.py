"""Confidential two-way replies (issue 14): a leader answers an opted-in comment, the relay
passes it to the author's DM, the author answers back, and nobody learns who wrote it.

The parts, and what each may know:
- the comment: `pending_comment` then `published_comment`, with its round or week and its
  statement, never its author;
- the link (`reply_link`): the author's Slack user ID, and once a reply reached them their DM
  and the conversation's first message there, sealed with CX_ENCRYPTION_KEY
  (bot.services.reply_links). Only this module opens it. It goes when the conversation
  closes (once the author has been told), when the author withdraws (`/cx withdraw`, or
  Close in their DM) or runs `/cx forget-me`, and CX_REPLY_DAYS after the comment's round
  closed, whichever comes first;
- the conversation (`reply_thread`): the leader who started it and their side of it (a thread
  in their DM with the bot), never the author;
- the queue (`relay_message`): each message waits a random delay drawn uniformly from
  CX_RELAY_DELAY_SECONDS (`deps.relay_random`, `deps.clock`), both ways, so Slack's timestamps
  cannot pair a reply with anyone's activity; the relay never sends a read receipt, a typing
  indicator or a reaction;
- the audit log (`reply_audit`): every leader reply, for admins (`/cx replies-audit`).

Who may reply: leaders (members of the leadership channel) and admins, to comments shown to
leaders (a published week that meets the comment rule under today's settings). Comments are
published for the whole organisation, never per team (a team label would narrow down their
authors), so a team lead who is neither a leader nor an admin sees no comment to reply to and
may reply to none. One leader per comment: whoever replies first holds the conversation.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from bot.analytics.anonymity import may_show
from bot.db import relay
from bot.db.models import PublishedWeek
from bot.db.replies import ThreadEnd
from bot.errors import CxError
from bot.prompts import Prompts
from bot.render import reply_messages as render
from bot.services.context import Deps
from bot.services.language import prompts_for_member
from bot.services.ports import DeliveryFailed, OutgoingMessage, SlackGateway
from bot.services.reply_links import Author, LinkCipher, link_cipher
from bot.services.roles import Audience, may_use

log = logging.getLogger(__name__)

MAX_REPLY_CHARS = 3000
RELAY_BATCH = 50
RELAY_ROUNDS = 20  # claims per run at most: each takes the next message of every conversation


class RelayKind(StrEnum):
    REPLY = "reply"
    CLOSED = "closed"  # the other side ended the conversation


# --- refusals -------------------------------------------------------------------------------


class RepliesOff(CxError):
    """CX_ENCRYPTION_KEY is unset: no comment has a link, so none can be replied to."""

    copy_key = "replies.switched_off"


class RepliesLeadersOnly(CxError):
    copy_key = "replies.leaders_only"


class NotReplyable(CxError):
    """Not a comment shown to leaders, or its author did not ask for replies (or no longer)."""

    copy_key = "replies.not_replyable"


class ConversationEnded(CxError):
    copy_key = "replies.ended"


class ConversationTaken(CxError):
    """Another leader holds this comment's conversation (`leader`)."""

    copy_key = "replies.taken"


class NotYourConversation(CxError):
    copy_key = "replies.not_yours"


class ReplyEmpty(CxError):
    copy_key = "replies.empty"


class ReplyTooLong(CxError):
    """More than MAX_REPLY_CHARS characters (`length`, `limit`): nothing is passed on."""

    copy_key = "replies.too_long"


def clean_reply(text: str | None) -> str:
    cleaned = (text or "").strip()
    if not cleaned:
        raise ReplyEmpty()
    if len(cleaned) > MAX_REPLY_CHARS:
        raise ReplyTooLong(length=len(cleaned), limit=MAX_REPLY_CHARS)
    return cleaned


def replies_on(deps: Deps) -> bool:
    """Whether comments can be opened to replies here (CX_ENCRYPTION_KEY is set)."""
    return link_cipher(deps) is not None


def _cipher(deps: Deps) -> LinkCipher:
    cipher = link_cipher(deps)
    if cipher is None:
        raise RepliesOff()
    return cipher


def check_may_reply(deps: Deps, gateway: SlackGateway, *, user_id: str) -> None:
    """Leaders and admins; everyone else (team leads included) is refused."""
    if not may_use(
        audience=Audience.LEADERS, settings=deps.settings, gateway=gateway, user_id=user_id
    ):
        raise RepliesLeadersOnly()


# --- timing ---------------------------------------------------------------------------------


def relay_delay(deps: Deps) -> timedelta:
    """A delay drawn uniformly from CX_RELAY_DELAY_SECONDS (min, max)."""
    low, high = deps.settings.relay_delay_seconds
    return timedelta(seconds=deps.relay_random.uniform(low, high))


def _due(deps: Deps, connection: Connection, *, thread_id: str, to_author: bool) -> datetime:
    """Now plus a random delay, but after whatever this direction of the conversation still
    has waiting, so messages arrive in the order they were written."""
    due = deps.clock.now() + relay_delay(deps)
    last = relay.last_due(connection, thread_id=thread_id, to_author=to_author)
    if last is not None and last >= due:
        due = last + timedelta(seconds=1)
    return due


def _queue(
    deps: Deps,
    connection: Connection,
    *,
    thread_id: str,
    to_author: bool,
    kind: RelayKind,
    text: str | None = None,
) -> None:
    """Queue a message one way along a conversation, due after the usual random delay."""
    relay.enqueue(
        connection,
        thread_id=thread_id,
        to_author=to_author,
        kind=kind,
        text=text,
        due_at=_due(deps, connection, thread_id=thread_id, to_author=to_author),
    )


def delay_minutes(deps: Deps) -> int:
    """The longest delay, in whole minutes (at least one), for what people are told."""
    return max(1, -(-int(deps.settings.relay_delay_seconds[1]) // 60))


# --- what a leader may reply to -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReplyTarget:
    comment: relay.ShownComment
    link: relay.Link
    thread: relay.Thread | None  # None until the first reply


def _shown_to_leaders(deps: Deps, connection: Connection, period: str) -> bool:
    table = PublishedWeek.__table__  # type: ignore[attr-defined]
    respondents = connection.execute(
        select(table.c.respondents).where(table.c.period == period)
    ).scalar()
    return may_show(int(respondents or 0), deps.settings.comment_minimum)


def _target(deps: Deps, connection: Connection, *, comment_id: str, leader: str) -> ReplyTarget:
    shown = relay.published_comment(connection, comment_id=comment_id[:64])
    if shown is None or not _shown_to_leaders(deps, connection, shown.period):
        raise NotReplyable()
    thread = relay.thread_of_comment(connection, comment_id=shown.id)
    if thread is not None and thread.closed is not None:
        raise ConversationEnded(days=deps.settings.reply_days)
    if thread is not None and thread.leader != leader:
        raise ConversationTaken(leader=thread.leader)
    link = relay.link_of(connection, comment_id=shown.id)
    if link is None or link.expires_at <= deps.clock.now():
        if thread is not None:
            raise ConversationEnded(days=deps.settings.reply_days)
        raise NotReplyable()
    return ReplyTarget(shown, link, thread)


def reply_target(deps: Deps, gateway: SlackGateway, *, comment_id: str, leader: str) -> ReplyTarget:
    """What a leader's Reply button opens: refused unless they may reply to this comment now."""
    _cipher(deps)
    check_may_reply(deps, gateway, user_id=leader)
    with deps.engine.connect() as connection:
        return _target(deps, connection, comment_id=comment_id, leader=leader)


@dataclass(frozen=True, slots=True)
class Sent:
    thread_id: str
    minutes: int  # the longest the other side waits for it


def send_leader_reply(
    deps: Deps, gateway: SlackGateway, *, comment_id: str, leader: str, text: str | None
) -> Sent:
    """Queue a leader's reply to a comment's author (opening the conversation on the first),
    and log it for admins; all in one transaction. The leader's side of a new conversation
    (a message in their DM, under which the author's answers will appear) is posted by
    `ensure_leader_side`."""
    _cipher(deps)
    check_may_reply(deps, gateway, user_id=leader)
    cleaned = clean_reply(text)
    now = deps.clock.now()
    try:
        with deps.engine.begin() as connection:
            target = _target(deps, connection, comment_id=comment_id, leader=leader)
            if target.thread is None:
                thread_id = relay.open_thread(
                    connection,
                    comment_id=target.comment.id,
                    period=target.comment.period,
                    leader=leader,
                    now=now,
                    expires_at=target.link.expires_at,
                )
            else:
                thread_id = target.thread.id
            relay.audit(
                connection,
                thread_id=thread_id,
                leader=leader,
                period=target.comment.period,
                at=now,
                text=cleaned,
            )
            _queue(
                deps,
                connection,
                thread_id=thread_id,
                to_author=True,
                kind=RelayKind.REPLY,
                text=cleaned,
            )
    except IntegrityError:
        # Another leader opened the conversation at the same moment: theirs it is.
        with deps.engine.connect() as connection:
            found = relay.thread_of_comment(connection, comment_id=comment_id[:64])
        raise ConversationTaken(leader=found.leader if found else "") from None
    deps.reports.invalidate()
    return Sent(thread_id=thread_id, minutes=delay_minutes(deps))


def ensure_leader_side(deps: Deps, gateway: SlackGateway, *, thread_id: str) -> None:
    """Post the leader's side of a new conversation now (after the modal was answered); if
    Slack fails, the relay posts it with the author's first answer instead."""
    try:
        _leader_side(deps, gateway, thread_id, maybe_sent=True)
    except Exception:
        log.warning("the leader's side of a new conversation could not be posted yet")


# --- messages people write in their DM with the bot -----------------------------------------


class Routed(StrEnum):
    TO_AUTHOR = "to_author"  # a leader's reply, queued for the author
    TO_LEADER = "to_leader"  # the author's answer, queued for the leader
    ENDED = "ended"  # a conversation that has ended: nothing passed on
    NOT_A_CONVERSATION = "not_a_conversation"


def route_dm_message(
    deps: Deps,
    gateway: SlackGateway,
    *,
    user_id: str,
    channel: str,
    thread_ts: str | None,
    text: str | None,
) -> Routed:
    """A message someone wrote in their DM with the bot: in a conversation's thread it is
    passed on (after a random delay); anywhere else nothing is kept. Raises ReplyEmpty or
    ReplyTooLong (nothing passed on) for text the relay will not carry."""
    if not thread_ts:
        return Routed.NOT_A_CONVERSATION
    with deps.engine.connect() as connection:
        thread = relay.thread_at(connection, channel=channel, ts=thread_ts)
    if thread is not None and thread.leader == user_id:
        if thread.closed is not None:
            return Routed.ENDED
        send_leader_reply(deps, gateway, comment_id=thread.comment_id, leader=user_id, text=text)
        return Routed.TO_AUTHOR
    return _author_message(deps, user_id=user_id, channel=channel, thread_ts=thread_ts, text=text)


def _author_message(
    deps: Deps, *, user_id: str, channel: str, thread_ts: str, text: str | None
) -> Routed:
    cipher = link_cipher(deps)
    if cipher is None:
        return Routed.NOT_A_CONVERSATION
    with deps.engine.begin() as connection:
        # Links are few (opted-in comments of the last CX_REPLY_DAYS), and none can be
        # looked up by its author without opening it.
        for link in relay.links(connection):
            author = cipher.open(link.sealed)
            if author is None or author.user_id != user_id:
                continue
            if author.channel != channel or author.root_ts != thread_ts:
                continue
            thread = relay.thread_of_comment(connection, comment_id=link.comment_id)
            if thread is None or thread.closed is not None:
                return Routed.ENDED
            cleaned = clean_reply(text)
            _queue(
                deps,
                connection,
                thread_id=thread.id,
                to_author=False,
                kind=RelayKind.REPLY,
                text=cleaned,
            )
            return Routed.TO_LEADER
    return Routed.NOT_A_CONVERSATION


@dataclass(frozen=True, slots=True)
class AuthorSide:
    thread: relay.Thread
    link: relay.Link
    author: Author
    comment_text: str | None


def _author_side(deps: Deps, connection: Connection, *, thread_id: str, user_id: str) -> AuthorSide:
    """The conversation as its author sees it; refused to anyone but the author."""
    cipher = _cipher(deps)
    thread = relay.thread(connection, thread_id=thread_id[:64])
    if thread is None or thread.closed is not None:
        raise ConversationEnded(days=deps.settings.reply_days)
    link = relay.link_of(connection, comment_id=thread.comment_id)
    author = None if link is None else cipher.open(link.sealed)
    if link is None or author is None:
        raise ConversationEnded(days=deps.settings.reply_days)
    if author.user_id != user_id:
        raise NotYourConversation()
    shown = relay.published_comment(connection, comment_id=thread.comment_id)
    return AuthorSide(thread, link, author, None if shown is None else shown.text)


def author_side(deps: Deps, *, thread_id: str, user_id: str) -> AuthorSide:
    with deps.engine.connect() as connection:
        return _author_side(deps, connection, thread_id=thread_id, user_id=user_id)


def send_author_reply(deps: Deps, *, thread_id: str, user_id: str, text: str | None) -> Sent:
    """The author's answer from the Reply button's modal: queued for the leader, who sees it
    as "the author" only."""
    cleaned = clean_reply(text)
    with deps.engine.begin() as connection:
        side = _author_side(deps, connection, thread_id=thread_id, user_id=user_id)
        _queue(
            deps,
            connection,
            thread_id=side.thread.id,
            to_author=False,
            kind=RelayKind.REPLY,
            text=cleaned,
        )
    return Sent(thread_id=side.thread.id, minutes=delay_minutes(deps))


# --- ending a conversation ------------------------------------------------------------------


def close_by_leader(deps: Deps, gateway: SlackGateway, *, thread_id: str, user_id: str) -> None:
    """The leader closes: the author is told (after the usual delay), then the link goes."""
    with deps.engine.begin() as connection:
        thread = relay.thread(connection, thread_id=thread_id[:64])
        if thread is None:
            raise ConversationEnded(days=deps.settings.reply_days)
        if thread.leader != user_id:
            raise NotYourConversation()
        if not relay.close_thread(connection, thread_id=thread.id, reason=ThreadEnd.LEADER):
            raise ConversationEnded(days=deps.settings.reply_days)
        _queue(deps, connection, thread_id=thread.id, to_author=True, kind=RelayKind.CLOSED)
    deps.reports.invalidate()
    _refresh_leader_side(deps, gateway, thread.id)


def _end_for_author(
    connection: Connection,
    deps: Deps,
    thread: relay.Thread | None,
    *,
    reason: ThreadEnd = ThreadEnd.WITHDRAWN,
) -> None:
    """The author ends it (Close, withdraw, forget-me): nothing more reaches them, and the
    leader is told after the usual delay."""
    if thread is None or not relay.close_thread(connection, thread_id=thread.id, reason=reason):
        return
    relay.drop_queued(connection, thread_id=thread.id, to_author=True)
    _queue(deps, connection, thread_id=thread.id, to_author=False, kind=RelayKind.CLOSED)


def close_by_author(deps: Deps, gateway: SlackGateway, *, thread_id: str, user_id: str) -> None:
    """The author closes: the link is deleted at once; the leader is told after a delay."""
    with deps.engine.begin() as connection:
        side = _author_side(deps, connection, thread_id=thread_id, user_id=user_id)
        relay.delete_links(connection, comment_ids=[side.thread.comment_id])
        _end_for_author(connection, deps, side.thread, reason=ThreadEnd.AUTHOR)
    deps.reports.invalidate()
    _mark_author_side(deps, gateway, side, reason=ThreadEnd.AUTHOR)


def withdraw(deps: Deps, gateway: SlackGateway, *, user_id: str) -> int:
    """`/cx withdraw`: delete every link to this person (their comments stay, linked to
    nobody) and end their conversations. Returns how many links went."""
    cipher = link_cipher(deps)
    if cipher is None:
        return 0
    ended: list[AuthorSide] = []
    with deps.engine.begin() as connection:
        mine = [
            (link, author)
            for link in relay.links(connection)
            if (author := cipher.open(link.sealed)) is not None and author.user_id == user_id
        ]
        for link, author in mine:
            thread = relay.thread_of_comment(connection, comment_id=link.comment_id)
            if thread is not None and thread.closed is None:
                ended.append(AuthorSide(thread, link, author, None))
            _end_for_author(connection, deps, thread)
        relay.delete_links(connection, comment_ids=[link.comment_id for link, _ in mine])
    deps.reports.invalidate()
    for side in ended:
        _mark_author_side(deps, gateway, side, reason=ThreadEnd.WITHDRAWN)
    return len(mine)


@dataclass(frozen=True, slots=True)
class ForgottenComments:
    comment_ids: list[str]
    periods: list[str]  # weeks whose published comments were deleted
    author_sides: list[tuple[str, str]]  # (channel, ts) of their conversations' first messages


def forget_author(deps: Deps, connection: Connection, *, user_id: str) -> ForgottenComments:
    """Forget-me, inside its transaction: the person's linked comments (pending or
    published) are deleted, their links with them, and their conversations end; the
    conversations they led as a leader end too (each author is told). Comments they left
    without a link cannot be found: nothing ties them to anyone."""
    cipher = link_cipher(deps)
    found: list[tuple[relay.Link, Author]] = []
    if cipher is not None:
        found = [
            (link, author)
            for link in relay.links(connection)
            if (author := cipher.open(link.sealed)) is not None and author.user_id == user_id
        ]
    ids = [link.comment_id for link, _ in found]
    for link, _ in found:
        thread = relay.thread_of_comment(connection, comment_id=link.comment_id)
        _end_for_author(connection, deps, thread)
    relay.delete_links(connection, comment_ids=ids)
    for thread in relay.threads_led_by(connection, leader=user_id):
        if relay.close_thread(connection, thread_id=thread.id, reason=ThreadEnd.LEADER):
            _queue(deps, connection, thread_id=thread.id, to_author=True, kind=RelayKind.CLOSED)
    periods = relay.delete_comment_rows(connection, comment_ids=ids)
    sides = [
        (author.channel, author.root_ts)
        for _, author in found
        if author.channel is not None and author.root_ts is not None
    ]
    return ForgottenComments(ids, periods, sides)


# --- the relay: delivering what is due ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RelayReport:
    delivered: int = 0
    dropped: int = 0  # nowhere to go any more (link deleted, Slack refused for good)
    retried: int = 0  # given back, to try again at the next run
    expired: int = 0  # links deleted after CX_REPLY_DAYS


def run_relay(deps: Deps, gateway: SlackGateway) -> RelayReport:
    """The relay job (every minute, `bot.jobs.scheduled_relay`; any process may run it at
    any time, any number at once): expire old links, then deliver everything due."""
    expired = expire_links(deps, gateway)
    report = relay_due(deps, gateway)
    return RelayReport(report.delivered, report.dropped, report.retried, expired)


def relay_due(deps: Deps, gateway: SlackGateway) -> RelayReport:
    """Deliver every message that is due, each at most once: a message is claimed (one
    guarded UPDATE), posted with its id in Slack's message metadata, then deleted; a worker
    that dies in between leaves a claim that goes stale, and whoever retakes it first looks
    in Slack for the message before posting again."""
    delivered = dropped = retried = 0
    stale = timedelta(seconds=deps.settings.claim_stale_seconds)
    for _ in range(RELAY_ROUNDS):
        now = deps.clock.now()
        with deps.engine.begin() as connection:
            token, batch = relay.claim_due(
                connection, now=now, stale_before=now - stale, limit=RELAY_BATCH
            )
        if not batch:
            break
        for message in batch:
            try:
                sent = _deliver(deps, gateway, message)
            except DeliveryFailed as failure:
                log.warning("a relayed message was refused by Slack: %s", failure.error)
                sent = False
            except Exception:
                log.exception("a relayed message could not be delivered yet")
                with deps.engine.begin() as connection:
                    relay.release(connection, message_id=message.id, token=token)
                retried += 1
                continue
            with deps.engine.begin() as connection:
                relay.delivered(connection, message_id=message.id, token=token)
            delivered, dropped = delivered + sent, dropped + (not sent)
        if retried:
            break  # Slack is failing: the rest waits for the next run
    return RelayReport(delivered=delivered, dropped=dropped, retried=retried)


def _deliver(deps: Deps, gateway: SlackGateway, message: relay.Queued) -> bool:
    with deps.engine.connect() as connection:
        thread = relay.thread(connection, thread_id=message.thread_id)
    if thread is None:
        return False
    if message.to_author:
        return _deliver_to_author(deps, gateway, thread, message)
    return _deliver_to_leader(deps, gateway, thread, message)


def _prompts(deps: Deps, user_id: str) -> Prompts:
    return prompts_for_member(deps, slack_user_id=user_id)


def _deliver_to_author(
    deps: Deps, gateway: SlackGateway, thread: relay.Thread, message: relay.Queued
) -> bool:
    cipher = link_cipher(deps)
    with deps.engine.connect() as connection:
        link = relay.link_of(connection, comment_id=thread.comment_id)
        shown = relay.published_comment(connection, comment_id=thread.comment_id)
    author = None if link is None or cipher is None else cipher.open(link.sealed)
    if link is None or cipher is None or author is None:
        return False  # withdrawn, expired or unreadable: there is nobody to tell
    prompts = _prompts(deps, author.user_id)
    maybe_sent = message.attempts > 1
    if message.kind == RelayKind.CLOSED:
        side = AuthorSide(thread, link, author, None if shown is None else shown.text)
        if author.channel and author.root_ts:
            gateway.relay_post(
                author.channel,
                render.closed_notice(prompts, reason=thread.closed, to_author=True),
                key=message.id,
                thread_ts=author.root_ts,
                maybe_sent=maybe_sent,
            )
            _mark_author_side(deps, gateway, side, reason=thread.closed)
        with deps.engine.begin() as connection:
            relay.delete_links(connection, comment_ids=[thread.comment_id])  # they were told
        return True
    text = message.text or ""
    if author.root_ts is None or author.channel is None:
        posted = gateway.relay_post(
            author.user_id,
            render.author_root(
                prompts,
                thread_id=thread.id,
                period=thread.period,
                leader=thread.leader,
                reply=text,
                minutes=delay_minutes(deps),
                reply_days=deps.settings.reply_days,
            ),
            key=message.id,
            thread_ts=None,
            maybe_sent=maybe_sent,
        )
        with deps.engine.begin() as connection:
            relay.reseal_link(
                connection,
                link_id=link.id,
                sealed=cipher.reseal(
                    link.sealed, Author(author.user_id, posted.channel, posted.ts)
                ),
            )
        return True
    gateway.relay_post(
        author.channel,
        render.to_author(prompts, leader=thread.leader, text=text),
        key=message.id,
        thread_ts=author.root_ts,
        maybe_sent=maybe_sent,
    )
    return True


def _leader_side(
    deps: Deps, gateway: SlackGateway, thread_id: str, *, maybe_sent: bool
) -> tuple[str, str] | None:
    """The leader's side of a conversation: its first message in their DM, posted once."""
    with deps.engine.connect() as connection:
        thread = relay.thread(connection, thread_id=thread_id)
        if thread is None:
            return None
        if thread.leader_channel and thread.leader_ts:
            return thread.leader_channel, thread.leader_ts
        shown = relay.published_comment(connection, comment_id=thread.comment_id)
        first = relay.first_leader_reply(connection, thread_id=thread.id)
    message = _leader_root(deps, thread, shown, first)
    posted = gateway.relay_post(
        thread.leader, message, key=f"{thread.id}:leader", thread_ts=None, maybe_sent=maybe_sent
    )
    with deps.engine.begin() as connection:
        relay.set_leader_side(connection, thread_id=thread.id, channel=posted.channel, ts=posted.ts)
    return posted.channel, posted.ts


def _leader_root(
    deps: Deps, thread: relay.Thread, shown: relay.ShownComment | None, first: str | None
) -> OutgoingMessage:
    """The leader's first message of a conversation, as it stands now."""
    return render.leader_root(
        _prompts(deps, thread.leader),
        thread_id=thread.id,
        comment_id=thread.comment_id,
        period=thread.period,
        comment_text=None if shown is None else shown.text,
        first_reply=first,
        minutes=delay_minutes(deps),
        closed=thread.closed,
    )


def _update_first_message(
    gateway: SlackGateway, channel: str, ts: str, message: OutgoingMessage
) -> None:
    """Re-render a conversation's first message; a failure is logged, not raised."""
    try:
        gateway.update_message(channel, ts, message)
    except DeliveryFailed as failure:
        log.info("a conversation's first message could not be updated: %s", failure.error)


def _deliver_to_leader(
    deps: Deps, gateway: SlackGateway, thread: relay.Thread, message: relay.Queued
) -> bool:
    side = _leader_side(deps, gateway, thread.id, maybe_sent=True)
    if side is None:
        return False
    channel, root = side
    prompts = _prompts(deps, thread.leader)
    if message.kind == RelayKind.CLOSED:
        notice = render.closed_notice(prompts, reason=thread.closed, to_author=False)
    else:
        notice = render.to_leader(prompts, text=message.text or "")
    gateway.relay_post(
        channel, notice, key=message.id, thread_ts=root, maybe_sent=message.attempts > 1
    )
    if message.kind == RelayKind.CLOSED:
        _refresh_leader_side(deps, gateway, thread.id)
    return True


def _refresh_leader_side(deps: Deps, gateway: SlackGateway, thread_id: str) -> None:
    """Re-render the leader's first message (its buttons go once the conversation closed)."""
    with deps.engine.connect() as connection:
        thread = relay.thread(connection, thread_id=thread_id)
        if thread is None or not thread.leader_channel or not thread.leader_ts:
            return
        shown = relay.published_comment(connection, comment_id=thread.comment_id)
        first = relay.first_leader_reply(connection, thread_id=thread.id)
    message = _leader_root(deps, thread, shown, first)
    _update_first_message(gateway, thread.leader_channel, thread.leader_ts, message)


def _mark_author_side(
    deps: Deps, gateway: SlackGateway, side: AuthorSide, *, reason: str | None
) -> None:
    """Re-render the author's first message without its buttons, saying it ended."""
    author = side.author
    if not author.channel or not author.root_ts:
        return
    with deps.engine.connect() as connection:
        first = relay.first_leader_reply(connection, thread_id=side.thread.id)
    message = render.author_root(
        _prompts(deps, author.user_id),
        thread_id=side.thread.id,
        period=side.thread.period,
        leader=side.thread.leader,
        reply=first or "",
        minutes=delay_minutes(deps),
        reply_days=deps.settings.reply_days,
        closed=reason or ThreadEnd.WITHDRAWN,
    )
    _update_first_message(gateway, author.channel, author.root_ts, message)


def expire_links(deps: Deps, gateway: SlackGateway) -> int:
    """Delete the links CX_REPLY_DAYS old (the date is the round's, the same for all its
    links); their open conversations end, both sides told."""
    cipher = link_cipher(deps)
    now = deps.clock.now()
    with deps.engine.connect() as connection:
        due = relay.expired_links(connection, now=now)
    for link in due:
        author = None if cipher is None else cipher.open(link.sealed)
        with deps.engine.begin() as connection:
            thread = relay.thread_of_comment(connection, comment_id=link.comment_id)
            open_before = thread is not None and thread.closed is None
            if thread is not None and relay.close_thread(
                connection, thread_id=thread.id, reason=ThreadEnd.EXPIRED
            ):
                relay.drop_queued(connection, thread_id=thread.id, to_author=True)
                relay.enqueue(
                    connection,
                    thread_id=thread.id,
                    to_author=False,
                    kind=RelayKind.CLOSED,
                    text=None,
                    due_at=now,
                )
            relay.delete_links(connection, comment_ids=[link.comment_id])
        if thread is not None and open_before and author is not None and author.root_ts:
            # The expiry date is the round's, known to all: telling the author at once gives
            # nothing away.
            prompts = _prompts(deps, author.user_id)
            try:
                gateway.relay_post(
                    author.channel or author.user_id,
                    render.closed_notice(prompts, reason=ThreadEnd.EXPIRED, to_author=True),
                    key=f"{thread.id}:expired",
                    thread_ts=author.root_ts,
                    maybe_sent=False,
                )
            except DeliveryFailed as failure:
                log.info("an expired conversation's author could not be told: %s", failure.error)
            side = AuthorSide(thread, link, author, None)
            _mark_author_side(deps, gateway, side, reason=ThreadEnd.EXPIRED)
    if due:
        deps.reports.invalidate()
    return len(due)


# --- the audit log --------------------------------------------------------------------------

AUDIT_PAGE = 10


@dataclass(frozen=True, slots=True)
class AuditPage:
    page: int  # from 1
    pages: int
    total: int
    entries: list[relay.AuditEntry]


def audit_page(deps: Deps, *, page: int) -> AuditPage:
    """One page of the leaders' replies, newest first (admins only: the command checks)."""
    with deps.engine.connect() as connection:
        total, _ = relay.audit_entries(connection, offset=0, limit=0)
        pages = max(1, -(-total // AUDIT_PAGE))
        chosen = min(max(page, 1), pages)
        _, entries = relay.audit_entries(
            connection, offset=(chosen - 1) * AUDIT_PAGE, limit=AUDIT_PAGE
        )
    return AuditPage(page=chosen, pages=pages, total=total, entries=entries)
