"""The App Home tab: one view per person, with leader and admin sections when they apply."""

from __future__ import annotations

import re

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.analytics.rotation import round_length
from bot.prompts import Prompts
from bot.render.digest import dimension_name, pct
from bot.render.escape import escape_text
from bot.render.ids import ActionId, BlockId
from bot.render.kudos import kudos_channel_summary
from bot.render.team_leads import own_teams_blocks, team_leads_summary
from bot.render.timefmt import local_time
from bot.services.home import HomeState, LeaderSummary
from bot.settings import Settings

CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,20}$")


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text))


def channel_mention(channel: str | None, prompts: Prompts) -> str:
    """A channel link for a real channel ID; anything else is shown as escaped text."""
    if not channel:
        return prompts.copy.t("home.admin_no_channel")
    return f"<#{channel}>" if CHANNEL_ID.match(channel) else escape_text(channel)


def _status_lines(state: HomeState, prompts: Prompts) -> list[str]:
    copy = prompts.copy
    if state.opted_out:
        first = copy.t("home.opted_out")
    elif state.paused or state.next_pulse is None:
        first = copy.t("home.paused")
    else:
        when = local_time(state.next_pulse, state.zone_name, copy)
        first = copy.t("home.next_pulse", when=when)
    lines = []
    if state.open_pulse is not None:  # in their DMs now, whatever comes next
        answered = state.open_pulse.answered
        key = "scheduling.home_open_answered" if answered else "scheduling.home_open"
        closes = local_time(state.open_pulse.closes_at, state.zone_name, copy)
        lines.append(copy.t(key, period=state.open_pulse.period, closes=closes))
    lines.append(first)
    if state.streak > 1:
        streak = copy.t("home.streak", count=state.streak)
    elif state.streak == 1:
        streak = copy.t("home.streak_one")
    else:
        streak = copy.t("home.streak_none")
    return [*lines, streak]


def _own_answers(state: HomeState, prompts: Prompts) -> str:
    copy = prompts.copy
    lines = [copy.t("home.own_answers_title")]
    lines += [
        copy.t(
            "home.own_answer",
            period=answer.period,
            text=prompts.statement(answer.question_id, answer.question_text),
            label=prompts.bank.label(answer.score),
        )
        for answer in state.own_answers
    ] or [copy.t("home.own_answers_none")]
    return "\n".join(lines)


def _everyone(state: HomeState, prompts: Prompts) -> list[Block]:
    copy = prompts.copy
    toggle = (
        ButtonElement(action_id=ActionId.HOME_OPT_IN, text=copy.t("home.optin_button"), value="in")
        if state.opted_out
        else ButtonElement(
            action_id=ActionId.HOME_OPT_OUT, text=copy.t("home.optout_button"), value="out"
        )
    )
    blocks: list[Block] = [
        HeaderBlock(text=copy.t("home.title")),
        ContextBlock(
            elements=[MarkdownTextObject(text=copy.t("home.intro", min_group=state.min_group_size))]
        ),
        _section("\n".join(_status_lines(state, prompts))),
        _section(_own_answers(state, prompts)),
        ActionsBlock(block_id=BlockId.HOME_ACTIONS, elements=[toggle]),
        DividerBlock(),
        _section(
            copy.t(
                "home.privacy",
                min_group=state.min_group_size,
                comment_minimum=state.comment_minimum,
            )
        ),
        _section(copy.t("home.why_title")),
    ]
    for dimension in prompts.bank.dimensions:
        # Each `why` names its seed article's real title and quotes the line it draws on.
        why = copy.t("home.why_line", name=dimension.name, why=dimension.why)
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=why)]))
    return blocks


def _leader_lines(summary: LeaderSummary | None, prompts: Prompts) -> list[str]:
    copy = prompts.copy
    if summary is None:
        return [copy.t("home.leader_none")]
    rate = None if summary.response_rate is None else pct(summary.response_rate).rstrip("%")
    if rate is None:
        participation = copy.t("home.leader_participation_count", respondents=summary.respondents)
    else:
        participation = copy.t(
            "home.leader_participation", respondents=summary.respondents, rate=rate
        )
    lines = [copy.t("home.leader_headline", period=summary.period, participation=participation)]
    lines += [
        copy.t(
            "home.leader_gap",
            name=dimension_name(prompts, gap.dimension),
            leaders=f"{gap.leaders_mean:.1f}",
            others=f"{gap.others_mean:.1f}",
            gap=gap.gap,
        )
        for gap in summary.gaps
    ] or [copy.t("home.leader_no_gap")]
    if summary.focus and summary.focus_nudge:
        lines.append(
            copy.t(
                "home.leader_focus",
                name=dimension_name(prompts, summary.focus),
                nudge=summary.focus_nudge,
            )
        )
    return lines


def settings_summary(settings: Settings, prompts: Prompts) -> str:
    copy = prompts.copy
    channels = ", ".join(
        f"{escape_text(team)} → {channel_mention(channel, prompts)}"
        for team, channel in sorted(settings.team_channels.items())
    )
    day, hour, minute = settings.pulse_weekly
    return copy.t(
        "home.admin_summary",
        channel=channel_mention(settings.leadership_channel, prompts),
        schedule=f"{copy.t(f'settings.weekday_{day}')} {hour:02d}:{minute:02d}",
        zone=settings.timezone,
        questions=round_length(settings.questions_per_round, len(prompts.bank.outcome_questions)),
        days=settings.round_days,
        min_group=settings.min_group_size,
        team_source=copy.t(f"settings.team_source_{settings.team_source}"),
        team_channels=copy.t("home.admin_team_channels", channels=channels) if channels else "",
        status=copy.t("home.admin_paused" if settings.paused else "home.admin_running"),
    )


def _admin(settings: Settings, prompts: Prompts) -> list[Block]:
    copy = prompts.copy
    pause = (
        ButtonElement(
            action_id=ActionId.HOME_RESUME, text=copy.t("home.resume_button"), value="resume"
        )
        if settings.paused
        else ButtonElement(
            action_id=ActionId.HOME_PAUSE, text=copy.t("home.pause_button"), value="pause"
        )
    )
    return [
        DividerBlock(),
        _section(copy.t("home.admin_title")),
        _section(settings_summary(settings, prompts)),
        *[_section(text) for text in [team_leads_summary(settings.team_leads, prompts)] if text],
        _section(kudos_channel_summary(settings, prompts)),
        ActionsBlock(
            block_id=BlockId.HOME_ADMIN_ACTIONS,
            elements=[
                ButtonElement(
                    action_id=ActionId.HOME_OPEN_SETTINGS,
                    text=copy.t("home.settings_button"),
                    value="open",
                    style="primary",
                ),
                pause,
            ],
        ),
    ]


def home_view(state: HomeState, prompts: Prompts) -> View:
    blocks = _everyone(state, prompts)
    if state.own_teams is not None:
        blocks += [DividerBlock(), *own_teams_blocks(state.own_teams, prompts)]
    if state.show_leader_section:
        copy = prompts.copy
        blocks += [
            DividerBlock(),
            _section(copy.t("home.leader_title")),
            _section("\n".join(_leader_lines(state.leader, prompts))),
        ]
    if state.admin_settings is not None:
        blocks += _admin(state.admin_settings, prompts)
    return View(type="home", blocks=blocks)
