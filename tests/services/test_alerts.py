"""The outbox of comments passed to admins, against the Slack emulator and a real database:
queued in the caller's transaction (sealed when a key is set, no author), delivered once to
every admin, retried after a failure without a second DM, kept while there is no admin or no
key that opens it, and counted by `cxpulse doctor`, /metrics and the week."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet
from slack_sdk import WebClient
from sqlalchemy import select

from bot.clock import ManualClock
from bot.db import alerts as store
from bot.db.models import PulseRound
from bot.metrics import PrometheusMetrics
from bot.runtime import build_deps
from bot.sandbox.emulator import SlackEmulator
from bot.services.alerts import CLAIM_STALE, deliver_alerts, screen_comment, undelivered
from bot.services.context import Deps
from bot.slack.gateway import WebClientGateway
from tests.e2e.conftest import TOKEN, install_org, make_settings

HARASSMENT = "My team lead keeps harassing me <!channel> & nobody acts."
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
ADMINS = "UADMIN,UFREE1"


@pytest.fixture
def emulator() -> Iterator[SlackEmulator]:
    with SlackEmulator(bot_token=TOKEN, signing_secret="s") as emu:
        install_org(emu)
        yield emu


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


def _deps(emulator: SlackEmulator, url: str, clock: ManualClock, **extra: str) -> Deps:
    settings = make_settings(emulator, url, **{"CX_ADMINS": ADMINS, **extra})
    return build_deps(settings, clock=clock, metrics=PrometheusMetrics())


@pytest.fixture
def key() -> str:
    return Fernet.generate_key().decode()


@pytest.fixture
def deps(
    emulator: SlackEmulator, database_url: str, clock: ManualClock, key: str
) -> Iterator[Deps]:
    built = _deps(emulator, database_url, clock, CX_ENCRYPTION_KEY=key)
    yield built
    built.engine.dispose()


def gateway(emulator: SlackEmulator) -> WebClientGateway:
    """The real gateway without the client's own backoff, so a failing Slack fails fast."""
    client = WebClient(token=TOKEN, base_url=emulator.api_url, retry_handlers=[])
    return WebClientGateway(client, retry_pause=lambda attempt: None)


def _queue(deps: Deps, text: str = HARASSMENT, language: str = "en") -> bool:
    with deps.write_transaction() as connection:
        return screen_comment(deps, connection, text=text, language=language)


def _rows(deps: Deps) -> list[store.CommentAlert]:
    with deps.engine.connect() as connection:
        return [
            store.CommentAlert.model_validate(dict(r._mapping))
            for r in connection.execute(select(store.ALERTS))
        ]


def _dms(emulator: SlackEmulator, user: str) -> list[str]:
    return [str(m.get("blocks")) for m in emulator.messages(emulator.dm_channel(user))]


def test_an_ordinary_comment_is_not_queued_and_a_report_is_sealed_without_an_author(
    deps: Deps, key: str
) -> None:
    assert _queue(deps, "The CRM is slow and we need more people.") is False
    assert _rows(deps) == []
    assert _queue(deps) is True
    (row,) = _rows(deps)
    assert (row.category, row.language, row.delivered, row.text) == (
        "harassment",
        "en",
        False,
        None,
    )
    assert row.period == "2026-W48"  # no round open: the organisation's week
    assert row.sealed_text is not None
    assert HARASSMENT not in row.sealed_text
    assert Fernet(key.encode()).decrypt(row.sealed_text.encode()).decode() == HARASSMENT
    # The token's clear timestamp dates nothing (not the moment the comment was written).
    assert Fernet(key.encode()).extract_timestamp(row.sealed_text.encode()) == 0
    assert row.claimed_at is None
    # Nothing in the row could name the author: no user, pseudonym, round or time column.
    assert set(store.ALERTS.c.keys()) == {
        "id",
        "period",
        "category",
        "language",
        "delivery_key",
        "text",
        "sealed_text",
        "delivered",
        "attempts",
        "last_error",
        "claim_token",
        "claimed_at",
    }


def test_the_alert_counts_in_the_week_of_the_open_round(deps: Deps, clock: ManualClock) -> None:
    from bot.db.engine import session_scope

    with session_scope(deps.engine) as session:
        session.add(
            PulseRound(
                kind="adhoc",
                period="2026-W47",
                sequence=1,
                opened_at=NOW - timedelta(days=6),
                closes_at=NOW + timedelta(hours=1),
            )
        )
    assert _queue(deps)
    assert [r.period for r in _rows(deps)] == ["2026-W47"]


def test_every_admin_gets_one_dm_with_the_text_escaped_then_the_text_is_gone(
    deps: Deps, emulator: SlackEmulator
) -> None:
    _queue(deps)
    run = deliver_alerts(deps, gateway(emulator))
    assert (run.delivered, run.waiting) == (1, 0)
    for admin in ADMINS.split(","):
        (dm,) = _dms(emulator, admin)
        assert "harassment" in dm
        assert "What to do next" in dm
        assert "&lt;!channel&gt; &amp; nobody acts" in dm  # escaped, so it pings nobody
        assert "<!channel>" not in dm
    (row,) = _rows(deps)
    assert (row.delivered, row.text, row.sealed_text, row.claim_token, row.claimed_at) == (
        True,
        None,
        None,
        None,
        None,
    )
    with deps.engine.connect() as connection:
        assert store.week_count(connection, period=row.period) == 1
    # Delivered once: another run sends nothing.
    assert deliver_alerts(deps, gateway(emulator)).delivered == 0
    assert len(_dms(emulator, "UADMIN")) == 1


def test_a_failed_send_is_retried_without_a_second_dm_to_the_admin_who_had_it(
    deps: Deps, emulator: SlackEmulator, clock: ManualClock
) -> None:
    _queue(deps)
    # The first admin (in sorted order) meets Slack failing on every attempt; the second
    # gets the DM. The alert stays queued, with why.
    emulator.fail_next("chat.postMessage", error="internal_error", status=500, times=4)
    run = deliver_alerts(deps, gateway(emulator))
    assert (run.delivered, run.waiting) == (0, 1)
    assert _dms(emulator, "UADMIN") == []
    assert len(_dms(emulator, "UFREE1")) == 1
    waiting = undelivered(deps)
    assert (waiting.count, waiting.last_error) == (1, "SlackApiError")
    (row,) = _rows(deps)
    assert row.sealed_text is not None  # kept until it has reached them
    body = deps.metrics.exposition()
    assert body is not None
    assert b'cxpulse_alert_failures_total{reason="SlackApiError"} 1.0' in body[1]
    # The scheduler's next run: the first admin gets it; the second is found to have it
    # already (the DM's metadata carries the alert's key) and gets no second one.
    clock.advance(timedelta(seconds=20))
    assert deliver_alerts(deps, gateway(emulator)).delivered == 1
    assert len(_dms(emulator, "UADMIN")) == 1
    assert len(_dms(emulator, "UFREE1")) == 1
    assert undelivered(deps).count == 0


def test_with_no_admin_it_waits_and_doctor_says_so_until_one_is_set(
    emulator: SlackEmulator, database_url: str, clock: ManualClock
) -> None:
    from bot.prompts import load_prompts
    from bot.services.doctor import check_alerts

    nobody = _deps(emulator, database_url, clock, CX_ADMINS="")
    copy = load_prompts().copy
    assert check_alerts(nobody.settings, nobody.engine, copy).passed
    _queue(nobody)
    assert deliver_alerts(nobody, gateway(emulator)).waiting == 1
    check = check_alerts(nobody.settings, nobody.engine, copy)
    assert not check.passed
    assert "1 comment(s)" in check.detail
    assert check.fix is not None
    assert "CX_ADMINS" in check.fix
    # Without a key the text waits as written; once an admin is set it goes, and is wiped.
    (row,) = _rows(nobody)
    assert row.text == HARASSMENT
    admins = _deps(emulator, database_url, clock)
    assert deliver_alerts(admins, gateway(emulator)).delivered == 1
    assert check_alerts(admins.settings, admins.engine, copy).passed
    assert [(r.text, r.delivered) for r in _rows(admins)] == [(None, True)]
    nobody.engine.dispose()
    admins.engine.dispose()


def test_an_admin_slack_refuses_for_good_does_not_hold_back_the_others(
    emulator: SlackEmulator, database_url: str, clock: ManualClock
) -> None:
    deps = _deps(emulator, database_url, clock, CX_ADMINS="UADMIN,UNOBODY")
    _queue(deps)
    assert deliver_alerts(deps, gateway(emulator)).delivered == 1
    assert len(_dms(emulator, "UADMIN")) == 1
    # If no admin at all can receive it, it waits (never dropped).
    only_wrong = _deps(emulator, database_url, clock, CX_ADMINS="UNOBODY")
    _queue(only_wrong)
    assert deliver_alerts(only_wrong, gateway(emulator)).waiting == 1
    assert undelivered(only_wrong).count == 1
    deps.engine.dispose()
    only_wrong.engine.dispose()


def test_a_key_that_cannot_open_it_keeps_it_queued_and_rotate_keys_carries_it_over(
    deps: Deps, emulator: SlackEmulator, database_url: str, clock: ManualClock, key: str
) -> None:
    from bot.services.encryption_keys import reencrypt_database

    _queue(deps)
    other = Fernet.generate_key().decode()
    wrong = _deps(emulator, database_url, clock, CX_ENCRYPTION_KEY=other)
    assert deliver_alerts(wrong, gateway(emulator)).waiting == 1
    assert undelivered(wrong).last_error == "undecryptable"
    # `cxpulse rotate-keys` with the new key first re-seals it; the new key alone opens it.
    done = reencrypt_database(deps.engine, keys=(other, key), scopes=("main", "workspace"))
    assert done is not None
    assert done.values >= 1
    assert deliver_alerts(wrong, gateway(emulator)).delivered == 1
    assert len(_dms(emulator, "UADMIN")) == 1
    wrong.engine.dispose()


def test_a_claim_left_by_a_sender_that_died_is_taken_over(
    deps: Deps, emulator: SlackEmulator, clock: ManualClock
) -> None:
    _queue(deps)
    (row,) = _rows(deps)
    assert row.id is not None
    with deps.write_transaction() as connection:
        assert store.claim(
            connection, alert_id=row.id, token="dead", now=NOW, stale_before=NOW - CLAIM_STALE
        )
    assert deliver_alerts(deps, gateway(emulator)).delivered == 0  # someone is on it
    clock.advance(CLAIM_STALE + timedelta(seconds=1))
    assert deliver_alerts(deps, gateway(emulator)).delivered == 1
    assert len(_dms(emulator, "UADMIN")) == 1


def test_the_scheduler_retries_alerts_every_twenty_seconds(
    emulator: SlackEmulator, database_url: str
) -> None:
    from apscheduler.jobstores.memory import MemoryJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    from bot import scheduling

    settings = make_settings(emulator, database_url)
    scheduler = BackgroundScheduler(jobstores={"default": MemoryJobStore()})
    scheduler.start(paused=True)
    try:
        scheduling.install_jobs(scheduler, settings)
        job = scheduler.get_job(scheduling.ALERTS_JOB_ID)
        assert job.func_ref == "bot.jobs:scheduled_alerts"
        start = datetime(2026, 11, 24, 10, 0, 1, tzinfo=UTC)
        first = scheduling.next_fire(job.trigger, start)
        second = scheduling.next_fire(job.trigger, first)
        assert (first - start).total_seconds() <= 20
        assert (second - first).total_seconds() == 20
    finally:
        scheduler.shutdown(wait=False)
