"""The `cxpulse` command line."""

from __future__ import annotations

import functools
import gc
import logging
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NamedTuple

import typer
from pydantic import ValidationError
from rich.console import Console

from bot.pseudonym import MissingPseudonymKey, PseudonymKeyMismatch
from bot.settings import Settings

if TYPE_CHECKING:
    from apscheduler.schedulers.base import BaseScheduler
    from rich.progress import Progress, TaskID
    from sqlalchemy import Engine

    from bot.metrics import Metrics
    from bot.prompts import Copy
    from bot.services.context import Deps
    from bot.services.pseudonym_keys import RotationPlan

app = typer.Typer(
    help="cx-pulse: weekly CX-culture pulses in Slack, honest digests for leaders.",
    no_args_is_help=True,
)
pulse_app = typer.Typer(help="Pulse rounds.", no_args_is_help=True)
app.add_typer(pulse_app, name="pulse")
# No hard wrapping: output is often piped or parsed, and wrapped lines break both.
console = Console(soft_wrap=True)
# Progress bars and notes that must not mix with output meant for a pipe.
err_console = Console(stderr=True, soft_wrap=True)


@app.callback()
def _output() -> None:
    """Before any command: logging that redacts secrets, in CX_LOG_FORMAT (text or JSON lines).

    Only warnings and errors are logged unless the command asks for more (`_setup_logging`).
    In JSON mode the consoles write JSON lines too, banners and notes included."""
    global console, err_console  # noqa: PLW0603 - the command line's two consoles, set up once
    from pydantic import ValidationError

    from bot import logs
    from bot.settings import OutputSettings

    try:
        json_lines = OutputSettings().log_format == "json"
    except ValidationError:  # a bad CX_LOG_FORMAT: text, and `_settings` reports it
        json_lines = False
    output = logs.configure(json_lines=json_lines, level=logging.WARNING)
    out, err = output.console_file(sys.stdout), output.console_file(sys.stderr)
    if out is not None and err is not None:
        # No colour and no terminal: each line the console prints becomes one record.
        console = Console(file=out, soft_wrap=True, color_system=None, force_terminal=False)
        err_console = Console(file=err, soft_wrap=True, color_system=None, force_terminal=False)


def _setup_logging(verbose: bool = False) -> None:
    """Log INFO (DEBUG when verbose) for a long-running command; `_output` chose the format."""
    root = logging.getLogger()
    if not root.handlers:  # a command run without the app's callback (tests calling it)
        from bot import logs

        logs.configure(json_lines=False)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    # slack_sdk logs request bodies (and so tokens) at DEBUG: keep it quieter than ours.
    logging.getLogger("slack_sdk").setLevel(logging.WARNING)
    logging.getLogger("slack_bolt").setLevel(logging.INFO if verbose else logging.WARNING)


def _protect(settings: Settings) -> None:
    """Mask the secrets `settings` hold in every log line, whichever library writes it."""
    from bot.logs import Redact, secret_values

    values = secret_values(settings)
    for handler in logging.getLogger().handlers:
        for found in handler.filters:
            if isinstance(found, Redact):
                found.add_secrets(values)


def _settings(*, needs_key: bool = True) -> Settings:
    try:
        settings = Settings()
    except ValidationError as exc:
        # Each problem by its variable and reason, never the value given: it may be a secret.
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'settings'}: {error['msg']}"
            for error in exc.errors(include_input=False, include_url=False)
        )
        console.print(f"[red]Configuration problem:[/red] {problems}", markup=True, highlight=False)
        raise typer.Exit(2) from None
    except ValueError as exc:
        console.print(f"[red]Configuration problem:[/red] {exc}")
        raise typer.Exit(2) from exc
    _protect(settings)
    if needs_key and settings.pseudonym_key is None:
        console.print(f"[red]Configuration problem:[/red] {MissingPseudonymKey()}")
        raise typer.Exit(2)
    return settings


def _require(value: str | None, name: str, why: str) -> str:
    if not value:
        console.print(f"[red]{name} is not set.[/red] {why}")
        raise typer.Exit(2)
    return value


SWITCH_INTERVAL_S = 0.001


def _freeze_startup_objects() -> None:
    """Keep the long-lived objects of start-up (imports, prompts, the app) out of every later
    full garbage collection: walking them all made a click now and then wait 68-86 ms."""
    gc.collect()
    gc.freeze()


def _warm_reports(deps: Deps) -> None:
    """In the background: the first `/cx` reply should not wait for a digest."""
    import threading

    from bot.services.digest import warm_latest_report

    threading.Thread(
        target=warm_latest_report, args=(deps,), name="cx-warm-report", daemon=True
    ).start()


@app.command()
def keygen() -> None:
    """Print a new CX_ENCRYPTION_KEY (Fernet) for encrypting installed bot tokens."""
    from cryptography.fernet import Fernet

    console.print(Fernet.generate_key().decode())


class _KeyTarget(NamedTuple):
    """One database a key rotation works on, with the bot token that reads its Slack."""

    label: str
    engine: Engine
    token: str | None
    scopes: tuple[str, ...]


def _key_targets(
    settings: Settings, copy: Copy, *, workspaces: bool = True, tokens: bool = True
) -> list[_KeyTarget]:
    """The database, or with many workspaces the main one and (unless `workspaces` is false)
    each installed workspace's, with its bot token unless `tokens` is false (then nothing is
    decrypted)."""
    from bot.db.engine import make_engine

    main = make_engine(settings.database_url)
    if not settings.distributed:
        label = copy.t("keys.this_database")
        return [_KeyTarget(label, main, settings.slack_bot_token, ("main", "workspace"))]
    from bot.slack.installations import installation_store
    from bot.tenancy import make_workspace_engine

    store = installation_store(settings, main)
    if not workspaces:
        installed: list[tuple[str, str | None]] = []
    elif tokens:
        installed = [(found.team_id, found.bot_token) for found in store.workspaces()]
    else:
        installed = [(team, None) for team in store.team_ids()]
    targets = [_KeyTarget(copy.t("keys.main_database"), main, None, ("main",))]
    for team, token in installed:
        targets.append(
            _KeyTarget(
                copy.t("keys.workspace", team=team),
                make_workspace_engine(settings, team),
                token,
                ("workspace",),
            )
        )
    return targets


class _Bars:
    """Rich progress bars for a rotation's steps, each described by its copy key."""

    def __init__(self, progress: Progress, describe: Callable[[str], str]) -> None:
        self._progress = progress
        self._describe = describe
        self._task: TaskID | None = None

    def step(self, step: str, total: int) -> None:
        self._task = self._progress.add_task(self._describe(step), total=max(total, 1))
        if total == 0:
            self._progress.advance(self._task, 1)

    def advance(self, done: int) -> None:
        if self._task is not None:
            self._progress.advance(self._task, done)


@app.command("rotate-keys")
def rotate_keys() -> None:
    """Re-encrypt every stored secret (installed Slack tokens) under the newest encryption key.

    CX_ENCRYPTION_KEY takes several Fernet keys, comma-separated, newest first: the first
    encrypts, every one decrypts. To rotate: make a key (`cxpulse keygen`), set
    CX_ENCRYPTION_KEY=new,old everywhere and restart (nothing stops working); run this; then
    set CX_ENCRYPTION_KEY=new and restart. Each database is re-encrypted in one transaction:
    a value no key can read stops it with nothing changed. Every encrypted column is listed
    in bot/db/encrypted.py (ENCRYPTED_COLUMNS): a new one is re-encrypted here too."""
    from rich.progress import Progress

    from bot.db.encrypted import UnreadableSecrets
    from bot.prompts import load_prompts
    from bot.services.encryption_keys import reencrypt_database

    settings = _settings(needs_key=False)
    copy = load_prompts(settings.prompts_dir).copy
    keys = settings.encryption_keys
    if not keys:
        console.print(copy.t("keys.no_encryption_key"))
        raise typer.Exit(2)
    from bot.db.encrypted import ENCRYPTED_COLUMNS

    # No workspace database holds a secret yet; one entry of that scope brings them all in.
    in_workspaces = any(entry.scope == "workspace" for entry in ENCRYPTED_COLUMNS)
    targets = _key_targets(settings, copy, workspaces=in_workspaces, tokens=False)
    done = 0
    try:
        for target in targets:
            with Progress(console=err_console, transient=True) as progress:
                bars = _Bars(progress, lambda where: copy.t("keys.reencrypting", where=where))
                try:
                    report = reencrypt_database(
                        target.engine, keys=keys, scopes=target.scopes, progress=bars
                    )
                except UnreadableSecrets as unreadable:
                    progress.stop()
                    console.print(
                        copy.t(
                            "keys.unreadable",
                            count=sum(unreadable.where.values()),
                            where=", ".join(sorted(unreadable.where)),
                        ),
                        markup=False,
                        highlight=False,
                    )
                    raise typer.Exit(1) from unreadable
            if report is not None:
                done += 1
                console.print(
                    copy.t(
                        "keys.reencrypted",
                        where=target.label,
                        values=report.values,
                        older=report.were_older,
                    ),
                    markup=False,
                    highlight=False,
                )
    finally:
        for target in targets:
            target.engine.dispose()
    if done == 0:
        console.print(copy.t("keys.nothing_encrypted"), markup=False, highlight=False)
        return
    console.print(copy.t("keys.reencrypted_next"), markup=False, highlight=False)


@app.command("rotate-pseudonym-key")
def rotate_pseudonym_key(
    new: Annotated[
        str,
        typer.Option(
            "--new",
            envvar="CX_NEW_PSEUDONYM_KEY",
            show_envvar=True,
            help="The new key, 16+ characters (`openssl rand -hex 32`). From "
            "CX_NEW_PSEUDONYM_KEY when not given, which keeps it out of the process list.",
        ),
    ],
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Rotate without asking first (scripts).")
    ] = False,
) -> None:
    """Re-key every stored pseudonym from CX_PSEUDONYM_KEY (the current key) to --new.

    Order of operations: stop every cx-pulse process (web and scheduler); run this with
    CX_PSEUDONYM_KEY still set to the current key; start everything again with
    CX_PSEUDONYM_KEY set to the new key. The database records which key it is under: this
    refuses a current key it is not under, and a process started later with the old key
    refuses to run.

    One transaction per database (with many workspaces, each one's): interrupted, it changes
    nothing, and running it again finishes what is still under the old key.

    People in the directory are re-keyed from their Slack ID: their history joins their next
    answers. Imported respondents have no stored ID: they become HMAC(old pseudonym, new key),
    so their answers stay together, but a CSV can no longer be matched to weeks imported
    before the rotation, and importing such a week again is refused (new weeks import as
    usual). Forgotten people's tombstones are re-keyed from the Slack directory (users.list,
    deactivated accounts included); a tombstone matching nobody there is deleted. Comments
    carry nothing made with the key. Afterwards nothing needs the old key: destroy it."""
    from rich.progress import Progress
    from sqlalchemy.exc import SQLAlchemyError

    from bot.clock import SystemClock
    from bot.db.migrate import upgrade_once
    from bot.prompts import load_prompts
    from bot.services.pseudonym_keys import (
        MIN_KEY_CHARS,
        NeedsDirectory,
        NotUnderKey,
        plan_rotation,
    )
    from bot.services.pseudonym_keys import rotate_pseudonym_key as rotate
    from bot.slack.gateway import make_gateway, make_web_client

    settings = _settings()
    assert settings.pseudonym_key is not None  # _settings checked it
    current = settings.pseudonym_key.get_secret_value()
    copy = load_prompts(settings.prompts_dir).copy

    def say(text: str) -> None:
        console.print(text, markup=False, highlight=False, emoji=False)

    if len(new) < MIN_KEY_CHARS:
        say(copy.t("keys.new_too_short", min=MIN_KEY_CHARS))
        raise typer.Exit(2)
    if new == current:
        say(copy.t("keys.new_is_current"))
        raise typer.Exit(2)
    clock = SystemClock()
    targets = _key_targets(settings, copy)
    try:
        plans: list[tuple[_KeyTarget, RotationPlan]] = []
        for target in targets:
            upgrade_once(target.engine, pseudonym_key=current)
            try:
                plan = plan_rotation(target.engine, current=current, new=new, now=clock.now())
            except NotUnderKey:
                say(copy.t("keys.plan_other", where=target.label))
                raise typer.Exit(1) from None
            if plan.status == "rotated":
                say(copy.t("keys.plan_rotated", where=target.label, generation=plan.generation))
                continue
            say(copy.t("keys.plan", where=target.label, **_plan_values(plan)))
            if plan.tombstones and not target.token:
                say(copy.t("keys.needs_directory", where=target.label, tombstones=plan.tombstones))
                raise typer.Exit(1)
            plans.append((target, plan))
        if not plans:
            say(copy.t("keys.nothing_to_do"))
            return
        if not yes:
            if not sys.stdin.isatty():
                say(copy.t("keys.needs_yes"))
                raise typer.Exit(2)
            if not typer.confirm(copy.t("keys.prompt"), default=False):
                say(copy.t("keys.cancelled"))
                raise typer.Exit(1)
        for target, plan in plans:
            directory = None
            if plan.tombstones:
                try:
                    gateway = make_gateway(settings, make_web_client(settings, token=target.token))
                    with err_console.status(copy.t("keys.step_directory", where=target.label)):
                        directory = [user.user_id for user in gateway.list_users()]
                except Exception as error:  # Slack or the network: said, never hidden
                    say(
                        copy.t(
                            "keys.directory_failed", where=target.label, error=type(error).__name__
                        )
                    )
                    raise typer.Exit(1) from error
            with Progress(console=err_console, transient=True) as progress:
                bars = _Bars(progress, functools.partial(_step_text, copy, target.label))
                try:
                    report = rotate(
                        target.engine,
                        current=current,
                        new=new,
                        now=clock.now(),
                        directory=directory,
                        progress=bars,
                    )
                except (NotUnderKey, NeedsDirectory, SQLAlchemyError) as error:
                    progress.stop()
                    say(copy.t("keys.failed", where=target.label, error=type(error).__name__))
                    raise typer.Exit(1) from error
            say(
                copy.t(
                    "keys.rotated",
                    where=target.label,
                    generation=report.generation,
                    from_members=report.from_members,
                    without_id=report.without_id,
                    tombstones=report.tombstones_rekeyed,
                    dropped=report.tombstones_dropped,
                )
            )
    finally:
        for target in targets:
            target.engine.dispose()
    say(copy.t("keys.restart"))


def _step_text(copy: Copy, where: str, step: str) -> str:
    return copy.t(f"keys.step_{step}", where=where)


def _plan_values(plan: RotationPlan) -> dict[str, int]:
    return {
        "generation": plan.generation,
        "respondents": plan.respondents,
        "from_members": plan.from_members,
        "members": plan.members,
        "without_id": plan.without_id,
        "tombstones": plan.tombstones,
    }


@app.command()
def migrate() -> None:
    """Apply database migrations (idempotent)."""
    from bot.db.engine import make_engine
    from bot.db.migrate import upgrade_to_head

    settings = _settings(needs_key=False)
    engine = make_engine(settings.database_url)
    key = settings.pseudonym_key
    upgrade_to_head(engine, pseudonym_key=key.get_secret_value() if key else None)
    engine.dispose()
    console.print("Database is at the latest schema.")


@app.command()
def serve(
    no_scheduler: Annotated[
        bool, typer.Option("--no-scheduler", help="Leave scheduling to `cxpulse scheduler`.")
    ] = False,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "0.0.0.0",  # noqa: S104
) -> None:
    """HTTP mode: Slack posts to POST /slack/events on $PORT; GET /healthz answers 200.

    GET /metrics serves Prometheus metrics (the scheduler's too, unless --no-scheduler)."""
    from bot.metrics import PrometheusMetrics
    from bot.runtime import build_deps
    from bot.slack.app import create_app
    from bot.slack.gateway import make_web_client
    from bot.slack.refresh_process import ProcessRefresher, RefreshProcessFailed
    from bot.slack.web import make_server, make_wsgi_app

    _setup_logging()
    settings = _settings()
    _require(
        settings.slack_signing_secret,
        "SLACK_SIGNING_SECRET",
        "HTTP mode verifies every request with it.",
    )
    metrics = PrometheusMetrics()  # this process's, for GET /metrics
    workspaces = None
    if settings.distributed:
        # Many workspaces: each one's token comes from its OAuth install, none from here.
        from bot.tenancy import Workspaces

        workspaces = Workspaces(settings, metrics=metrics)
    else:
        _require(settings.slack_bot_token, "SLACK_BOT_TOKEN", "The bot needs it to talk to Slack.")
    deps = build_deps(settings, metrics=metrics)
    if workspaces is None:
        _warm_reports(deps)
    client = make_web_client(settings, metrics=metrics)
    # Re-rendering DMs after clicks runs in a child process, off this one's interpreter lock.
    try:
        refresher = ProcessRefresher().start()
    except RefreshProcessFailed as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    bolt_app = create_app(deps, client=client, workspaces=workspaces, dm_refresher=refresher)
    wsgi = make_wsgi_app(bolt_app, deps, workspaces=workspaces)
    server = make_server(wsgi, host=host, port=settings.port)
    scheduler = None
    if not no_scheduler:
        # Imported only here: a web process beside a scheduler process keeps its memory.
        from apscheduler.schedulers.background import BackgroundScheduler

        from bot import scheduling

        scheduler = BackgroundScheduler()
        scheduling.start(scheduler, settings, metrics=metrics)
    stopping = threading.Event()
    _freeze_startup_objects()
    # The web process's threads (waitress's loop, its workers, Bolt's listeners) hand the
    # interpreter lock around on every click; at the default 5 ms a click that is ready can
    # wait that long for it. 1 ms: benchmark 2's p99 148-158 ms instead of 186-190 ms, and
    # about 8% more clicks a second, in alternating runs on the same machine.
    sys.setswitchinterval(SWITCH_INTERVAL_S)

    def stop(*_: object) -> None:
        stopping.set()
        server.close()

    signal.signal(signal.SIGTERM, stop)
    console.print(f"cx-pulse listening on http://{host}:{settings.port}/slack/events")
    if workspaces is not None:
        console.print(f"Install it in a workspace at http://{host}:{settings.port}/slack/install")
    if settings.web_report_enabled:
        console.print(f"The web report: {settings.public_url}/report (Sign in with Slack)")
    try:
        server.run()
    except OSError:
        # SIGTERM closes the listening sockets under waitress's select(), which then fails
        # with EBADF: that is the stop we asked for, not a crash to print a traceback for.
        if not stopping.is_set():
            raise
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        refresher.close()


@app.command()
def socket() -> None:
    """Socket Mode: the same app over a websocket, for development against a real workspace."""
    from apscheduler.schedulers.background import BackgroundScheduler
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from bot import scheduling
    from bot.runtime import build_deps
    from bot.slack.app import create_app
    from bot.slack.gateway import make_web_client

    _setup_logging()
    settings = _settings()
    app_token = _require(
        settings.slack_app_token,
        "SLACK_APP_TOKEN",
        "Socket Mode needs an app-level token (xapp-...).",
    )
    _require(settings.slack_bot_token, "SLACK_BOT_TOKEN", "The bot needs it to talk to Slack.")
    deps = build_deps(settings)
    _warm_reports(deps)
    scheduler = BackgroundScheduler()
    scheduling.start(scheduler, settings)
    try:
        handler = SocketModeHandler(create_app(deps, client=make_web_client(settings)), app_token)
        handler.start()  # type: ignore[no-untyped-call]
    finally:
        scheduler.shutdown(wait=False)


@app.command()
def scheduler(
    metrics_host: Annotated[
        str, typer.Option(help="Interface GET /metrics listens on (with CX_METRICS_PORT).")
    ] = "0.0.0.0",  # noqa: S104
) -> None:
    """Run only the scheduler (the Procfile's worker).

    With CX_METRICS_PORT set, it serves GET /metrics and GET /healthz on that port."""
    import threading

    from apscheduler.schedulers.background import BackgroundScheduler

    from bot import scheduling
    from bot.jobs import DeliveryQueue
    from bot.metrics import PrometheusMetrics
    from bot.runtime import build_deps

    _setup_logging()
    settings = _settings()
    metrics = PrometheusMetrics()  # what this process's jobs count, for GET /metrics
    # Migrate and check prompts before the first run, and say what is in force (App Home's
    # stored choices included).
    deps = build_deps(settings, metrics=metrics)
    current = deps.settings
    deps.engine.dispose()
    queue = DeliveryQueue(settings)
    metrics.watch_queue(queue.depth)
    # Not BlockingScheduler: its start() never returns, and jobs are installed on a started,
    # paused scheduler (so the stored jobs are loaded first); the main thread waits instead.
    background = BackgroundScheduler()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    scheduling.start(background, settings, metrics=metrics)
    server = None
    if settings.metrics_port is not None:
        server = _serve_metrics(metrics, background, host=metrics_host, port=settings.metrics_port)
    console.print(
        f"cx-pulse scheduler: pulses {current.pulse_schedule}, "
        f"digest {current.digest_schedule} ({current.timezone})"
    )
    if server is not None:
        console.print(f"Scheduler metrics on http://{metrics_host}:{settings.metrics_port}/metrics")
    stop.wait()
    # Let a job under way finish: a pulse round stopped mid-way is resumed by the next run,
    # but finishing is kinder to Slack's rate limits.
    background.shutdown(wait=True)
    if server is not None:
        server.close()
    queue.close()


def _serve_metrics(metrics: Metrics, scheduler: BaseScheduler, *, host: str, port: int) -> Any:
    """GET /metrics and GET /healthz (is the scheduler running?) on a thread of their own."""
    from waitress.server import create_server

    from bot.metrics import metrics_app

    def health() -> dict[str, object]:
        return {"ok": bool(scheduler.running), "jobs": len(scheduler.get_jobs())}

    wsgi = metrics_app(metrics, health=health)
    server = create_server(wsgi, host=host, port=port, threads=2, ident="cx-pulse-scheduler")
    threading.Thread(target=_run_quietly, args=(server,), name="cx-metrics", daemon=True).start()
    return server


def _run_quietly(server: Any) -> None:
    """waitress's loop until the server is closed (its select() then fails: that is the stop)."""
    try:
        server.run()
    except OSError:
        return


@pulse_app.command("send")
def pulse_send(
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Send without asking first (scripts, cron).")
    ] = False,
) -> None:
    """Send this week's pulse round now to every participant, after saying what it does.

    It is the week's round: the scheduled one is then skipped, and a week that already had its
    round gets none. Asks before sending; without a terminal to ask in, needs --yes."""
    from bot.db.models import RoundKind
    from bot.errors import CxError
    from bot.render.adhoc_round import plan_lines
    from bot.runtime import build_deps
    from bot.services.rounds import plan_adhoc_round, send_round
    from bot.slack.errors import error_text
    from bot.slack.gateway import make_gateway

    _setup_logging()
    settings = _settings()
    _require(settings.slack_bot_token, "SLACK_BOT_TOKEN", "The bot needs it to send DMs.")
    deps = build_deps(settings)
    gateway = make_gateway(settings)
    copy = deps.prompts.copy

    def say(text: str) -> None:
        console.print(text, markup=False, highlight=False, emoji=False)

    try:
        plan = plan_adhoc_round(deps, gateway)
        for line in plan_lines(plan, copy, days=deps.settings.round_days):
            say(line)
        if not plan.may_send:
            raise typer.Exit(1)
        if not yes:
            if not sys.stdin.isatty():
                say(copy.t("scheduling.cli_needs_yes"))
                raise typer.Exit(2)
            if not typer.confirm(copy.t("scheduling.cli_prompt"), default=False):
                say(copy.t("scheduling.cancelled"))
                raise typer.Exit(1)
        report = send_round(deps, gateway, kind=RoundKind.ADHOC, period=plan.period)
    except CxError as error:
        say(error_text(deps, error))
        raise typer.Exit(1) from error
    finally:
        deps.engine.dispose()
    say(f"Round {report.period}: {report.sent} sent, {report.failed} could not be reached.")
    say(copy.t("scheduling.sent_is_the_weeks", period=report.period))


@app.command()
def digest(
    *,
    post: Annotated[bool, typer.Option("--post", help="Post it to CX_LEADERSHIP_CHANNEL.")] = False,
    print_: Annotated[bool, typer.Option("--print", help="Print it here.")] = False,
    json_: Annotated[bool, typer.Option("--json", help="Print the findings as JSON.")] = False,
    blocks_: Annotated[
        bool,
        typer.Option(
            "--blocks",
            help="Print the Block Kit payload --post sends ({text, blocks}): paste it into "
            "Block Kit Builder.",
        ),
    ] = False,
    chart: Annotated[
        Path | None,
        typer.Option("--chart", help="Save the trend chart as a PNG here (the heatmap beside it)."),
    ] = None,
    period: Annotated[
        str | None, typer.Option(help="Which week, as YYYY-Www (default: the latest).")
    ] = None,
) -> None:
    """Build the digest for a week (default: the latest with answers); post, print or save it."""
    import json
    import re

    # Each output's modules load only when it is asked for (start-up time, issue 16).
    from bot.errors import CxError
    from bot.render.json_report import report_json
    from bot.runtime import build_deps
    from bot.services.digest import build_digest
    from bot.slack.errors import error_text

    if sum([post, print_, json_, blocks_]) + (chart is not None) == 0:
        console.print("Say at least one of --post, --print, --json, --blocks or --chart FILE.")
        raise typer.Exit(2)
    if period is not None and not re.fullmatch(r"\d{4}-W\d{2}", period):
        console.print(f"--period must look like 2026-W48, not {period!r}.")
        raise typer.Exit(2)
    settings = _settings()
    deps = build_deps(settings)
    try:
        report = build_digest(deps, period=period)
        if json_:
            # Plain stdout, no rich markup, so tools can parse it.
            sys.stdout.write(json.dumps(report_json(report), indent=2) + "\n")
        if blocks_ or print_:
            from bot.render.digest import digest_message
        if blocks_:
            # Exactly what --post sends (the chart and heatmap go as files beside it).
            payload = digest_message(report, deps.prompts, zone_name=settings.timezone)
            body = {"text": payload.text, "blocks": [b.to_dict() for b in payload.blocks]}
            sys.stdout.write(json.dumps(body, indent=2, ensure_ascii=False) + "\n")
        if print_:
            from bot.sandbox.transcript import render_channel

            message = digest_message(report, deps.prompts, zone_name=settings.timezone)
            blocks = [block.to_dict() for block in message.blocks]
            transcript = render_channel([{"text": message.text, "blocks": blocks}], width=100)
            console.print(transcript, markup=False, highlight=False, emoji=False, soft_wrap=True)
        if chart is not None:
            from bot.render.chart import trend_chart
            from bot.render.heatmap import heatmap_image

            drawn = trend_chart(report, deps.prompts)
            if drawn is None:
                console.print("Nothing to draw yet: no dimension has a reading to show.")
                raise typer.Exit(1)
            chart.write_bytes(drawn.png)
            console.print(f"Chart saved to {chart} ({drawn.alt_text})", highlight=False)
            heat = heatmap_image(report, deps.prompts)
            if heat is not None:  # beside it: chart.png -> chart-heatmap.png
                beside = chart.with_name(f"{chart.stem}-heatmap{chart.suffix or '.png'}")
                beside.write_bytes(heat.png)
                console.print(f"Heatmap saved to {beside} ({heat.alt_text})", highlight=False)
        if post:
            from bot.services.publishing import post_digest, send_team_nudges
            from bot.slack.gateway import make_gateway

            _require(settings.slack_bot_token, "SLACK_BOT_TOKEN", "The bot needs it to post.")
            gateway = make_gateway(settings)
            posted, _ = post_digest(deps, gateway, period=report.period)
            console.print(f"Digest for {posted.period} posted.")
            nudged = send_team_nudges(deps, gateway, posted)
            console.print(deps.prompts.copy.t("team_leads.nudges_sent", count=nudged))
    except CxError as error:
        console.print(error_text(deps, error))
        raise typer.Exit(1) from error


@app.command("import")
def import_(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="A CSV file.")
    ],
) -> None:
    """Load historic answers from a CSV file: all or nothing, idempotent.

    Columns: date, respondent, team, is_leader, question_id, score (1-5, or n/a for
    "doesn't apply to me") and optionally comment.
    Importing the same file again adds nothing."""
    from rich.progress import Progress

    from bot.runtime import build_deps
    from bot.services.importer import ImportRejected, count_lines, import_answers, read_file

    settings = _settings()
    deps = build_deps(settings)
    known = deps.prompts.bank.known_question_ids  # retired ids too: older exports carry them
    try:
        with Progress(console=err_console, transient=True) as progress:
            lines = max(count_lines(file) - 1, 1)
            checking = progress.add_task("Checking rows", total=lines)
            rows = read_file(
                file, known, progress=lambda line: progress.update(checking, completed=line - 1)
            )
            progress.update(checking, completed=lines)
            writing = progress.add_task("Writing answers", total=len(rows))
            report = import_answers(
                deps, rows, progress=lambda done: progress.advance(writing, done)
            )
    except ImportRejected as rejected:
        console.print(
            f"[red]Nothing was imported:[/red] {rejected.total} problem(s) in {file}:",
            highlight=False,
        )
        console.print(str(rejected), markup=False, highlight=False)
        raise typer.Exit(1) from rejected
    console.print(
        f"Imported {report.added} new answers from {report.rows} rows "
        f"({report.already_present} were already there), "
        f"{len(report.periods)} week(s): {report.periods[0]} to {report.periods[-1]}."
    )


@app.command()
def export(
    csv_file: Annotated[
        str,
        typer.Option(
            "--csv", metavar="FILE", help="Write the CSV here; `-` writes it to standard output."
        ),
    ],
    since: Annotated[str | None, typer.Option(help="First week to include, as YYYY-Www.")] = None,
    until: Annotated[str | None, typer.Option(help="Last week to include, as YYYY-Www.")] = None,
) -> None:
    """Export aggregated, anonymity-gated results of every closed week with answers as CSV."""
    import os

    from rich.progress import Progress

    from bot.prompts import load_prompts
    from bot.runtime import build_deps
    from bot.services.export import parse_week, plan_export, write_csv, write_csv_file

    settings = _settings()
    copy = load_prompts(settings.prompts_dir).copy
    to_stdout = csv_file == "-"

    def say(text: str) -> None:
        # With the CSV on stdout, every note goes to stderr so the pipe gets CSV only.
        (err_console if to_stdout else console).print(text, markup=False, highlight=False)

    for option, value in (("--since", since), ("--until", until)):
        if value is not None:
            try:
                parse_week(value)
            except ValueError:
                say(copy.t("export.bad_week", option=option, value=value[:16]))
                raise typer.Exit(2) from None
    if since is not None and until is not None and since > until:
        say(copy.t("export.bad_range", since=since, until=until))
        raise typer.Exit(2)
    deps = build_deps(settings)
    plan = plan_export(deps, since=since, until=until)
    if plan.still_open:
        say(copy.t("export.still_open", periods=", ".join(plan.still_open)))
    if not plan.periods:
        say(copy.t("export.nothing"))
        raise typer.Exit(1)
    if to_stdout:
        try:
            report = write_csv(deps, sys.stdout, plan.periods)
            sys.stdout.flush()
        except BrokenPipeError:  # `cxpulse export --csv - | head`: the reader has had enough
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(1) from None
    else:
        with Progress(
            console=err_console, transient=True, disable=not err_console.is_terminal
        ) as progress:
            first = copy.t("export.progress", period=plan.periods[0])
            task = progress.add_task(first, total=len(plan.periods))

            def advance(period: str) -> None:
                description = copy.t("export.progress", period=period)
                progress.update(task, advance=1, description=description)

            try:
                report = write_csv_file(deps, Path(csv_file), plan.periods, progress=advance)
            except OSError as error:
                progress.stop()
                say(f"{csv_file}: {error.strerror or error}")
                raise typer.Exit(1) from error
    say(
        copy.t(
            "export.written",
            rows=report.rows,
            count=len(report.periods),
            first=report.periods[0],
            last=report.periods[-1],
            path=copy.t("export.stdout") if to_stdout else csv_file,
            min_group=settings.min_group_size,
        )
    )


@app.command()
def purge() -> None:
    """Apply CX_RETENTION_DAYS now: delete old raw answers; published figures stay as they are."""
    from bot.runtime import build_deps
    from bot.services.privacy import purge_old_answers

    settings = _settings()
    if settings.retention_days == 0:
        console.print("CX_RETENTION_DAYS is 0 (keep everything): nothing to purge.")
        return
    deps = build_deps(settings)
    report = purge_old_answers(deps)
    console.print(
        f"Purged {report.answers} answers from {report.rounds} round(s) closed more than "
        f"{settings.retention_days} days ago, and {report.comments} published comment(s); "
        "every published figure is unchanged."
    )


@app.command()
def demo(
    seed: Annotated[int, typer.Option(help="Random seed for the synthetic organisation.")] = 7,
    database: Annotated[
        Path, typer.Option(help="Where the demo database goes (recreated).")
    ] = Path(".demo/cxpulse-demo.db"),
) -> None:
    """Run cx-pulse end to end against the built-in Slack emulator: no Slack account needed."""
    from bot.sandbox.demo import run_demo

    logging.basicConfig(level=logging.WARNING)
    # The demo's bursts of simulated clicks briefly queue in waitress; that is expected here.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    run_demo(console, seed=seed, database=database, progress_console=err_console)


@app.command()
def manifest(
    url: Annotated[
        str | None,
        typer.Option(help="HTTP mode: the app's public https:// address (default: Socket Mode)."),
    ] = None,
) -> None:
    """Print the Slack app manifest to paste into api.slack.com/apps."""
    from bot.manifest import dump, http_manifest, manifest_text

    if url is None:
        sys.stdout.write(manifest_text())
        return
    try:
        text = dump(http_manifest(url))
    except ValueError as exc:
        console.print(f"[red]--url:[/red] {exc}", highlight=False)
        raise typer.Exit(2) from exc
    sys.stdout.write(text)


@app.command()
def doctor() -> None:
    """Check the token and its scopes, the leadership channel, database, key, scheduler, metrics."""
    from rich.text import Text

    from bot.db.engine import make_engine
    from bot.prompts import load_prompts
    from bot.services.doctor import run_checks
    from bot.slack.gateway import make_web_client

    logging.getLogger("slack_sdk").setLevel(logging.CRITICAL)  # doctor reports failures itself
    settings = _settings(needs_key=False)
    copy = load_prompts(settings.prompts_dir).copy
    engine = make_engine(settings.database_url)
    try:
        installed = None
        if settings.distributed:  # each installed workspace's own token, not SLACK_BOT_TOKEN
            from bot.slack.installations import installation_store

            installed = [
                (found.team_id, found.bot_token)
                for found in installation_store(settings, engine).workspaces()
            ]
        checks = run_checks(
            settings=settings,
            client=make_web_client(settings),
            engine=engine,
            copy=copy,
            installed=installed,
            client_for=lambda token: make_web_client(settings, token=token),
        )
    finally:
        engine.dispose()
    for check in checks:
        mark = ("✓", "green") if check.passed else ("✗", "red")
        line = Text.assemble(mark, " ", (check.title, "bold"), ": ", check.detail)
        if check.fix:
            line.append(" " + copy.t("doctor.fix", fix=check.fix))
        console.print(line)
        for item in check.items:
            console.print(Text("    - " + item))
        if check.note:
            console.print(Text("    " + check.note, style="dim"))
    failed = sum(not check.passed for check in checks)
    if failed:
        console.print(copy.t("doctor.summary_failed", failed=failed, count=len(checks)))
        raise typer.Exit(1)
    console.print(copy.t("doctor.summary_ok", count=len(checks)), highlight=False)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except PseudonymKeyMismatch as mismatch:  # any command, as it builds its dependencies
        console.print(f"[red]Configuration problem:[/red] {mismatch}", highlight=False)
        sys.exit(2)
