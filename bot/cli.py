"""The `cxpulse` command line."""

from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from bot.pseudonym import MissingPseudonymKey
from bot.settings import Settings

app = typer.Typer(
    help="cx-pulse: weekly CX-culture pulses in Slack, honest digests for leaders.",
    no_args_is_help=True,
)
pulse_app = typer.Typer(help="Pulse rounds.", no_args_is_help=True)
app.add_typer(pulse_app, name="pulse")
# No hard wrapping: output is often piped or parsed, and wrapped lines break both.
console = Console(soft_wrap=True)


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
    from bot.slack.web import make_server, make_wsgi_app

    _setup_logging()
    settings = _settings()
    _require(
        settings.slack_signing_secret,
        "SLACK_SIGNING_SECRET",
        "HTTP mode verifies every request with it.",
    )
    _require(settings.slack_bot_token, "SLACK_BOT_TOKEN", "The bot needs it to talk to Slack.")
    deps = build_deps(settings)
    client = make_web_client(settings)
    server = make_server(
        make_wsgi_app(create_app(deps, client=client), deps), host=host, port=settings.port
    )
    scheduler = None
    if not no_scheduler:
        scheduler = BackgroundScheduler()
        scheduling.start(scheduler, settings)
    signal.signal(signal.SIGTERM, lambda *_: server.close())
    console.print(f"cx-pulse listening on http://{host}:{settings.port}/slack/events")
    try:
        server.run()
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)


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
    build_deps(settings).engine.dispose()  # migrate and check prompts before the first run
    # Not BlockingScheduler: its start() never returns, and jobs are installed on a started,
    # paused scheduler (so the stored jobs are loaded first); the main thread waits instead.
    background = BackgroundScheduler()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    scheduling.start(background, settings)
    console.print(
        f"cx-pulse scheduler: pulses {settings.pulse_schedule}, "
        f"digest {settings.digest_schedule} ({settings.timezone})"
    )
    stop.wait()
    # Let a job under way finish: a pulse round stopped mid-way is resumed by the next run,
    # but finishing is kinder to Slack's rate limits.
    background.shutdown(wait=True)


@pulse_app.command("send")
def pulse_send() -> None:
    """Send an ad hoc pulse round now to every participant."""
    from bot.db.models import RoundKind
    from bot.runtime import build_deps
    from bot.services.rounds import send_round
    from bot.slack.gateway import make_gateway

    _setup_logging()
    settings = _settings()
    _require(settings.slack_bot_token, "SLACK_BOT_TOKEN", "The bot needs it to send DMs.")
    deps = build_deps(settings)
    report = send_round(deps, make_gateway(settings), kind=RoundKind.ADHOC)
    console.print(
        f"Round {report.period}: {report.sent} sent, {report.failed} could not be reached."
    )


@app.command()
def digest(
    post: Annotated[bool, typer.Option("--post", help="Post it to CX_LEADERSHIP_CHANNEL.")] = False,
    print_: Annotated[bool, typer.Option("--print", help="Print it here.")] = False,
    json_: Annotated[bool, typer.Option("--json", help="Print the findings as JSON.")] = False,
    chart: Annotated[
        Path | None, typer.Option("--chart", help="Save the trend chart as a PNG here.")
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
    from bot.render.json_report import report_json
    from bot.runtime import build_deps
    from bot.sandbox.transcript import render_channel
    from bot.services.digest import build_digest
    from bot.services.publishing import post_digest
    from bot.slack.errors import error_text
    from bot.slack.gateway import make_gateway

    if sum([post, print_, json_]) + (chart is not None) == 0:
        console.print("Say at least one of --post, --print, --json or --chart FILE.")
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
        if print_:
            message = digest_message(report, deps.prompts, zone_name=settings.timezone)
            blocks = [block.to_dict() for block in message.blocks]
            transcript = render_channel([{"text": message.text, "blocks": blocks}], width=100)
            console.print(transcript, markup=False, highlight=False, emoji=False, soft_wrap=True)
        if chart is not None:
            drawn = trend_chart(report.history, deps.prompts)
            if drawn is None:
                console.print("Nothing to draw yet: no dimension has a reading to show.")
                raise typer.Exit(1)
            chart.write_bytes(drawn.png)
            console.print(f"Chart saved to {chart} ({drawn.alt_text})", highlight=False)
        if post:
            _require(settings.slack_bot_token, "SLACK_BOT_TOKEN", "The bot needs it to post.")
            posted, _ = post_digest(deps, make_gateway(settings), period=report.period)
            console.print(f"Digest for {posted.period} posted.")
    except CxError as error:
        console.print(error_text(deps, error))
        raise typer.Exit(1) from error


@app.command("import")
def import_(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="A CSV file.")
    ],
) -> None:
    """Load historic answers: columns date, respondent, team, is_leader, question_id, score
    and optionally comment. All or nothing; importing the same file again adds nothing."""
    from rich.progress import Progress

    from bot.runtime import build_deps
    from bot.services.importer import ImportRejected, import_answers, read_file

    settings = _settings()
    deps = build_deps(settings)
    known = {q.id for d in deps.prompts.bank.dimensions for q in d.questions}
    try:
        rows = read_file(file, known)
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("Importing answers", total=len(rows))
            report = import_answers(deps, rows, progress=lambda done: progress.advance(task, done))
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
def purge() -> None:
    """Apply CX_RETENTION_DAYS now: fold old raw answers into gated aggregates, delete them."""
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
        f"{settings.retention_days} days ago; kept {report.aggregates} gated aggregates."
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
    run_demo(console, seed=seed, database=database)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
