"""`cxpulse demo`: a synthetic organisation's story, told the way a real company would live it.

Ten weeks of history come in through `cxpulse import` (as an export from an earlier survey tool
would), then four weekly rounds run live: nothing is faked inside the bot, the emulator is a
real Slack Web API server on loopback, people click by sending signed requests to
/slack/events, and a digest is posted each week. The people live in four time zones: each
week the clock stops at every zone's local pulse time, where the scheduler's pulse job sends
the DMs that have fallen due, so each person's arrives at 10:00 on their own clock.
The story planted in the answers (see `bot.sandbox.org.Story`) is what the last digest shows.
"""

from __future__ import annotations

import logging
import os
import random
import shlex
import sys
import sysconfig
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress
from sqlmodel import func, select

from bot.analytics.periods import local_due_at, period_key, person_zone
from bot.clock import ManualClock
from bot.db.engine import session_scope
from bot.db.models import NOT_APPLICABLE, Answer
from bot.render.digest import is_digest
from bot.runtime import build_deps
from bot.sandbox.emulator import BOT_USER_ID, SlackEmulator
from bot.sandbox.harness import ServedBot, free_port
from bot.sandbox.history import generate_history, history_csv
from bot.sandbox.org import (
    ADMIN_ID,
    LEADERSHIP_CHANNEL,
    Person,
    Story,
    SyntheticOrg,
    build_org,
    doesnt_apply,
    maybe_comment,
    simulated_score,
    will_respond,
)
from bot.sandbox.people import (
    click_score,
    confirmations,
    latest_dm,
    open_comment_modal,
    question_ids,
    submit_comment,
    wait_for,
)
from bot.sandbox.reply_demo import Conversation, comment_with_replies, play_conversation
from bot.sandbox.transcript import render_channel
from bot.scheduling import digest_trigger, next_fire
from bot.services.context import Deps
from bot.services.importer import import_answers, read_file
from bot.services.ports import SlackGateway
from bot.services.publishing import post_due_digest
from bot.services.pulse_times import next_pulse_at
from bot.services.rounds import run_pulse_schedule
from bot.services.team_nudges import TEAM_NUDGE_KEY_PREFIX
from bot.settings import Settings

HISTORY_WEEKS = 10
LIVE_WEEKS = 4  # with 3 rotating statements a round, every dimension is asked once
PEOPLE_PER_TEAM = 15
TOKEN = "xoxb-sandbox-token"  # noqa: S105 - the emulator's own token, not a secret
SIGNING_SECRET = "sandbox-signing-secret"  # noqa: S105
# What a demo run writes beside its database (removed before the next run).
DEMO_FILES = ("history.csv", "latest-chart.png", "latest-heatmap.png")
# The demo database's key: demo-only, printed in the demo's hint so it can be pasted.
DEMO_PSEUDONYM_KEY = "cx-pulse-demo-pseudonym-key"
# Seals the demo's reply links (confidential replies): demo-only, a Fernet key.
DEMO_ENCRYPTION_KEY = "Y3gtcHVsc2UtZGVtby1yZXBseS1saW5rcy1rZXktMzI="
# Where the demo's `/cx kudos` stories go (CX_KUDOS_CHANNEL), and what people thank for.
KUDOS_CHANNEL = "C0KUDOS"
KUDOS_STORIES = (
    "stayed on the call until the customer's refund went through & followed up the next day",
    "spotted the billing bug behind three tickets and got it fixed for every customer",
    "rewrote the onboarding email after a customer said it confused them",
    "drove to a customer's office to set up their account in person",
)
# The web report's Sign in with Slack against the emulator: demo-only credentials.
DEMO_CLIENT_ID = "0000000000.0000000001"
DEMO_CLIENT_SECRET = "cx-pulse-demo-client-secret"  # noqa: S105 - the emulator's app
DEMO_SESSION_SECRET = "cx-pulse-demo-session-secret, never a real one"  # noqa: S105


def install_org(emulator: SlackEmulator, org: SyntheticOrg) -> None:
    for person in org.people:
        emulator.add_user(person.user_id, person.name, tz=person.tz)
    emulator.add_user(ADMIN_ID, "cx.admin", tz="Europe/London")
    for bot_id in org.bots:
        emulator.add_user(bot_id, "helper-bot", is_bot=True)
    for former in org.deactivated:
        emulator.add_user(former, "former.colleague", deleted=True)
    for index, (team, members) in enumerate(org.teams.items(), start=1):
        emulator.add_usergroup(f"S{index:04d}", team, team.title(), members)
    emulator.add_channel(LEADERSHIP_CHANNEL, "cx-leadership", [*org.leaders, ADMIN_ID])
    everyone = [person.user_id for person in org.people]
    emulator.add_channel(KUDOS_CHANNEL, "cx-kudos", [*everyone, ADMIN_ID, BOT_USER_ID])


def is_team_nudge(message: Mapping[str, Any]) -> bool:
    """A team nudge DM, known by its delivery key (bot.services.team_nudges)."""
    payload = (message.get("metadata") or {}).get("event_payload") or {}
    return str(payload.get("key", "")).startswith(TEAM_NUDGE_KEY_PREFIX)


def report_settings(emulator: SlackEmulator, public_url: str) -> dict[str, str]:
    """What turns the web report on in the sandbox: the emulator signs people in."""
    return {
        "SLACK_CLIENT_ID": DEMO_CLIENT_ID,
        "SLACK_CLIENT_SECRET": DEMO_CLIENT_SECRET,
        "CX_PUBLIC_URL": public_url,
        "CX_SESSION_SECRET": DEMO_SESSION_SECRET,
        "SLACK_OPENID_AUTHORIZE_URL": emulator.openid.authorize_url,
    }


def enable_report(emulator: SlackEmulator, public_url: str, clock: ManualClock) -> None:
    """Register the app's Sign in with Slack with the emulator, on the demo's own clock."""
    emulator.openid.register(
        DEMO_CLIENT_ID,
        DEMO_CLIENT_SECRET,
        [f"{public_url}/report/callback"],
        login_url=f"{public_url}/report/login",
    )
    emulator.openid.set_clock(clock.now)


def sandbox_settings(
    emulator: SlackEmulator,
    database: Path,
    org: SyntheticOrg | None = None,
    *,
    report_url: str | None = None,
) -> Settings:
    return Settings.model_validate(
        {
            **(report_settings(emulator, report_url) if report_url is not None else {}),
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": emulator.api_url,
            "DATABASE_URL": f"sqlite:///{database}",
            "CX_LEADERSHIP_CHANNEL": LEADERSHIP_CHANNEL,
            "CX_ADMINS": ADMIN_ID,
            "CX_TIMEZONE": "Europe/London",
            "CX_SEND_RATE": 50,  # the sandbox has no posting budget to respect
            "CX_PSEUDONYM_KEY": DEMO_PSEUDONYM_KEY,
            "CX_KUDOS_CHANNEL": KUDOS_CHANNEL,
            # Replies on, with the relay's random delay shortened to seconds for the story.
            "CX_ENCRYPTION_KEY": DEMO_ENCRYPTION_KEY,
            "CX_RELAY_DELAY_SECONDS": "5,45",
            # Each team's leader leads it, and gets its nudge when a reading clearly falls.
            **({"CX_TEAM_LEADS": org.team_leads} if org is not None else {}),
        }
    )


class Simulation:
    """Plays the people of the organisation answering their DMs."""

    def __init__(self, emulator: SlackEmulator, deps: Deps, org: SyntheticOrg, seed: int) -> None:
        self.emulator, self.deps, self.org = emulator, deps, org
        self.seed = seed
        self.rng = random.Random(seed)
        self.story = Story()
        self.dimension_of = {q: d.id for q, (d, _) in deps.prompts.bank.questions_by_id.items()}
        self.replying: str | None = None  # who opened their comment to replies

    def _answers_stored(self) -> int:
        with session_scope(self.deps.engine) as session:
            return int(session.exec(select(func.count()).select_from(Answer)).one())

    def _answer_person(
        self, person: Person, week: int, rng: random.Random
    ) -> tuple[int, str | None]:
        """Click one score per statement in this person's newest DM ("Doesn't apply to me" now
        and then); returns clicks made."""
        questions = question_ids(latest_dm(self.emulator, person.user_id))
        # A generator of its own, so the scores given stay those of the story's seed.
        not_applicable = random.Random(f"{self.seed}:{person.user_id}:{week}:not-applicable")
        for question_id in questions:
            dimension = self.dimension_of[question_id]
            score = simulated_score(
                person,
                dimension,
                HISTORY_WEEKS + week,
                rng,
                self.story,
                weeks=HISTORY_WEEKS + LIVE_WEEKS,
            )
            if doesnt_apply(person, dimension, not_applicable):
                score = NOT_APPLICABLE
            result = click_score(self.emulator, person.user_id, question_id, score)
            if result.status != 200:
                raise RuntimeError(f"the bot answered {result.status} to a click")
        return len(questions), maybe_comment(rng)

    def _comment(self, person: Person, text: str) -> None:
        view = open_comment_modal(self.emulator, person.user_id)
        # The modal offers the round's statements, defaulting to the outcome statement.
        question = view["blocks"][1]["element"]["initial_option"]["value"]
        submit_comment(self.emulator, person.user_id, view, question, text)

    def run_week(self, week: int, invited: int) -> tuple[int, int]:
        respondents = [p for p in self.org.people if will_respond(p, self.rng)]
        seeds = {p.user_id: self.rng.randrange(1 << 30) for p in respondents}
        before = self._answers_stored()
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(
                pool.map(
                    lambda p: self._answer_person(p, week, random.Random(seeds[p.user_id])),
                    respondents,
                )
            )
        clicks = sum(c for c, _ in results)
        wait_for(lambda: self._answers_stored() >= before + clicks)
        comments = [(p, text) for p, (_, text) in zip(respondents, results, strict=True) if text]
        for index, (person, text) in enumerate(comments):
            if week == LIVE_WEEKS - 1 and index == 0:
                # The last week's first commenter lets leaders reply (bot.sandbox.reply_demo).
                comment_with_replies(self.emulator, person.user_id, text)
                self.replying = person.user_id
                continue
            self._comment(person, text)
        self.give_kudos(week)
        return clicks, len(comments)

    def give_kudos(self, week: int) -> None:
        """Someone thanks a teammate with `/cx kudos`, as people do in any week; the week's
        digest counts it and quotes the story."""
        people = self.org.people
        giver = people[(week * 7 + 1) % len(people)]
        team = self.org.teams[giver.team]
        recipient_id = team[(team.index(giver.user_id) + 1) % len(team)]
        recipient = next(p for p in people if p.user_id == recipient_id)
        story = KUDOS_STORIES[week % len(KUDOS_STORIES)]
        before = len(self.emulator.messages(KUDOS_CHANNEL))
        sent = self.emulator.send_slash_command(giver.user_id, f"kudos @{recipient.name} {story}")
        if sent.status != 200:
            raise RuntimeError(f"the bot answered {sent.status} to /cx kudos")
        wait_for(lambda: len(self.emulator.messages(KUDOS_CHANNEL)) > before)


def import_history(
    deps: Deps,
    org: SyntheticOrg,
    seed: int,
    first_live: datetime,
    folder: Path,
    *,
    week_done: Callable[[], None] | None = None,
) -> int:
    """Write the organisation's earlier weeks as a CSV and load it with the importer;
    `week_done` hears of each week written."""
    bank = deps.prompts.bank
    questions = {d.id: [q.id for q in d.questions] for d in bank.dimensions}
    monday = first_live.astimezone(deps.settings.zone).date()
    monday -= timedelta(days=monday.weekday() + 7)
    rows = generate_history(
        org,
        questions,
        Story(),
        seed=seed,
        weeks=HISTORY_WEEKS,
        last_monday=monday,
        story_weeks=HISTORY_WEEKS + LIVE_WEEKS,
        not_applicable=True,
    )
    path = folder / "history.csv"
    path.write_text(history_csv(rows), encoding="utf-8")
    known = bank.known_question_ids
    on_week = None if week_done is None else (lambda _answers: week_done())
    return import_answers(deps, read_file(path, known), progress=on_week).added


def _show_one_person(
    console: Console, emulator: SlackEmulator, org: SyntheticOrg, *, prefer: str = ""
) -> None:
    """A respondent's last pulse DM as Slack stores it (it says what was answered, never with
    what) and the confirmation only they saw (ephemeral: Slack keeps no copy): the first
    respondent whose confirmation mentions `prefer` ("Doesn't apply to me"), else the first."""

    def ts(value: str) -> tuple[int, ...]:
        return tuple(int(part) for part in value.split("."))

    found: tuple[Person, list[dict[str, Any]], list[dict[str, Any]]] | None = None
    for candidate in org.people:
        dms = emulator.messages(emulator.dm_channel(candidate.user_id))
        last_pulses = [m for m in dms if question_ids(m)]
        if not last_pulses:
            continue
        seen = [  # confirmations of answers to that last pulse, not to an earlier one
            c
            for c in confirmations(emulator, candidate.user_id)
            if ts(c["message_ts"]) > ts(last_pulses[-1]["ts"])
        ]
        if not seen:
            continue
        if found is None:
            found = (candidate, last_pulses, seen)
        if prefer and prefer in seen[-1].get("text", ""):
            found = (candidate, last_pulses, seen)
            break
    if found is None:
        return
    person, pulses, shown = found
    width = max(console.width, 100)
    console.rule(f"{person.name}'s last pulse DM, as Slack stores it (and any export shows it)")
    console.print(
        render_channel(pulses[-1:], width=width),
        markup=False,
        highlight=False,
        emoji=False,
        soft_wrap=True,
    )
    console.rule(f"What only {person.name} saw after answering (ephemeral: Slack keeps no copy)")
    console.print(
        render_channel(shown[-1:], width=width),
        markup=False,
        highlight=False,
        emoji=False,
        soft_wrap=True,
    )
    console.rule()


def _play_conversation(
    emulator: SlackEmulator,
    *,
    deps: Deps,
    gateway: SlackGateway,
    clock: ManualClock,
    org: SyntheticOrg,
    author: str | None,
) -> Conversation | None:
    if author is None:
        return None
    return play_conversation(
        emulator,
        deps,
        gateway,
        clock,
        leadership_channel=LEADERSHIP_CHANNEL,
        # A leader other than the author (who may well be a leader themselves).
        leader=next(leader for leader in org.leaders if leader != author),
        author=author,
        reply="Thank you for saying it. What would help most this month?",
        answer="Being trusted to refund small amounts without waiting for approval.",
    )


def _show_conversation(console: Console, played: Conversation | None) -> None:
    """The leader's side of the demo's confidential conversation, as Slack stores it."""
    if played is None:
        return
    console.rule('A confidential reply, in the leader\'s DM (the answer is signed "the author")')
    console.print(
        render_channel(played.leader_side, width=max(console.width, 100)),
        markup=False,
        highlight=False,
        emoji=False,
        soft_wrap=True,
    )
    console.print(
        f"The relay held the leader's reply {played.waited_s:.0f} s (a random delay) before "
        "passing it to the author's DM; nothing in the database ties the comment to them but "
        "an encrypted link, gone when the conversation ends.",
        markup=False,
        highlight=False,
    )
    console.rule()


def interactive() -> bool:
    """Someone at a terminal (and not CI): the demo then keeps serving its report."""
    try:
        return sys.stdin.isatty() and not os.environ.get("CI")
    except (AttributeError, ValueError):  # no stdin at all, or a closed one
        return False


def _until_interrupted(_link: str) -> None:
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


def offer_report(
    console: Console,
    emulator: SlackEmulator,
    org: SyntheticOrg,
    *,
    serve_until: Callable[[str], None] | None,
) -> str:
    """End on the web report's link: a leader signed in in one click (the emulator's one-click
    link runs the real Sign in with Slack flow). With `serve_until`, the report is served
    until it returns (at a terminal, Ctrl-C); it gets the link. Returns the link."""
    leader = org.leaders[0]
    name = next((p.name for p in org.people if p.user_id == leader), leader)
    link = emulator.openid.one_click_link(leader, client_id=DEMO_CLIENT_ID)
    when = "served until Ctrl-C" if serve_until else "served while `make demo` runs at a terminal"
    offer = f"The web report, signed in as {name} (a leader) in one click; {when}:"
    console.print(offer, markup=False, highlight=False, emoji=False, soft_wrap=True)
    console.print(link, markup=False, highlight=False, emoji=False, soft_wrap=True)
    if serve_until is not None:
        serve_until(link)
    return link


def run_demo(
    console: Console,
    *,
    seed: int,
    database: Path,
    progress_console: Console | None = None,
    keep_serving: bool | None = None,
) -> None:
    """Tell the story on `console`; progress bars go to `progress_console` (default: the same
    one), so the CLI can keep them on stderr and the digest alone on stdout. It ends on the web
    report's link and, at a terminal (`keep_serving` None: stdin a TTY and CI unset), serves it
    until Ctrl-C."""
    started = time.monotonic()
    bars = progress_console or console
    database = database.resolve()
    # Only what a demo run writes is removed: `--database ~/x.db` must never empty a folder.
    for leftover in (
        database,
        *(database.with_name(database.name + suffix) for suffix in ("-wal", "-shm", "-journal")),
        *(database.parent / name for name in DEMO_FILES),
    ):
        leftover.unlink(missing_ok=True)
    database.parent.mkdir(parents=True, exist_ok=True)
    # The simulated people click faster than any workspace; waitress's "task queue depth"
    # warning is noise in the demo's story.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    org = build_org(seed, people_per_team=PEOPLE_PER_TEAM)
    with SlackEmulator(bot_token=TOKEN, signing_secret=SIGNING_SECRET) as emulator:
        install_org(emulator, org)
        report_port = free_port()
        report_url = f"http://127.0.0.1:{report_port}"
        settings = sandbox_settings(emulator, database, org, report_url=report_url)
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        clock = ManualClock(today - timedelta(weeks=LIVE_WEEKS + 1))
        enable_report(emulator, report_url, clock)
        deps = build_deps(settings, clock=clock)
        first_live = next_pulse_at(settings, clock.now())
        with Progress(console=bars, transient=True) as progress:
            weeks = progress.add_task("Importing weeks of history", total=HISTORY_WEEKS)
            imported = import_history(
                deps,
                org,
                seed,
                first_live,
                database.parent,
                week_done=lambda: progress.advance(weeks),
            )
        console.print(
            f"Imported {imported} answers: {HISTORY_WEEKS} weeks of history "
            f"({database.parent / 'history.csv'})."
        )
        with ServedBot(deps) as bot:
            emulator.set_app_url(bot.events_url)
            simulation = Simulation(emulator, deps, org, seed)
            with Progress(console=bars, transient=True) as progress:
                task = progress.add_task(
                    f"Simulating {LIVE_WEEKS} weekly rounds", total=LIVE_WEEKS * 3 + 1
                )
                day, hour, minute = settings.pulse_weekly
                for week in range(LIVE_WEEKS):
                    period = period_key(next_pulse_at(settings, clock.now()), settings.zone)
                    waves = sorted(
                        (
                            local_due_at(
                                period, settings.pulse_weekly, person_zone(tz, settings.zone)
                            ),
                            tz,
                        )
                        for tz in {person.tz for person in org.people}
                    )
                    sent = 0
                    for due, tz in waves:  # the pulse job's runs at each zone's local time
                        clock.set(max(due, clock.now()))
                        sent += run_pulse_schedule(deps, bot.gateway).sent
                        progress.update(
                            task,
                            description=(
                                f"Round {period}: {sent} DMs sent ({day} {hour:02d}:{minute:02d}"
                                f" in {tz})"
                            ),
                        )
                    progress.advance(task)
                    clock.advance(timedelta(hours=3))
                    clicks, comments = simulation.run_week(week, sent)
                    progress.update(
                        task,
                        advance=1,
                        description=f"Round {period}: {clicks} answers, {comments} comments",
                    )
                    clock.set(
                        next_fire(
                            digest_trigger(settings),
                            clock.now() + timedelta(days=settings.round_days),
                        )
                    )
                    post_due_digest(deps, bot.gateway)
                    progress.update(task, advance=1, description=f"Digest for {period} posted")
                progress.update(task, advance=1)
            # A leader replies to the comment opened to replies; its author answers back.
            conversation = _play_conversation(
                emulator,
                deps=deps,
                gateway=bot.gateway,
                clock=clock,
                org=org,
                author=simulation.replying,
            )
        zones = ", ".join(sorted({person.tz for person in org.people}))
        console.print(
            f"{LIVE_WEEKS} live rounds, one per week: each DM went out at {day} "
            f"{hour:02d}:{minute:02d} on its recipient's own clock ({zones})."
        )
        messages = emulator.messages(LEADERSHIP_CHANNEL)
        digests = [m for m in messages if is_digest(m)]
        console.rule("#cx-leadership, as a leader sees it (latest digest)")
        transcript = render_channel(digests[-1:], width=max(console.width, 100))
        console.print(transcript, markup=False, highlight=False, emoji=False, soft_wrap=True)
        console.rule()
        _show_one_person(console, emulator, org, prefer=deps.prompts.bank.not_applicable.label)
        _show_conversation(console, conversation)
        uploads = [f for f in emulator.uploaded_files() if f["completed"]]
        heatmaps = [f for f in uploads if f["name"].endswith("-heatmap.png")]
        charts = [f for f in uploads if f not in heatmaps]
        if charts:
            chart_path = database.parent / "latest-chart.png"
            chart_path.write_bytes(charts[-1]["content"])
            console.print(f"The chart posted with it: {chart_path} ({charts[-1]['alt_txt']})")
        if heatmaps:
            heatmap_path = database.parent / "latest-heatmap.png"
            heatmap_path.write_bytes(heatmaps[-1]["content"])
            console.print(f"The heatmap posted with it: {heatmap_path} ({heatmaps[-1]['alt_txt']})")
        nudges = sum(
            1
            for person in org.people
            for m in emulator.messages(emulator.dm_channel(person.user_id))
            if is_team_nudge(m)
        )
        calls = len(emulator.calls())
        console.print(
            f"{len(digests)} weekly digests posted, {nudges} team nudges sent to team leads; "
            f"{calls} Slack API calls served by the emulator; finished in "
            f"{time.monotonic() - started:.1f} s."
        )
        console.print(f"Database: {database}")
        console.print("The latest digest again, from a shell anywhere (paste the next line):")
        # One line, never wrapped or marked up, so it pastes as printed.
        console.print(
            digest_command(database), markup=False, highlight=False, emoji=False, soft_wrap=True
        )
        serving = interactive() if keep_serving is None else keep_serving
        # The same bot again, now on the port CX_PUBLIC_URL names, serving /report too.
        with ServedBot(deps, port=report_port) as served:
            emulator.set_app_url(served.events_url)
            offer_report(
                console, emulator, org, serve_until=_until_interrupted if serving else None
            )
    deps.engine.dispose()


def _cxpulse_command() -> list[str]:
    """This installation's `cxpulse` by its full path (not on PATH in a fresh shell), or the
    running interpreter's `-m bot` when the script is not installed."""
    script = Path(sysconfig.get_path("scripts")) / "cxpulse"
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-m", "bot"]


def digest_command(database: Path) -> str:
    """`cxpulse digest --print` on the demo's database as one shell line that works pasted
    into a fresh shell: every setting it needs inline (the demo-only key, never a real one)."""
    settings = {
        "DATABASE_URL": f"sqlite:///{database.resolve()}",
        "CX_PSEUDONYM_KEY": DEMO_PSEUDONYM_KEY,
        "CX_TIMEZONE": "Europe/London",  # the demo organisation's
    }
    words = [f"{name}={shlex.quote(value)}" for name, value in settings.items()]
    words += [shlex.quote(word) for word in [*_cxpulse_command(), "digest", "--print"]]
    return " ".join(words)
