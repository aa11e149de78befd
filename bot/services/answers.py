"""Recording answers and comments from a pulse DM."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import Connection

from bot.db import answering, relay
from bot.db import repositories as repo
from bot.db.answering import ClickTarget
from bot.db.engine import session_scope
from bot.db.models import NOT_APPLICABLE
from bot.errors import BadPayload, NotInvited, RoundClosed, UnknownQuestion
from bot.prompts import Prompts
from bot.render.pulse import PulseView
from bot.services.actions import actions_for_round
from bot.services.alerts import screen_comment
from bot.services.context import Deps
from bot.services.language import prompts_for_locale
from bot.services.reply_links import Author, link_cipher
from bot.services.round_facts import RoundFacts

MAX_COMMENT_CHARS = 3000


@dataclass(frozen=True, slots=True)
class PulseState:
    """A person's pulse as it now stands, ready to be rendered back into their DM."""

    view: PulseView
    channel: str | None
    ts: str | None
    locale: str | None = None  # the person's Slack locale: the DM is re-rendered in it

    def prompts(self, deps: Deps) -> Prompts:
        """The prompts to render this person's pulse in."""
        return prompts_for_locale(deps, self.locale)


def _facts(deps: Deps, round_id: int) -> RoundFacts:
    def load() -> RoundFacts | None:
        with session_scope(deps.engine) as session:
            pulse_round = repo.get_round(session=session, round_id=round_id)
            if pulse_round is None:
                return None
            questions = repo.round_questions(session=session, round_id=round_id)
        actions = actions_for_round(deps, opened_at=pulse_round.opened_at)
        return RoundFacts(
            round_id=round_id,
            period=pulse_round.period,
            opened_at=pulse_round.opened_at,
            closes_at=pulse_round.closes_at,
            questions=tuple((q.id, q.text) for q in questions),
            actions=tuple(a.line() for a in actions),
        )

    facts = deps.round_facts.get(round_id, load)
    if facts is None:
        raise BadPayload()
    return facts


def _open_delivery(
    deps: Deps,
    connection: Connection,
    *,
    round_id: int,
    slack_user_id: str,
    require_open: bool = True,
) -> tuple[RoundFacts, ClickTarget]:
    facts = _facts(deps, round_id)
    if require_open and deps.clock.now() >= facts.closes_at:
        raise RoundClosed(closes=facts.closes_at)
    target = answering.click_target(connection, round_id=round_id, slack_user_id=slack_user_id)
    if target is None:
        raise NotInvited()
    return facts, target


def _state(
    deps: Deps, connection: Connection, *, facts: RoundFacts, target: ClickTarget, respondent: str
) -> PulseState:
    marks = answering.answer_marks(connection, round_id=facts.round_id, respondent=respondent)
    view = PulseView(
        round_id=facts.round_id,
        period=facts.period,
        closes_at=facts.closes_at,
        zone_name=target.tz or deps.settings.timezone,
        questions=facts.questions,
        answers={m.question_id: m.score for m in marks},
        # Never read back: comments are stored apart, linked to nobody (bot.db.replies).
        commented=frozenset(),
        min_group_size=deps.settings.min_group_size,
        actions=facts.actions,
    )
    return PulseState(view=view, channel=target.channel, ts=target.ts, locale=target.locale)


def _check_question(facts: RoundFacts, question_id: str) -> None:
    if question_id not in {qid for qid, _ in facts.questions}:
        raise UnknownQuestion()


def record_answer(
    deps: Deps,
    *,
    slack_user_id: str,
    round_id: int,
    question_id: str,
    score: int,
    clicked_at: datetime | None = None,
) -> ClickTarget:
    """Store (or change) one score; a repeated click updates the same row, the latest click wins.

    `score` is 1-5, or NOT_APPLICABLE (0) for "doesn't apply to me": stored like any other
    answer, so the person counts as having answered, and left out of every figure's n.

    Returns the delivery clicked (where its DM is); the DM is re-rendered later, from what is
    stored then (bot.slack.dm_refresh), so the write transaction stays as short as it can be.
    """
    if score != NOT_APPLICABLE and not 1 <= score <= 5:
        raise BadPayload()
    respondent = deps.respondent(slack_user_id)
    with deps.write_transaction() as connection:
        facts, target = _open_delivery(
            deps, connection, round_id=round_id, slack_user_id=slack_user_id
        )
        _check_question(facts, question_id)
        now = deps.clock.now()
        answering.upsert_answer(
            connection,
            round_id=facts.round_id,
            respondent=respondent,
            question_id=question_id,
            score=score,
            click_order=deps.click_order(respondent, clicked_at or now),
        )
    deps.metrics.answer_recorded()  # once the answer is committed
    return target


def pulse_state(
    deps: Deps, *, slack_user_id: str, round_id: int, require_open: bool = True
) -> PulseState:
    """The person's pulse as stored now; `require_open=False` also shows a closed round's
    (re-rendering a DM whose last click came just before the round closed)."""
    with deps.engine.connect() as connection:
        facts, target = _open_delivery(
            deps,
            connection,
            round_id=round_id,
            slack_user_id=slack_user_id,
            require_open=require_open,
        )
        return _state(
            deps, connection, facts=facts, target=target, respondent=deps.respondent(slack_user_id)
        )


class CommentProblem(Exception):
    """A comment the modal should send back with an inline message (copy key)."""

    def __init__(self, copy_key: str) -> None:
        super().__init__(copy_key)
        self.copy_key = copy_key


def clean_comment(text: str | None) -> str:
    cleaned = (text or "").strip()
    if not cleaned:
        raise CommentProblem("comment_modal.error_empty")
    if len(cleaned) > MAX_COMMENT_CHARS:
        raise CommentProblem("comment_modal.error_too_long")
    return cleaned


@dataclass(frozen=True, slots=True)
class CommentRecorded:
    """What the person is shown after saving a comment (privately: an ephemeral message)."""

    state: PulseState
    # They opened it to replies (and replies are on). Told the same way when the sensitive-
    # comment screen took the comment and nothing was stored: the confirmation never differs.
    replies: bool


def record_comment(
    deps: Deps,
    *,
    slack_user_id: str,
    round_id: int,
    question_id: str,
    text: str | None,
    replies: bool = False,
) -> CommentRecorded:
    """Store an anonymous comment on one of the person's answered statements in this round.

    The comment is stored apart from the answers (`pending_comment`): its round and
    statement, never who wrote it. With `replies` (and CX_ENCRYPTION_KEY set), the one link to
    its author is kept, sealed (bot.services.reply_links), in the same transaction. A comment
    the sensitive-comment screen takes (bot.services.alerts) is not stored at all; the person
    sees the same confirmation either way."""
    comment = clean_comment(text)
    respondent = deps.respondent(slack_user_id)
    cipher = link_cipher(deps) if replies else None
    with deps.write_transaction() as connection:
        facts, target = _open_delivery(
            deps, connection, round_id=round_id, slack_user_id=slack_user_id
        )
        _check_question(facts, question_id)
        if not relay.answered(
            connection, round_id=round_id, respondent=respondent, question_id=question_id
        ):
            raise CommentProblem("comment_modal.error_answer_first")
        language = prompts_for_locale(deps, target.locale).language
        if not screen_comment(deps, connection, text=comment, language=language):
            comment_id = relay.add_pending_comment(
                connection, round_id=round_id, question_id=question_id, text=comment
            )
            if cipher is not None:
                relay.add_link(
                    connection,
                    comment_id=comment_id,
                    # Dated by the round's opening, never by this click (see reply_links).
                    sealed=cipher.seal(Author(slack_user_id), at=facts.opened_at),
                    expires_at=facts.closes_at + timedelta(days=deps.settings.reply_days),
                )
        state = _state(deps, connection, facts=facts, target=target, respondent=respondent)
    # Shown once, in the ephemeral confirmation of this comment: nothing stored says it.
    shown = replace(state, view=replace(state.view, commented=frozenset({question_id})))
    return CommentRecorded(state=shown, replies=cipher is not None)
