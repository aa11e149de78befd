"""The admins' settings modal, opened from App Home; every field starts at the value in force."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    ContextBlock,
    ConversationFilter,
    ConversationSelectElement,
    InputBlock,
    MarkdownTextObject,
    NumberInputElement,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    SectionBlock,
    StaticSelectElement,
    TimePickerElement,
    UserMultiSelectElement,
)
from slack_sdk.models.views import View

from bot.analytics.periods import WEEKDAYS
from bot.prompts import Prompts
from bot.render.ids import ActionId, BlockId, CallbackId
from bot.services.config import MAX_MIN_GROUP, MIN_GROUP_FLOOR
from bot.settings import Settings

# Which block shows a problem with which setting (see bot.services.config.ADJUSTABLE).
FIELD_BLOCKS: dict[str, BlockId] = {
    "leadership_channel": BlockId.SETTINGS_LEADERSHIP_CHANNEL,
    "pulse_schedule": BlockId.SETTINGS_PULSE_TIME,
    "questions_per_round": BlockId.SETTINGS_QUESTIONS,
    "round_days": BlockId.SETTINGS_ROUND_DAYS,
    "min_group_size": BlockId.SETTINGS_MIN_GROUP,
    "team_source": BlockId.SETTINGS_TEAM_SOURCE,
    "team_channels": BlockId.SETTINGS_TEAM_CHANNELS,
    "paused": BlockId.SETTINGS_PAUSED,
    "kudos_channel": BlockId.SETTINGS_KUDOS_CHANNEL,
}
VIEW_BLOCK_LIMIT = 100  # Slack's cap on a modal's blocks
MAX_LEADS_PER_TEAM = 10
QUESTIONS_CHOICES = (4, 5)
TEAM_SOURCES = ("usergroups", "channels")
MAX_ROUND_DAYS = 14


def team_channels_text(settings: Settings) -> str:
    return "\n".join(
        f"{team}={channel}" for team, channel in sorted(settings.team_channels.items())
    )


def team_lead_block(team: str) -> str:
    return f"{BlockId.SETTINGS_TEAM_LEADS_PREFIX}{team}"


def problem_block(name: str, view: Mapping[str, Any] | None) -> str:
    """The block a problem with setting `name` is shown beside (team leads: the first picker)."""
    if name == "team_leads":
        for block in (view or {}).get("blocks") or []:
            block_id = str(block.get("block_id") or "")
            if block_id.startswith(BlockId.SETTINGS_TEAM_LEADS_PREFIX):
                return block_id
    return str(FIELD_BLOCKS.get(name, BlockId.SETTINGS_LEADERSHIP_CHANNEL))


def team_lead_blocks(
    settings: Settings, prompts: Prompts, teams: Sequence[str], *, room: int
) -> list[Block]:
    """A user picker per team, as many as `room` blocks allow (with the section's own two)."""
    copy = prompts.copy
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=copy.t("team_leads.settings_title")))
    ]
    if not teams:
        note = copy.t("team_leads.settings_no_teams")
        return [*blocks, ContextBlock(elements=[MarkdownTextObject(text=note)])]
    shown = list(teams[: max(0, room - 2)])
    for team in shown:
        blocks.append(
            InputBlock(
                block_id=team_lead_block(team),
                label=copy.t("team_leads.settings_label", team=team),
                optional=True,
                element=UserMultiSelectElement(
                    action_id=ActionId.SETTINGS_TEAM_LEADS,
                    placeholder=copy.t("team_leads.settings_placeholder"),
                    initial_users=list(settings.team_leads.get(team, ())) or None,
                    max_selected_items=MAX_LEADS_PER_TEAM,
                ),
            )
        )
    if len(shown) < len(teams):
        note = copy.t("team_leads.settings_capped", shown=len(shown), total=len(teams))
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=note)]))
    return blocks


def settings_modal(settings: Settings, prompts: Prompts, teams: Sequence[str] = ()) -> View:
    copy = prompts.copy
    day, hour, minute = settings.pulse_weekly
    days = [Option(value=d, text=copy.t(f"settings.weekday_{d}")) for d in WEEKDAYS]
    sizes = [Option(value=str(n), text=str(n)) for n in QUESTIONS_CHOICES]
    sources = [Option(value=s, text=copy.t(f"settings.team_source_{s}")) for s in TEAM_SOURCES]
    pause = Option(value="paused", text=copy.t("settings.paused_option"))
    blocks: list[Block] = [
        ContextBlock(elements=[MarkdownTextObject(text=copy.t("settings.intro"))]),
        InputBlock(
            block_id=BlockId.SETTINGS_LEADERSHIP_CHANNEL,
            label=copy.t("settings.leadership_channel"),
            element=ConversationSelectElement(
                action_id=ActionId.SETTINGS_LEADERSHIP_CHANNEL,
                initial_conversation=settings.leadership_channel,
                filter=ConversationFilter(include=["public", "private"]),
            ),
        ),
        InputBlock(
            block_id=BlockId.SETTINGS_KUDOS_CHANNEL,
            label=copy.t("kudos.settings_label"),
            hint=copy.t("kudos.settings_hint"),
            optional=True,
            element=ConversationSelectElement(
                action_id=ActionId.SETTINGS_KUDOS_CHANNEL,
                initial_conversation=settings.kudos_channel,
                filter=ConversationFilter(include=["public", "private"]),
            ),
        ),
        InputBlock(
            block_id=BlockId.SETTINGS_PULSE_DAY,
            label=copy.t("settings.pulse_day"),
            element=StaticSelectElement(
                action_id=ActionId.SETTINGS_PULSE_DAY,
                options=days,
                initial_option=days[WEEKDAYS.index(day)],
            ),
        ),
        InputBlock(
            block_id=BlockId.SETTINGS_PULSE_TIME,
            label=copy.t("settings.pulse_time"),
            element=TimePickerElement(
                action_id=ActionId.SETTINGS_PULSE_TIME, initial_time=f"{hour:02d}:{minute:02d}"
            ),
        ),
        InputBlock(
            block_id=BlockId.SETTINGS_QUESTIONS,
            label=copy.t("settings.questions_per_round"),
            element=StaticSelectElement(
                action_id=ActionId.SETTINGS_QUESTIONS,
                options=sizes,
                initial_option=next(
                    (o for o in sizes if o.value == str(settings.questions_per_round)), sizes[0]
                ),
            ),
        ),
        InputBlock(
            block_id=BlockId.SETTINGS_ROUND_DAYS,
            label=copy.t("settings.round_days"),
            element=NumberInputElement(
                action_id=ActionId.SETTINGS_ROUND_DAYS,
                is_decimal_allowed=False,
                initial_value=settings.round_days,
                min_value=1,
                max_value=MAX_ROUND_DAYS,
            ),
        ),
        InputBlock(
            block_id=BlockId.SETTINGS_MIN_GROUP,
            label=copy.t("settings.min_group_size"),
            element=NumberInputElement(
                action_id=ActionId.SETTINGS_MIN_GROUP,
                is_decimal_allowed=False,
                initial_value=settings.min_group_size,
                min_value=MIN_GROUP_FLOOR,
                max_value=MAX_MIN_GROUP,
            ),
        ),
        InputBlock(
            block_id=BlockId.SETTINGS_TEAM_SOURCE,
            label=copy.t("settings.team_source"),
            element=RadioButtonsElement(
                action_id=ActionId.SETTINGS_TEAM_SOURCE,
                options=sources,
                initial_option=sources[TEAM_SOURCES.index(settings.team_source)],
            ),
        ),
        InputBlock(
            block_id=BlockId.SETTINGS_TEAM_CHANNELS,
            label=copy.t("settings.team_channels"),
            hint=copy.t("settings.team_channels_hint"),
            optional=True,
            element=PlainTextInputElement(
                action_id=ActionId.SETTINGS_TEAM_CHANNELS,
                multiline=True,
                max_length=2000,
                initial_value=team_channels_text(settings) or None,
            ),
        ),
        InputBlock(
            block_id=BlockId.SETTINGS_PAUSED,
            label=copy.t("settings.paused"),
            optional=True,
            element=CheckboxesElement(
                action_id=ActionId.SETTINGS_PAUSED,
                options=[pause],
                initial_options=[pause] if settings.paused else None,
            ),
        ),
    ]
    blocks += team_lead_blocks(settings, prompts, teams, room=VIEW_BLOCK_LIMIT - len(blocks))
    return View(
        type="modal",
        callback_id=CallbackId.SETTINGS_MODAL,
        title=copy.t("settings.title"),
        submit=copy.t("settings.submit"),
        close=copy.t("settings.close"),
        blocks=blocks,
    )
