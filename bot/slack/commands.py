"""`/cx`: parse the sub-command, check who may run it, call a service, reply ephemerally."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from slack_bolt import Ack, App, BoltContext
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient

from bot.errors import (
    CommandUsage,
    NoLeadershipChannel,
    NotAllowed,
    UnknownCommand,
    UnknownDimension,
)
from bot.prompts import Prompts
from bot.render.adhoc_round import adhoc_round_question
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
from bot.render.team_leads import own_team_message
from bot.services.actions import record_action
from bot.services.context import Deps
from bot.services.digest import latest_report
from bot.services.language import prompts_for_member
from bot.services.members import set_participation
from bot.services.ports import OutgoingMessage, SlackGateway
from bot.services.roles import Audience, audience_copy_key, may_use
from bot.services.rounds import plan_adhoc_round
from bot.services.team_leads import team_access, team_view
from bot.slack import replies
from bot.slack.commitments import open_commitment_modal
from bot.slack.errors import politely
from bot.slack.kudos import kudos_command
from bot.slack.parsing import CxCommand, parse_cx


@dataclass(frozen=True, slots=True)
class Request:
    deps: Deps
    gateway: SlackGateway
    user_id: str
    command: CxCommand
    respond: Respond
    prompts: Prompts  # the language of the person who ran the command (their Slack locale)
    # For sub-commands that open a modal (`/cx act` alone).
    client: WebClient | None = None
    trigger_id: str = ""
    channel_id: str | None = None


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
    # Leaders and admins see any team; a team lead sees the teams they lead (by default).
    access = team_access(
        settings=request.deps.settings, gateway=request.gateway, user_id=request.user_id
    )
    view = team_view(request.deps, access, asked=" ".join(request.command.args) or None)
    if not view.teams:
        usage = request.prompts.copy.t("commands.team_usage", teams=team_names(view.report))
        raise CommandUsage(usage=usage)
    render = own_team_message if view.own_only else team_message
    for team in view.teams:
        _reply(request, render(view.report, request.prompts, team))


def _gaps(request: Request) -> None:
    _reply(request, gaps_message(latest_report(request.deps), request.prompts))


def _digest(request: Request) -> None:
    # A preview of what the leadership channel will get, so in the organisation's language.
    deps = request.deps
    message = digest_message(latest_report(deps), deps.prompts, zone_name=deps.settings.timezone)
    _reply(request, message)


def _pulse(request: Request) -> None:
    # Nothing is sent here: the reply says what a round now would do (or why it won't be
    # sent), and its Send button's handler sends it.
    deps = request.deps
    plan = plan_adhoc_round(deps, request.gateway, slack_user_id=request.user_id)
    _reply(request, adhoc_round_question(plan, request.prompts, days=deps.settings.round_days))


def _participation(opted_out: bool) -> Callable[[Request], None]:
    def run(request: Request) -> None:
        set_participation(request.deps, slack_user_id=request.user_id, opted_out=opted_out)
        key = "commands.optout_done" if opted_out else "commands.optin_done"
        _reply(request, text_reply(request.prompts.copy.t(key)))

    return run


def _act(request: Request) -> None:
    if not request.command.args and request.client is not None:
        # `/cx act` alone opens the same modal as the digest's "I'll take this on".
        open_commitment_modal(
            request.deps,
            request.client,
            trigger_id=request.trigger_id,
            user_id=request.user_id,
            dimension=None,
            channel=request.channel_id,
        )
        return
    action = record_action(request.deps, slack_user_id=request.user_id, args=request.command.args)
    name = request.prompts.dimension_name(action.dimension_id)
    text = request.prompts.copy.t("commands.act_done", name=name)
    _reply(request, text_reply(text))


def _kudos(request: Request) -> None:
    # Slack sends the rest as escaped markup (should_escape): a mention carries the user ID.
    rest = request.command.rest
    message = kudos_command(
        request.deps, request.gateway, giver=request.user_id, rest=rest, prompts=request.prompts
    )
    _reply(request, message)


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
    "team": SubCommand(Audience.TEAM_LEADS, _team),
    "gaps": SubCommand(Audience.LEADERS, _gaps),
    "kudos": SubCommand(Audience.EVERYONE, _kudos),
    # Confidential replies (bot.slack.replies): end every link to yourself; admins read what
    # leaders wrote to authors.
    "withdraw": SubCommand(Audience.EVERYONE, replies.withdraw_command),
    "replies-audit": SubCommand(Audience.ADMINS, replies.audit_command),
}


def handle_cx_command(
    ack: Ack, respond: Respond, command: dict[str, str], client: WebClient, context: BoltContext
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
        who = prompts.copy.t(audience_copy_key(sub.audience))
        raise NotAllowed(command=parsed.name, who=who)
    sub.run(
        Request(
            deps,
            gateway,
            user_id,
            parsed,
            respond,
            prompts,
            client=client,
            trigger_id=command.get("trigger_id") or "",
            channel_id=command.get("channel_id") or None,
        )
    )


CX_COMMAND = "/cx"
# What this surface registers; manifest.yml must declare exactly these (tests/test_manifest.py).
COMMANDS = (CX_COMMAND,)


def register(app: App) -> None:
    app.command(CX_COMMAND)(politely(handle_cx_command))
