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
