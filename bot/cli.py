"""The `cxpulse` command line."""

from __future__ import annotations

import gc
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from bot.pseudonym import MissingPseudonymKey
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.services.context import Deps

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


def _setup_logging(verbose: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # slack_sdk logs request bodies (and so tokens) at DEBUG: keep it quieter than ours.
    logging.getLogger("slack_sdk").setLevel(logging.WARNING)
    logging.getLogger("slack_bolt").setLevel(logging.INFO if verbose else logging.WARNING)


def _settings(*, needs_key: bool = True) -> Settings:
    try:
        settings = Settings()
    except ValueError as exc:
        console.print(f"[red]Configuration problem:[/red] {exc}")
        raise typer.Exit(2) from exc
    if needs_key and settings.pseudonym_key is None:
        console.print(f"[red]Configuration problem:[/red] {MissingPseudonymKey()}")
        raise typer.Exit(2)
    return settings


def _require(value: str | None, name: str, why: str) -> str:
    if not value:
        console.print(f"[red]{name} is not set.[/red] {why}")
        raise typer.Exit(2)
    return value


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
    """HTTP mode: Slack posts to POST /slack/events on $PORT; GET /healthz answers 200."""
    from apscheduler.schedulers.background import BackgroundScheduler

    from bot import scheduling
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
    workspaces = None
    if settings.distributed:
        # Many workspaces: each one's token comes from its OAuth install, none from here.
        from bot.tenancy import Workspaces

        workspaces = Workspaces(settings)
    else:
        _require(settings.slack_bot_token, "SLACK_BOT_TOKEN", "The bot needs it to talk to Slack.")
    deps = build_deps(settings)
    if workspaces is None:
        _warm_reports(deps)
    client = make_web_client(settings)
    # Re-rendering DMs after clicks runs in a child process, off this one's interpreter lock.
    try:
        refresher = ProcessRefresher().start()
    except RefreshProcessFailed as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    bolt_app = create_app(deps, client=client, workspaces=workspaces, dm_refresher=refresher)
    server = make_server(make_wsgi_app(bolt_app, deps), host=host, port=settings.port)
    scheduler = None
    if not no_scheduler:
        scheduler = BackgroundScheduler()
        scheduling.start(scheduler, settings)
    stopping = threading.Event()
    _freeze_startup_objects()

    def stop(*_: object) -> None:
        stopping.set()
        server.close()

    signal.signal(signal.SIGTERM, stop)
    console.print(f"cx-pulse listening on http://{host}:{settings.port}/slack/events")
    if workspaces is not None:
        console.print(f"Install it in a workspace at http://{host}:{settings.port}/slack/install")
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
def scheduler() -> None:
    """Run only the scheduler (the Procfile's worker)."""
    import threading

    from apscheduler.schedulers.background import BackgroundScheduler

    from bot import scheduling
    from bot.runtime import build_deps

    _setup_logging()
    settings = _settings()
    # Migrate and check prompts before the first run, and say what is in force (App Home's
    # stored choices included).
    deps = build_deps(settings)
    current = deps.settings
    deps.engine.dispose()
    # Not BlockingScheduler: its start() never returns, and jobs are installed on a started,
    # paused scheduler (so the stored jobs are loaded first); the main thread waits instead.
    background = BackgroundScheduler()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    scheduling.start(background, settings)
    console.print(
        f"cx-pulse scheduler: pulses {current.pulse_schedule}, "
        f"digest {current.digest_schedule} ({current.timezone})"
    )
    stop.wait()
    # Let a job under way finish: a pulse round stopped mid-way is resumed by the next run,
    # but finishing is kinder to Slack's rate limits.
    background.shutdown(wait=True)


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

    from bot.errors import CxError
    from bot.render.chart import trend_chart
    from bot.render.digest import digest_message
    from bot.render.heatmap import heatmap_image
    from bot.render.json_report import report_json
    from bot.runtime import build_deps
    from bot.sandbox.transcript import render_channel
    from bot.services.digest import build_digest
    from bot.services.publishing import post_digest, send_team_nudges
    from bot.slack.errors import error_text
    from bot.slack.gateway import make_gateway

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
        if blocks_:
            # Exactly what --post sends (the chart and heatmap go as files beside it).
            payload = digest_message(report, deps.prompts, zone_name=settings.timezone)
            body = {"text": payload.text, "blocks": [b.to_dict() for b in payload.blocks]}
            sys.stdout.write(json.dumps(body, indent=2, ensure_ascii=False) + "\n")
        if print_:
            message = digest_message(report, deps.prompts, zone_name=settings.timezone)
            blocks = [block.to_dict() for block in message.blocks]
            transcript = render_channel([{"text": message.text, "blocks": blocks}], width=100)
            console.print(transcript, markup=False, highlight=False, emoji=False, soft_wrap=True)
        if chart is not None:
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
    """Check the bot token and its scopes, the leadership channel, the database and the key."""
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
