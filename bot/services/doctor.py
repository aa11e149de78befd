"""`cxpulse doctor`: is this install sound? Checks that say in plain words what to fix."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine, column, inspect, select, table
from sqlalchemy.exc import SQLAlchemyError

from bot.db import team_leads
from bot.db.engine import session_scope
from bot.db.migrate import current_revision, head_revision, known_revisions
from bot.manifest import bot_scopes, scope_reasons
from bot.prompts import Copy
from bot.services.config import WorkspaceConfig
from bot.settings import Settings

SCOPES_HEADER = "x-oauth-scopes"


@dataclass(frozen=True, slots=True)
class Check:
    """One check's outcome: what was found and, when it failed, what to do about it."""

    title: str
    passed: bool
    detail: str
    fix: str | None = None
    items: tuple[str, ...] = ()  # e.g. each missing scope with why it is needed
    note: str | None = None


@dataclass(frozen=True, slots=True)
class BotIdentity:
    """What auth.test said about the token."""

    team: str
    user: str
    user_id: str
    scopes: frozenset[str] | None  # None when Slack sent no x-oauth-scopes header


def granted_scopes(headers: Mapping[str, Any]) -> frozenset[str] | None:
    """The scopes in Slack's x-oauth-scopes header (any capitalisation), None if absent."""
    for name, value in headers.items():
        if name.lower() == SCOPES_HEADER:
            text = ",".join(value) if isinstance(value, list) else str(value)
            return frozenset(part.strip() for part in text.split(",") if part.strip())
    return None


def _failed(copy: Copy, area: str, problem: str, **values: Any) -> Check:
    return Check(
        title=copy.t(f"doctor.{area}.title"),
        passed=False,
        detail=copy.t(f"doctor.{area}.{problem}", **values),
        fix=copy.t(f"doctor.{area}.{problem}_fix", **values),
    )


def _skipped(copy: Copy, area: str) -> Check:
    return Check(
        title=copy.t(f"doctor.{area}.title"),
        passed=False,
        detail=copy.t("doctor.skipped"),
        fix=copy.t("doctor.skipped_fix"),
    )


def _error_code(error: SlackApiError) -> str:
    return str(error.response.get("error") or error.response.status_code)


def check_token(
    settings: Settings, client: WebClient, copy: Copy
) -> tuple[Check, BotIdentity | None]:
    """SLACK_BOT_TOKEN is set and auth.test accepts it."""
    if not settings.slack_bot_token:
        return _failed(copy, "token", "missing"), None
    try:
        response = client.auth_test()
    except SlackApiError as error:
        return _failed(copy, "token", "refused", error=_error_code(error)), None
    except OSError as error:  # urllib's URLError included: Slack is out of reach
        problem = type(error).__name__
        return _failed(
            copy, "token", "unreachable", url=settings.slack_api_url, error=problem
        ), None
    identity = BotIdentity(
        team=str(response.get("team") or response.get("team_id") or "?"),
        user=str(response.get("user") or "?"),
        user_id=str(response.get("user_id") or "?"),
        scopes=granted_scopes(response.headers or {}),
    )
    detail = copy.t(
        "doctor.token.ok", team=identity.team, user=identity.user, user_id=identity.user_id
    )
    return Check(copy.t("doctor.token.title"), True, detail), identity


def check_scopes(granted: frozenset[str] | None, copy: Copy) -> Check:
    """Every scope the manifest asks for is granted; extra ones are only noted."""
    title = copy.t("doctor.scopes.title")
    if granted is None:
        return _failed(copy, "scopes", "unknown")
    wanted = bot_scopes()
    missing = [scope for scope in wanted if scope not in granted]
    extra = sorted(granted - set(wanted))
    note = copy.t("doctor.scopes.extra", scopes=", ".join(extra)) if extra else None
    if not missing:
        return Check(title, True, copy.t("doctor.scopes.ok", count=len(wanted)), note=note)
    reasons = scope_reasons(copy)
    return Check(
        title,
        False,
        copy.t("doctor.scopes.missing", count=len(missing), scopes=", ".join(missing)),
        fix=copy.t("doctor.scopes.missing_fix"),
        items=tuple(
            copy.t("doctor.scopes.missing_line", scope=scope, reason=reasons[scope])
            for scope in missing
        ),
        note=note,
    )


def check_leadership_channel(
    settings: Settings, client: WebClient, copy: Copy, *, bot_name: str
) -> Check:
    """CX_LEADERSHIP_CHANNEL exists, the bot is in it and can read its members."""
    channel = settings.leadership_channel
    if not channel:
        return _failed(copy, "channel", "unset")
    method = "conversations.info"
    try:
        found = client.conversations_info(channel=channel)["channel"]
        method = "conversations.members"
        client.conversations_members(channel=channel, limit=1)
    except SlackApiError as error:
        code = _error_code(error)
        if code == "channel_not_found":
            return _failed(copy, "channel", "not_found", channel=channel, bot=bot_name)
        return _failed(copy, "channel", "refused", method=method, channel=channel, error=code)
    name = str(found.get("name") or channel)
    if not found.get("is_member"):
        return _failed(copy, "channel", "not_member", channel=channel, name=name, bot=bot_name)
    detail = copy.t("doctor.channel.ok", channel=channel, name=name)
    return Check(copy.t("doctor.channel.title"), True, detail)


def _first_line(error: BaseException) -> str:
    cause = getattr(error, "orig", None) or error
    lines = str(cause).strip().splitlines()
    return (lines[0] if lines else type(cause).__name__)[:200]


def check_database(engine: Engine, copy: Copy) -> Check:
    """The database answers and its schema is at the newest migration (nothing is migrated)."""
    head = head_revision()
    try:
        at = current_revision(engine)
    except SQLAlchemyError as error:
        return _failed(copy, "database", "unreachable", error=_first_line(error))
    if at == head:
        return Check(copy.t("doctor.database.title"), True, copy.t("doctor.database.ok", head=head))
    title = copy.t("doctor.database.title")
    migrate = copy.t("doctor.database.migrate_fix")
    if at is None:
        return Check(title, False, copy.t("doctor.database.empty"), fix=migrate)
    if at not in known_revisions():
        return _failed(copy, "database", "ahead", current=at)
    return Check(title, False, copy.t("doctor.database.behind", current=at, head=head), fix=migrate)


def check_pseudonym_key(settings: Settings, copy: Copy) -> Check:
    """CX_PSEUDONYM_KEY is set (its length is checked when settings load)."""
    if settings.pseudonym_key is None:
        return _failed(copy, "key", "missing")
    return Check(copy.t("doctor.key.title"), True, copy.t("doctor.key.ok"))


def check_web_report(settings: Settings, copy: Copy) -> Check:
    """Whether /report is on; optional, so off passes, but half of its settings is a mistake."""
    title = copy.t("web_auth.doctor.title")
    missing = settings.web_report_missing
    url = settings.public_url or "<CX_PUBLIC_URL>"
    if missing and not (settings.public_url or settings.session_secret):
        return Check(title, True, copy.t("web_auth.doctor.disabled"))
    if missing:
        variables = ", ".join(missing)
        return Check(
            title,
            False,
            copy.t("web_auth.doctor.partial", variables=variables),
            fix=copy.t("web_auth.doctor.partial_fix", variables=variables, url=url),
        )
    detail = copy.t(
        "web_auth.doctor.enabled",
        url=url,
        hours=settings.session_hours,
        seconds=settings.role_recheck_seconds,
    )
    host = urllib.parse.urlsplit(url).hostname or ""
    local = host in {"localhost", "127.0.0.1", "::1"}
    note = copy.t("web_auth.doctor.plain_http") if url.startswith("http://") and not local else None
    return Check(title, True, detail, note=note)


def check_alerts(settings: Settings, engine: Engine, copy: Copy) -> Check:
    """Comments passed to admins that have not reached them yet (bot.services.alerts): a
    failure, since they wait for someone; no admin set is only a note while none waits."""
    from bot.db.alerts import waiting

    title = copy.t("alerts.doctor_title")
    try:
        admins = WorkspaceConfig(engine).effective(settings).admins
        with engine.connect() as connection:
            found = waiting(connection)
    except SQLAlchemyError as error:
        return Check(title, False, copy.t("doctor.database.unreachable", error=_first_line(error)))
    if not found.count:
        if admins:
            return Check(title, True, copy.t("alerts.doctor_ok"))
        return Check(
            title,
            True,
            copy.t("alerts.doctor_ok_no_admins"),
            note=copy.t("alerts.doctor_no_admins_fix"),
        )
    return Check(
        title,
        False,
        copy.t(
            "alerts.doctor_waiting",
            count=found.count,
            error=found.last_error or "-",
            attempts=found.most_attempts,
        ),
        fix=copy.t("alerts.doctor_no_admins_fix" if not admins else "alerts.doctor_waiting_fix"),
    )


MAX_TEAMS_LISTED = 10


def check_team_nudges(settings: Settings, engine: Engine, copy: Copy) -> Check:
    """Every team the directory knows has a lead or a nudge channel, else its nudge reaches
    nobody. Only a note, never a failure: an install may not use team nudges at all."""
    title = copy.t("team_leads.doctor_title")
    try:
        # The settings in force: the environment under the admins' stored choices.
        effective = WorkspaceConfig(engine).effective(settings)
        with session_scope(engine) as session:
            teams = team_leads.directory_teams(session=session)
    except SQLAlchemyError:
        return Check(title, True, copy.t("team_leads.doctor_unknown"))
    covered = set(effective.team_leads) | set(effective.team_channels)
    orphans = [team for team in teams if team not in covered]
    if not teams:
        return Check(title, True, copy.t("team_leads.doctor_no_teams"))
    if not orphans:
        return Check(title, True, copy.t("team_leads.doctor_ok", count=len(teams)))
    shown = ", ".join(orphans[:MAX_TEAMS_LISTED]) + (
        ", …" if len(orphans) > MAX_TEAMS_LISTED else ""
    )
    return Check(
        title,
        True,
        copy.t("team_leads.doctor_orphans", count=len(orphans), total=len(teams)),
        note=copy.t("team_leads.doctor_orphans_note", teams=shown),
    )


def _when(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def check_scheduler(
    settings: Settings, engine: Engine, copy: Copy, *, now: datetime | None = None
) -> Check:
    """A scheduler is running on this database. Every running scheduler moves each stored job's
    next run time forward as it runs it, and the pulse job runs every few minutes, so a pulse
    job due well in the past means no scheduler has run for that long. None stored yet: none
    has started (a note, not a failure: a new install has not started one yet)."""
    from bot.scheduling import JOB_TABLE, PULSE_EVERY_MINUTES, PULSE_JOB_ID

    title = copy.t("metrics.doctor_scheduler_title")
    now = now or datetime.now(UTC)
    jobs = table(JOB_TABLE, column("id"), column("next_run_time"))
    try:
        if not inspect(engine).has_table(JOB_TABLE):
            stored: dict[str, float | None] = {}
        else:
            with engine.connect() as connection:
                rows = connection.execute(select(jobs.c.id, jobs.c.next_run_time))
                stored = {str(job): None if at is None else float(at) for job, at in rows}
    except SQLAlchemyError as error:
        return Check(
            title,
            False,
            copy.t("metrics.doctor_scheduler_unreadable", error=_first_line(error)),
            fix=copy.t("metrics.doctor_scheduler_unreadable_fix"),
        )
    if not stored:
        note = copy.t("metrics.doctor_scheduler_never_note")
        return Check(title, True, copy.t("metrics.doctor_scheduler_never"), note=note)
    zone = settings.zone
    items = tuple(
        copy.t(
            "metrics.doctor_scheduler_job",
            job=job,
            next=_when(datetime.fromtimestamp(at, UTC), zone) if at is not None else "-",
        )
        for job, at in sorted(stored.items())
    )
    pulse_at = stored.get(PULSE_JOB_ID)
    if pulse_at is None:
        return Check(
            title,
            False,
            copy.t("metrics.doctor_scheduler_no_pulse", jobs=len(stored)),
            fix=copy.t("metrics.doctor_scheduler_no_pulse_fix"),
            items=items,
        )
    due = datetime.fromtimestamp(pulse_at, UTC)
    # A running scheduler moves it on within moments of each run; two runs missed is a stop.
    if due < now - timedelta(minutes=2 * PULSE_EVERY_MINUTES):
        late = int((now - due).total_seconds() // 60)
        return Check(
            title,
            False,
            copy.t("metrics.doctor_scheduler_stopped", due=_when(due, zone), minutes=late),
            fix=copy.t("metrics.doctor_scheduler_stopped_fix"),
            items=items,
        )
    detail = copy.t(
        "metrics.doctor_scheduler_ok", next=_when(due, zone), minutes=PULSE_EVERY_MINUTES
    )
    return Check(title, True, detail, items=items)


@dataclass(frozen=True, slots=True)
class Scrape:
    """What one metrics endpoint answered: its cx-pulse series, or why there are none."""

    up: bool
    series: int = 0
    failed_runs: int = 0
    problem: str | None = None  # it answered, but not with cx-pulse metrics


def scrape(url: str, *, timeout: float = 2.0) -> Scrape:
    """GET `url` and read it as Prometheus text: how many cxpulse_ series it holds, and how
    many scheduled job runs it counts as failed. Nothing listening there: not up."""
    from prometheus_client.parser import text_string_to_metric_families

    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - http://
            body = response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return Scrape(up=True, problem=f"HTTP {error.code}")
    except OSError:  # refused, unreachable, timed out (URLError included)
        return Scrape(up=False)
    series = failed = 0
    try:
        for family in text_string_to_metric_families(body):
            for sample in family.samples:
                if not sample.name.startswith("cxpulse_"):
                    continue
                series += 1
                if (
                    sample.name == "cxpulse_scheduler_job_runs_total"
                    and sample.labels.get("outcome") == "error"
                ):
                    failed += int(sample.value)
    except ValueError as error:
        return Scrape(up=True, problem=type(error).__name__)
    if not series:
        return Scrape(up=True, problem="no cxpulse_ metrics")
    return Scrape(up=True, series=series, failed_runs=failed)


def check_metrics(
    settings: Settings,
    copy: Copy,
    *,
    host: str = "127.0.0.1",
    read: Callable[[str], Scrape] = scrape,
) -> Check:
    """What serves metrics on this host: the web process's GET /metrics on PORT, and the
    scheduler's on CX_METRICS_PORT. A process not running here is only reported (it may run
    on another host); something else answering on one of those ports fails."""
    title = copy.t("metrics.doctor_metrics_title")
    endpoints = [(copy.t("metrics.doctor_metrics_web"), settings.port)]
    if settings.metrics_port is not None:
        endpoints.append((copy.t("metrics.doctor_metrics_scheduler"), settings.metrics_port))
    items: list[str] = []
    wrong: list[str] = []
    up = failed = 0
    for process, port in endpoints:
        url = f"http://{host}:{port}/metrics"
        found = read(url)
        if found.problem is not None:
            wrong.append(url)
            line = copy.t("metrics.doctor_metrics_wrong", process=process, url=url)
            items.append(f"{line} ({found.problem})")
        elif found.up:
            up += 1
            failed += found.failed_runs
            items.append(
                copy.t("metrics.doctor_metrics_up", process=process, url=url, series=found.series)
            )
        else:
            items.append(copy.t("metrics.doctor_metrics_down", process=process, url=url))
    if settings.metrics_port is None:
        items.append(copy.t("metrics.doctor_metrics_unset"))
    note = copy.t("metrics.doctor_metrics_failed_runs", count=failed) if failed else None
    if wrong:
        return Check(
            title,
            False,
            copy.t("metrics.doctor_metrics_wrong_detail", urls=", ".join(wrong)),
            fix=copy.t("metrics.doctor_metrics_wrong_fix"),
            items=tuple(items),
            note=note,
        )
    detail = copy.t("metrics.doctor_metrics_ok", up=up, count=len(endpoints))
    return Check(title, True, detail, items=tuple(items), note=note)


def _slack_checks(settings: Settings, client: WebClient, copy: Copy) -> list[Check]:
    token, identity = check_token(settings, client, copy)
    checks = [token]
    if identity is None:
        checks += [_skipped(copy, "scopes"), _skipped(copy, "channel")]
    else:
        checks.append(check_scopes(identity.scopes, copy))
        checks.append(check_leadership_channel(settings, client, copy, bot_name=identity.user))
    return checks


def installed_checks(
    settings: Settings,
    installed: Sequence[tuple[str, str]],
    client_for: Callable[[str], WebClient],
    copy: Copy,
) -> list[Check]:
    """With OAuth installs: the Slack checks once per installed workspace, with its own token."""
    if not installed:
        return [_failed(copy, "workspaces", "none")]
    checks: list[Check] = []
    for team_id, token in installed:
        scoped = settings.model_copy(update={"slack_bot_token": token})
        checks += [
            replace(check, title=f"{check.title} ({team_id})")
            for check in _slack_checks(scoped, client_for(token), copy)
        ]
    return checks


def run_checks(
    *,
    settings: Settings,
    client: WebClient,
    engine: Engine,
    copy: Copy,
    installed: Sequence[tuple[str, str]] | None = None,
    client_for: Callable[[str], WebClient] | None = None,
) -> list[Check]:
    """Every check, in the order an operator would fix them. `installed` ((team id, token) per
    OAuth install) replaces the single SLACK_BOT_TOKEN when the app serves many workspaces."""
    if installed is None or client_for is None:
        checks = _slack_checks(settings, client, copy)
    else:
        checks = installed_checks(settings, installed, client_for, copy)
    checks.append(check_database(engine, copy))
    checks.append(check_pseudonym_key(settings, copy))
    checks.append(check_team_nudges(settings, engine, copy))
    checks.append(check_scheduler(settings, engine, copy))
    checks.append(check_alerts(settings, engine, copy))
    checks.append(check_metrics(settings, copy))
    checks.append(check_web_report(settings, copy))
    return checks
