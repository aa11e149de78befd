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
    PULSE_NOW_CONFIRM = "pulse_now_confirm"  # `/cx pulse`: send the ad hoc round asked about
    PULSE_NOW_CANCEL = "pulse_now_cancel"
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
    SETTINGS_TEAM_LEADS = "settings_team_leads"  # one user picker per team, in its own block
    COMMIT_FOCUS = "commit_focus"  # the digest's "I'll take this on"
    COMMITMENT_DIMENSION = "commitment_dimension"
    COMMITMENT_TEXT = "commitment_text"
    COMMITMENT_DUE = "commitment_due"
    COMMITMENT_OWNER = "commitment_owner"
    READ_ALL_COMMENTS = "read_all_comments"
    COMMENTS_PREVIOUS = "comments_previous"  # paging inside the Read-all modal
    COMMENTS_NEXT = "comments_next"
    COMMENTS_FILTER = "comments_filter"  # the Read-all modal's dimension filter
    COMMENTS_THEME_FILTER = "comments_theme_filter"  # and its theme filter
    # Confidential replies (bot.slack.replies): a leader's Reply on a comment (digest, Read-all
    # modal, their DM), the author's Reply in theirs, and Close on either side.
    REPLY_TO_COMMENT = "reply_to_comment"
    REPLY_CLOSE_LEADER = "reply_close_leader"
    REPLY_ANSWER = "reply_answer"
    REPLY_CLOSE_AUTHOR = "reply_close_author"
    REPLY_TEXT = "reply_text"
    COMMENT_REPLIES = "comment_replies"  # the comment modal's opt-in checkbox
    SETTINGS_KUDOS_CHANNEL = "settings_kudos_channel"
    KUDOS_RECIPIENT = "kudos_recipient"  # the kudos modal's people picker
    KUDOS_STORY = "kudos_story"


class BlockId(StrEnum):
    QUESTION_PREFIX = "q:"
    ANSWERED_PREFIX = "answered:"  # the pulse DM's "Answered" line under a statement
    CONFIRMED_PREFIX = "confirmed:"  # one chosen answer in the ephemeral confirmation
    COMMENT_ACTIONS = "comment_actions"
    COMMENT_QUESTION = "comment_question_block"
    COMMENT_TEXT = "comment_text_block"
    FORGET_ME = "forget_me"
    PULSE_NOW = "pulse_now"
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
    SETTINGS_TEAM_LEADS_PREFIX = "settings_team_leads:"  # + the team's name
    SETTINGS_KUDOS_CHANNEL = "settings_kudos_channel_block"
    KUDOS_RECIPIENT = "kudos_recipient_block"
    KUDOS_STORY = "kudos_story_block"
    DIGEST_KUDOS = "digest_kudos"
    DIGEST_HEADER = "digest_header"  # how a digest is told apart in a channel's history
    DIGEST_FOCUS = "digest_focus"
    DIGEST_COMMENTS = "digest_comments"
    COMMITMENT_DIMENSION = "commitment_dimension_block"
    COMMITMENT_TEXT = "commitment_text_block"
    COMMITMENT_DUE = "commitment_due_block"
    COMMITMENT_OWNER = "commitment_owner_block"
    COMMENTS_NAV = "comments_nav"
    COMMENT_PREFIX = "comment:"  # + its id: a comment with a Reply button (digest, Read-all)
    COMMENT_REPLIES = "comment_replies_block"
    REPLY_TEXT = "reply_text_block"
    REPLY_ACTIONS = "reply_actions"


class CallbackId(StrEnum):
    COMMENT_MODAL = "comment_modal"
    SETTINGS_MODAL = "settings_modal"
    COMMITMENT_MODAL = "commitment_modal"
    COMMENTS_MODAL = "comments_modal"
    LEADER_REPLY_MODAL = "leader_reply_modal"
    AUTHOR_REPLY_MODAL = "author_reply_modal"
    REPLY_NOTICE_MODAL = "reply_notice_modal"  # what a reply modal became: sent, or refused
    KUDOS_MODAL = "kudos_modal"


class ShortcutId(StrEnum):
    """Shortcuts declared in manifest.yml (features.shortcuts), by callback id."""

    KUDOS = "cx_kudos_shortcut"  # a message's More actions > Give CX kudos


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
        ActionId.SETTINGS_TEAM_LEADS,
        ActionId.COMMITMENT_DIMENSION,
        ActionId.COMMITMENT_TEXT,
        ActionId.COMMITMENT_DUE,
        ActionId.COMMITMENT_OWNER,
        ActionId.REPLY_TEXT,
        ActionId.COMMENT_REPLIES,
        ActionId.SETTINGS_KUDOS_CHANNEL,
        ActionId.KUDOS_RECIPIENT,
        ActionId.KUDOS_STORY,
    }
)
