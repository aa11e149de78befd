"""Sending a pulse round: plan the questions, create one delivery per person, DM each of them."""

from __future__ import annotations

import logging
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from enum import StrEnum

from sqlmodel import Session

from bot.analytics.periods import (
    EARLIEST_ZONE,
    LATEST_ZONE,
    candidate_periods,
    due_window,
    local_due_at,
    period_key,
    person_zone,
)
from bot.analytics.rotation import plan_round
from bot.db import published
from bot.db import repositories as repo
from bot.db.engine import session_scope
from bot.db.models import Delivery, DeliveryStatus, Member, PulseRound, RoundKind
from bot.errors import (
    NobodyToAsk,
    PulseConfirmationExpired,
    RoundAlreadyThisWeek,
    WeekAlreadyPublished,
)
from bot.render.pulse import PulseView, pulse_message
from bot.services.actions import actions_for_round
from bot.services.context import Deps
from bot.services.directory import refresh_directory
from bot.services.language import prompts_for_locale
from bot.services.ports import DeliveryFailed, SlackGateway
from bot.services.pulse_times import next_pulse_at
from bot.services.round_facts import ActionLine

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RoundReport:
    round_id: int
    period: str
    created: bool
    sent: int
    failed: int


def _plan(deps: Deps, sequence: int) -> list[str]:
    bank = deps.prompts.bank
    rotating = [[q.id for q in d.questions] for d in bank.rotating_dimensions]
    return plan_round(rotating, bank.outcome_questions, sequence, deps.settings.questions_per_round)


def _already(session: Session, week_round: PulseRound) -> RoundAlreadyThisWeek:
    assert week_round.id is not None
    invited, _, _ = repo.invitation_counts(session=session, round_id=week_round.id)
    return RoundAlreadyThisWeek(
        period=week_round.period, opened=week_round.opened_at, invited=invited
    )


def _open_round(
    deps: Deps, session: Session, *, kind: RoundKind, now: datetime, period: str | None = None
) -> tuple[PulseRound, bool]:
    """Create the week's round and its deliveries in one transaction.

    One round a week, whichever kind: both take the period as their schedule key (unique), so
    an ad hoc round is the week's round and the scheduled one is skipped. Scheduled: the
    week's round is reused if it exists. Ad hoc: refused (RoundAlreadyThisWeek) if it exists.

    A scheduled round (of `period`, by default the current one) is due for each person at the
    pulse time on their own wall clock (`local_due_at`); it opens at the earliest of those and
    closes `round_days` after the latest, so everyone gets the full length. Ad hoc: all at once.
    """
    settings = deps.settings
    scheduled = kind is RoundKind.SCHEDULED
    period = period or period_key(now, settings.zone)
    existing = repo.week_round(session=session, period=period)
    if existing is not None:
        if scheduled:
            return existing, False
        raise _already(session, existing)
    if published.is_published(session=session, period=period):
        # A published week is frozen: a new round in it could never be shown.
        raise WeekAlreadyPublished(period=period)
    members = repo.participants(session=session)
    if not scheduled and not members:
        raise NobodyToAsk()  # it would use up the week's round and ask no one

    def due_at(member: Member) -> datetime:
        if not scheduled:
            return now
        zone = person_zone(member.tz, settings.zone)
        return local_due_at(period, settings.pulse_weekly, zone)

    due = [due_at(m) for m in members] or [
        local_due_at(period, settings.pulse_weekly, settings.zone) if scheduled else now
    ]
    created = repo.create_round(
        session=session,
        kind=kind,
        schedule_key=period,
        period=period,
        opened_at=min(*due, now),
        closes_at=max(due) + timedelta(days=settings.round_days),
        question_ids=_plan(deps, repo.next_round_sequence(session=session)),
    )
    if created is None:
        # Another process created this period's round between our check and our insert.
        existing = repo.round_by_schedule_key(session=session, schedule_key=period)
        assert existing is not None
        if scheduled:
            return existing, False
        raise _already(session, existing)
    assert created.id is not None
    repo.create_deliveries(session=session, round_id=created.id, members=members, due_at=due_at)
    return created, True


def _refresh_directory(deps: Deps, gateway: SlackGateway, *, now: datetime) -> None:
    # Directory calls happen outside the round's transaction so no lock is held during them.
    settings = deps.settings
    with session_scope(deps.engine) as session:
        tombstones = repo.forgotten_pseudonyms(session=session)
        refresh_directory(
            session=session,
            gateway=gateway,
            leadership_channel=settings.leadership_channel,
            now=now,
            forgotten=lambda user_id: deps.respondent(user_id) in tombstones,
            team_channels=(settings.team_channels if settings.team_source == "channels" else None),
        )


def send_round(
    deps: Deps, gateway: SlackGateway, *, kind: RoundKind, period: str | None = None
) -> RoundReport:
    """Open this week's round now and deliver the DMs due.

    Scheduled: this period's round, at most one (reused if it exists). Ad hoc: due at once for
    everyone, and it is the week's round, so the scheduled one is skipped; refused when the
    week already has its round (RoundAlreadyThisWeek). `period` is the week a person confirmed
    after `plan_adhoc_round`: if that week is over, nothing is sent (PulseConfirmationExpired).
    The scheduler does not come through here: it runs `run_pulse_schedule`, which opens a
    period's round only once its first local due time has come.
    """
    now = deps.clock.now()
    current = period_key(now, deps.settings.zone)
    if period is not None and period != current:
        raise PulseConfirmationExpired(period=period)
    with session_scope(deps.engine) as session:
        existing = repo.week_round(session=session, period=current)
        if existing is not None and kind is RoundKind.ADHOC:
            raise _already(session, existing)
    if existing is None:
        _refresh_directory(deps, gateway, now=now)
    with session_scope(deps.engine) as session:
        pulse_round, created = _open_round(deps, session, kind=kind, now=now)
    if created:
        deps.metrics.round_opened(kind)
    assert pulse_round.id is not None
    sent, failed = deliver_pending(deps, gateway, round_id=pulse_round.id)
    log.info(
        "pulse round %s (%s): %d sent, %d failed", pulse_round.id, pulse_round.period, sent, failed
    )
    return RoundReport(pulse_round.id, pulse_round.period, created, sent, failed)


def next_scheduled_pulse(
    deps: Deps,
    session: Session,
    *,
    after: datetime,
    zone_name: str | None,
    skip: Collection[str] = (),
) -> datetime | None:
    """When the next scheduled round reaches someone in `zone_name` (aware, in that zone):
    the schedule's next time strictly after `after` in a week that has no round yet (an ad hoc
    round was that week's) and is not in `skip`. None while pulses are paused."""
    settings = deps.settings
    if settings.paused:
        return None
    zone = person_zone(zone_name, settings.zone)
    moment = after
    for _ in range(8):  # a week with a round is skipped; a few in a row at most
        due = next_pulse_at(settings, moment, zone_name)
        period = period_key(due, zone)  # the ISO week of the person's own calendar
        if period not in skip and not repo.periods_with_a_round(session=session, periods=[period]):
            return due
        moment = due
    return None


class ScheduledRound(StrEnum):
    """What an ad hoc round sent now does to the week's scheduled round."""

    SKIPPED = "skipped"  # still to come this week: it is skipped, nobody is asked twice
    PASSED = "passed"  # its time has passed with no round (paused or down then): none to skip
    PAUSED = "paused"  # pulses are paused: no scheduled round would go out this week anyway


@dataclass(frozen=True, slots=True)
class WeekRound:
    """The round a week already has."""

    kind: RoundKind
    opened_at: datetime
    closes_at: datetime
    invited: int
    sent: int  # in people's DMs by now
    waiting: int  # still to go: a scheduled round reaches each person at their local time


@dataclass(frozen=True, slots=True)
class AdhocPlan:
    """What sending a round now (`/cx pulse`, `cxpulse pulse send`) would do, to be confirmed
    first; or, when `existing` is set or nobody would be asked, why nothing would be sent."""

    period: str
    now: datetime
    zone_name: str  # the clock the times are told on: the asker's, else the organisation's
    people: int  # how many would be asked, from the directory as just refreshed
    closes_at: datetime  # when the round would close
    scheduled_at: datetime  # the week's scheduled pulse time, on the asker's clock
    scheduled: ScheduledRound
    existing: WeekRound | None
    next_scheduled: datetime | None  # the next scheduled round after this week's; None: paused

    @property
    def may_send(self) -> bool:
        return self.existing is None and self.people > 0


def plan_adhoc_round(
    deps: Deps, gateway: SlackGateway, *, slack_user_id: str | None = None
) -> AdhocPlan:
    """What an ad hoc round sent now would do: which week, how many people, and what becomes
    of the week's scheduled round. Sends nothing; `send_round(..., period=plan.period)` does.

    The directory is refreshed first so the count is the one the round would use. A week whose
    results are published refuses (WeekAlreadyPublished) unless it has a round to tell about.
    """
    settings = deps.settings
    now = deps.clock.now()
    period = period_key(now, settings.zone)
    with session_scope(deps.engine) as session:
        found = repo.week_round(session=session, period=period)
        existing = None
        if found is not None:
            assert found.id is not None
            invited, sent, waiting = repo.invitation_counts(session=session, round_id=found.id)
            existing = WeekRound(
                RoundKind(found.kind), found.opened_at, found.closes_at, invited, sent, waiting
            )
        elif published.is_published(session=session, period=period):
            raise WeekAlreadyPublished(period=period)
    if existing is None:
        _refresh_directory(deps, gateway, now=now)
    weekly = settings.pulse_weekly
    with session_scope(deps.engine) as session:
        member = (
            repo.get_member(session=session, slack_user_id=slack_user_id) if slack_user_id else None
        )
        zone_name = (member.tz if member is not None else None) or settings.timezone
        people = len(repo.participants(session=session))
        _, last = due_window(period, weekly, _zones(deps, session))
        next_scheduled = next_scheduled_pulse(
            deps, session, after=now, zone_name=zone_name, skip={period}
        )
    if settings.paused:
        scheduled = ScheduledRound.PAUSED
    elif now > last + timedelta(hours=settings.misfire_grace_hours):
        scheduled = ScheduledRound.PASSED  # the pulse job no longer opens a round this late
    else:
        scheduled = ScheduledRound.SKIPPED
    return AdhocPlan(
        period=period,
        now=now,
        zone_name=zone_name,
        people=people,
        closes_at=now + timedelta(days=settings.round_days),
        scheduled_at=local_due_at(period, weekly, person_zone(zone_name, settings.zone)),
        scheduled=scheduled,
        existing=existing,
        next_scheduled=next_scheduled,
    )


@dataclass(frozen=True, slots=True)
class ScheduleRun:
    opened: tuple[str, ...]  # the periods whose scheduled round this run opened
    sent: int
    failed: int


def _zones(deps: Deps, session: Session) -> list[tzinfo]:
    known = repo.participant_zones(session=session)
    zones = {person_zone(name, deps.settings.zone) for name in known}
    return list(zones) or [deps.settings.zone]


def run_pulse_schedule(deps: Deps, gateway: SlackGateway) -> ScheduleRun:
    """One run of the scheduler's pulse job (every few minutes): open each period's round once
    the first of its people's local due times has come, then send every DM that is due.

    A period's round is opened at most once (its schedule key is unique) and only while it is
    timely: from its earliest local due time until `CX_MISFIRE_GRACE_HOURS` after its latest,
    so a scheduler started mid-week does not send a stale round. The directory is mirrored
    before a round opens, and also once as a period's window begins (the first moment any
    zone reaches the pulse time), so the people who are due first are known in time.
    Reads `pulse_schedule` afresh each run; pausing is the caller's business (bot.jobs).
    """
    now = deps.clock.now()
    settings = deps.settings
    weekly = settings.pulse_weekly
    grace = timedelta(hours=settings.misfire_grace_hours)
    stale_before = now - timedelta(seconds=settings.claim_stale_seconds)
    with session_scope(deps.engine) as session:
        waiting = [
            period
            for period in candidate_periods(now, settings.zone)
            if repo.week_round(session=session, period=period) is None  # ad hoc counts too
            and local_due_at(period, weekly, EARLIEST_ZONE)
            <= now
            <= local_due_at(period, weekly, LATEST_ZONE) + grace
        ]
        seen = repo.directory_seen_at(session=session)
    refreshed = False
    if any(seen is None or seen < local_due_at(p, weekly, EARLIEST_ZONE) for p in waiting):
        _refresh_directory(deps, gateway, now=now)
        refreshed = True
    opened: list[str] = []
    for period in waiting:
        with session_scope(deps.engine) as session:
            first, last = due_window(period, weekly, _zones(deps, session))
        if not first <= now <= last + grace:
            continue
        if not refreshed:
            _refresh_directory(deps, gateway, now=now)
            refreshed = True
        try:
            with session_scope(deps.engine) as session:
                pulse_round, created = _open_round(
                    deps, session, kind=RoundKind.SCHEDULED, now=now, period=period
                )
        except WeekAlreadyPublished:
            # The week was published without a live round (imported history): it is frozen.
            log.info("no scheduled round for %s: the week is already published", period)
            continue
        if created:
            opened.append(period)
            deps.metrics.round_opened(RoundKind.SCHEDULED)
            log.info("pulse round %s (%s) opened", pulse_round.id, period)
    with session_scope(deps.engine) as session:
        due_rounds = repo.rounds_with_due_deliveries(
            session=session, now=now, stale_before=stale_before
        )
    sent = failed = 0
    for round_id in due_rounds:
        round_sent, round_failed = deliver_pending(deps, gateway, round_id=round_id)
        log.info("pulse round %s: %d sent, %d failed", round_id, round_sent, round_failed)
        sent, failed = sent + round_sent, failed + round_failed
    return ScheduleRun(tuple(opened), sent, failed)


def _view_for(
    deps: Deps,
    pulse_round: PulseRound,
    questions: tuple[tuple[str, str], ...],
    member: Member,
    actions: tuple[ActionLine, ...],
) -> PulseView:
    assert pulse_round.id is not None
    return PulseView(
        actions=actions,
        round_id=pulse_round.id,
        period=pulse_round.period,
        closes_at=pulse_round.closes_at,
        zone_name=member.tz or deps.settings.timezone,
        questions=questions,
        min_group_size=deps.settings.min_group_size,
    )


CLAIM_BATCH = 5


def deliver_pending(deps: Deps, gateway: SlackGateway, *, round_id: int) -> tuple[int, int]:
    """Send every unsent DM of a round through the outbox; any number of workers may run this.

    Each worker claims a batch, sends it (several at a time, paced by the gateway), and records
    each outcome as soon as it is known. A claim left behind by a crashed worker becomes
    claimable again after `CX_CLAIM_STALE_SECONDS`, and the retaking worker first looks for the
    already-posted DM, so a crash between sending and recording never causes a second DM.
    """
    with session_scope(deps.engine) as session:
        pulse_round = repo.get_round(session=session, round_id=round_id)
        assert pulse_round is not None
        questions = tuple(
            (q.id, q.text) for q in repo.round_questions(session=session, round_id=round_id)
        )
    stale = timedelta(seconds=deps.settings.claim_stale_seconds)
    actions = tuple(a.line() for a in actions_for_round(deps, opened_at=pulse_round.opened_at))

    def worker() -> tuple[int, int]:
        # Each worker claims its own small batches, so one slow send never holds up the rest.
        sent = failed = 0
        while True:
            now = deps.clock.now()
            with session_scope(deps.engine) as session:
                token, batch = repo.claim_deliveries(
                    session=session,
                    round_id=round_id,
                    limit=CLAIM_BATCH,
                    now=now,
                    stale_before=now - stale,
                )
            if not batch:
                return sent, failed
            for delivery, member in batch:
                delivered = _send_one(
                    deps,
                    gateway,
                    pulse_round=pulse_round,
                    questions=questions,
                    actions=actions,
                    delivery=delivery,
                    member=member,
                    token=token,
                )
                if delivered is not None:  # None: another worker took this one over
                    sent, failed = sent + delivered, failed + (not delivered)

    workers = deps.settings.send_workers
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cx-send") as pool:
        results = [future.result() for future in [pool.submit(worker) for _ in range(workers)]]
    return sum(r[0] for r in results), sum(r[1] for r in results)


def _send_one(
    deps: Deps,
    gateway: SlackGateway,
    *,
    pulse_round: PulseRound,
    questions: tuple[tuple[str, str], ...],
    actions: tuple[ActionLine, ...],
    delivery: Delivery,
    member: Member,
    token: str,
) -> bool | None:
    """Post one claimed DM and record the outcome: True delivered, False refused by Slack,
    None when the claim was lost to another worker before sending."""
    assert delivery.id is not None
    with session_scope(deps.engine) as session:
        # A batch can take a while; the stale clock runs from this item's send, not the claim.
        if not repo.renew_claim(
            session=session, delivery_id=delivery.id, token=token, now=deps.clock.now()
        ):
            return None
    if delivery.attempts > 1:  # a claim a crashed or stalled worker left behind, taken over
        deps.metrics.dm_retried("reclaimed")
    # Rendered at send time in the person's own language (their Slack locale).
    message = pulse_message(
        _view_for(deps, pulse_round, questions, member, actions),
        prompts_for_locale(deps, member.locale),
    )
    try:
        posted = gateway.deliver_dm(
            member.slack_user_id,
            message,
            key=f"delivery:{delivery.id}",
            maybe_sent=delivery.attempts > 1,
        )
    except DeliveryFailed as exc:
        with session_scope(deps.engine) as session:
            repo.finish_delivery(
                session=session,
                delivery_id=delivery.id,
                token=token,
                status=DeliveryStatus.FAILED,
                error=exc.error,
                now=deps.clock.now(),
            )
        deps.metrics.dm_failed(exc.error)
        return False
    with session_scope(deps.engine) as session:
        repo.finish_delivery(
            session=session,
            delivery_id=delivery.id,
            token=token,
            status=DeliveryStatus.SENT,
            channel=posted.channel,
            ts=posted.ts,
            now=deps.clock.now(),
        )
    deps.metrics.dm_sent()
    return True
