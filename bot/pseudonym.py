"""Keyed pseudonyms: how answers name their respondent without naming a person."""

from __future__ import annotations

import hashlib
import hmac


class MissingPseudonymKey(ValueError):
    def __init__(self) -> None:
        super().__init__(
            "CX_PSEUDONYM_KEY is not set. Answers are stored under a keyed pseudonym of each "
            "person; set it to a long random secret (for example `openssl rand -hex 32`) and "
            "keep it: changing it later splits everyone's history in two."
        )


def pseudonym(key: bytes, slack_user_id: str) -> str:
    """HMAC-SHA256 of the Slack user ID, hex: stable per person, useless without the key."""
    return hmac.new(key, slack_user_id.encode(), hashlib.sha256).hexdigest()


def keyed_tag(key: bytes, purpose: str, *parts: str) -> str:
    """A keyed hash for one purpose (domain-separated from the pseudonym): links rows for
    whoever holds the key, and nothing for anyone else."""
    message = "\x1f".join((purpose, *parts)).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


# Each person's clicks are shifted by up to 2^50 microseconds (about 35 years), the same for
# all of their clicks: their own order survives, the time of day does not.
CLICK_OFFSET_SPAN = 2**50


def click_order(key: bytes, respondent: str, clicked_at_us: int) -> int:
    """A number that orders one person's clicks and says nothing about when anyone clicked."""
    offset = int(keyed_tag(key, "click", respondent)[:16], 16) % CLICK_OFFSET_SPAN
    return clicked_at_us + offset
