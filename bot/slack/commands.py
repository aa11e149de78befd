"""`/cx`: parse the sub-command, check who may run it, call a service, reply ephemerally."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from slack_bolt import Ack, App, BoltContext
from slack_bolt.context.respond import Respond

from bot.db.models import RoundKind
from bot.errors import (
    CommandUsage,
    NoLeadershipChannel,
    NotAllowed,
    UnknownCommand,
    UnknownDimension,
)
from bot.prompts import Prompts
from bot.render.digest import digest_message
from bot.render.replies import (
    forget_me_question,
    gaps_message,
    help_message,
    score_message,
    team_message,
    team_names,
    text_reply,
    trend_message,
)
from bot.services.actions import record_action
from bot.services.context import Deps
from bot.services.digest import latest_report
from bot.services.language import prompts_for_member
from bot.services.members import set_participation
from bot.services.ports import OutgoingMessage, SlackGateway
from bot.services.roles import Audience, may_use
from bot.services.rounds import send_round
from bot.slack.errors import politely
from bot.slack.parsing import CxCommand, parse_cx


@dataclass(frozen=True, slots=True)
class Request:
    deps: Deps
    gateway: SlackGateway
    user_id: str
    command: CxCommand
    respond: Respond
    prompts: Prompts  # the language of the person who ran the command (their Slack locale)


def _reply(request: Request, message: OutgoingMessage) -> None:
    request.respond(
        text=message.text,
        blocks=[block.to_dict() for block in message.blocks],
        response_type="ephemeral",
        replace_original=False,
    )


def _help(request: Request) -> None:
    _reply(request, help_message(request.prompts, request.deps.settings.min_group_size))


def _dimension_arg(request: Request, index: int = 0) -> str | None:
    """The dimension named at `args[index]`, checked against the bank (None when absent)."""
    bank = request.deps.prompts.bank
    if len(request.command.args) <= index:
        return None
    dimension = request.command.args[index].lower()
    if dimension not in {d.id for d in bank.dimensions}:
        known = ", ".join(f"`{d.id}`" for d in bank.dimensions)
        raise UnknownDimension(name=dimension[:40], known=known)
    return dimension


def _score(request: Request) -> None:
    dimension = _dimension_arg(request)
    _reply(request, score_message(latest_report(request.deps), request.prompts, dimension))


DEFAULT_TREND_WEEKS = 12
MAX_TREND_WEEKS = 26


def _trend(request: Request) -> None:
    dimension = _dimension_arg(request)
    if dimension is None:
        raise CommandUsage(usage=request.prompts.copy.t("commands.trend_usage"))
    weeks = DEFAULT_TREND_WEEKS
    if len(request.command.args) > 1:
        word = request.command.args[1]
        if not word.isdigit() or not 1 <= int(word) <= MAX_TREND_WEEKS:
            raise CommandUsage(usage=request.prompts.copy.t("commands.trend_usage"))
        weeks = int(word)
    report = latest_report(request.deps)
    _reply(request, trend_message(report, request.prompts, dimension, weeks))


def _team(request: Request) -> None:
    report = latest_report(request.deps)
    if not request.command.args:
        usage = request.prompts.copy.t("commands.team_usage", teams=team_names(report))
        raise CommandUsage(usage=usage)
    team = " ".join(request.command.args)
    _reply(request, team_message(report, request.prompts, team))


def _gaps(request: Request) -> None:
    _reply(request, gaps_message(latest_report(request.deps), request.prompts))


def _digest(request: Request) -> None:
    # A preview of what the leadership channel will get, so in the organisation's language.
    deps = request.deps
    message = digest_message(latest_report(deps), deps.prompts, zone_name=deps.settings.timezone)
    _reply(request, message)


def _pulse(request: Request) -> None:
    copy = request.prompts.copy
    _reply(request, text_reply(copy.t("commands.pulse_started")))
    report = send_round(request.deps, request.gateway, kind=RoundKind.ADHOC)
    _reply(
        request,
        text_reply(
            copy.t(
                "commands.pulse_sent", period=report.period, sent=report.sent, failed=report.failed
            )
        ),
    )


def _participation(opted_out: bool) -> Callable[[Request], None]:
    def run(request: Request) -> None:
        set_participation(request.deps, slack_user_id=request.user_id, opted_out=opted_out)
        key = "commands.optout_done" if opted_out else "commands.optin_done"
        _reply(request, text_reply(request.prompts.copy.t(key)))

    return run


def _act(request: Request) -> None:
    action = record_action(request.deps, slack_user_id=request.user_id, args=request.command.args)
    name = request.prompts.dimension_name(action.dimension_id)
    text = request.prompts.copy.t("commands.act_done", name=name)
    _reply(request, text_reply(text))


def _forget_me(request: Request) -> None:
    # Nothing is deleted here: the reply asks, and the button's handler does the deleting.
    _reply(request, forget_me_question(request.prompts))


@dataclass(frozen=True, slots=True)
class SubCommand:
    audience: Audience
    run: Callable[[Request], None]


SUBCOMMANDS: dict[str, SubCommand] = {
    "help": SubCommand(Audience.EVERYONE, _help),
    "score": SubCommand(Audience.EVERYONE, _score),
    "optout": SubCommand(Audience.EVERYONE, _participation(opted_out=True)),
    "optin": SubCommand(Audience.EVERYONE, _participation(opted_out=False)),
    "forget-me": SubCommand(Audience.EVERYONE, _forget_me),
    "digest": SubCommand(Audience.LEADERS, _digest),
    "pulse": SubCommand(Audience.ADMINS, _pulse),
    "act": SubCommand(Audience.LEADERS, _act),
    "trend": SubCommand(Audience.EVERYONE, _trend),
    "team": SubCommand(Audience.LEADERS, _team),
    "gaps": SubCommand(Audience.LEADERS, _gaps),
}


def handle_cx_command(
    ack: Ack, respond: Respond, command: dict[str, str], context: BoltContext
) -> None:
    ack()
    deps: Deps = context["deps"]
    gateway: SlackGateway = context["gateway"]
    parsed = parse_cx(command.get("text"))
    sub = SUBCOMMANDS.get(parsed.name)
    if sub is None:
        raise UnknownCommand(command=parsed.name[:40])
    user_id = command.get("user_id") or ""
    if (
        sub.audience is Audience.LEADERS
        and not deps.settings.leadership_channel
        and user_id not in deps.settings.admins
    ):
        raise NoLeadershipChannel()
    # Slack sends no locale with a command: the person's comes from the directory.
    prompts = prompts_for_member(deps, slack_user_id=user_id)
    if not may_use(audience=sub.audience, settings=deps.settings, gateway=gateway, user_id=user_id):
        raise NotAllowed(command=parsed.name, who=prompts.copy.t(f"audiences.{sub.audience}"))
    sub.run(Request(deps, gateway, user_id, parsed, respond, prompts))


CX_COMMAND = "/cx"
# What this surface registers; manifest.yml must declare exactly these (tests/test_manifest.py).
COMMANDS = (CX_COMMAND,)


def register(app: App) -> None:
    app.command(CX_COMMAND)(politely(handle_cx_command))
