"""Every action, block and callback id the app uses, in one place."""

from __future__ import annotations

from enum import StrEnum


class ActionId(StrEnum):
    ANSWER_PREFIX = "answer:"
    OPEN_COMMENT = "open_comment"
    COMMENT_QUESTION = "comment_question"
    COMMENT_TEXT = "comment_text"
    FORGET_ME_CONFIRM = "forget_me_confirm"
    FORGET_ME_CANCEL = "forget_me_cancel"
    HOME_OPT_OUT = "home_opt_out"
    HOME_OPT_IN = "home_opt_in"
    HOME_OPEN_SETTINGS = "home_open_settings"
    HOME_PAUSE = "home_pause"
    HOME_RESUME = "home_resume"
    SETTINGS_LEADERSHIP_CHANNEL = "settings_leadership_channel"
    SETTINGS_PULSE_DAY = "settings_pulse_day"
    SETTINGS_PULSE_TIME = "settings_pulse_time"
    SETTINGS_QUESTIONS = "settings_questions_per_round"
    SETTINGS_ROUND_DAYS = "settings_round_days"
    SETTINGS_MIN_GROUP = "settings_min_group_size"
    SETTINGS_TEAM_SOURCE = "settings_team_source"
    SETTINGS_TEAM_CHANNELS = "settings_team_channels"
    SETTINGS_PAUSED = "settings_paused"


class BlockId(StrEnum):
    QUESTION_PREFIX = "q:"
    ANSWERED_PREFIX = "answered:"  # the pulse DM's "Answered" line under a statement
    CONFIRMED_PREFIX = "confirmed:"  # one chosen answer in the ephemeral confirmation
    COMMENT_ACTIONS = "comment_actions"
    COMMENT_QUESTION = "comment_question_block"
    COMMENT_TEXT = "comment_text_block"
    FORGET_ME = "forget_me"
    HOME_ACTIONS = "home_actions"
    HOME_ADMIN_ACTIONS = "home_admin_actions"
    # Settings modal inputs: one block per setting, so a problem shows beside its own field.
    SETTINGS_LEADERSHIP_CHANNEL = "settings_leadership_channel_block"
    SETTINGS_PULSE_DAY = "settings_pulse_day_block"
    SETTINGS_PULSE_TIME = "settings_pulse_time_block"
    SETTINGS_QUESTIONS = "settings_questions_block"
    SETTINGS_ROUND_DAYS = "settings_round_days_block"
    SETTINGS_MIN_GROUP = "settings_min_group_block"
    SETTINGS_TEAM_SOURCE = "settings_team_source_block"
    SETTINGS_TEAM_CHANNELS = "settings_team_channels_block"
    SETTINGS_PAUSED = "settings_paused_block"


class CallbackId(StrEnum):
    COMMENT_MODAL = "comment_modal"
    SETTINGS_MODAL = "settings_modal"


# Modal input elements: Slack sends their values in the view_submission's state, never as
# block_actions, so no action listener handles them. Every other ActionId needs one.
INPUT_ACTION_IDS = frozenset(
    {
        ActionId.COMMENT_QUESTION,
        ActionId.COMMENT_TEXT,
        ActionId.SETTINGS_LEADERSHIP_CHANNEL,
        ActionId.SETTINGS_PULSE_DAY,
        ActionId.SETTINGS_PULSE_TIME,
        ActionId.SETTINGS_QUESTIONS,
        ActionId.SETTINGS_ROUND_DAYS,
        ActionId.SETTINGS_MIN_GROUP,
        ActionId.SETTINGS_TEAM_SOURCE,
        ActionId.SETTINGS_TEAM_CHANNELS,
        ActionId.SETTINGS_PAUSED,
    }
)
