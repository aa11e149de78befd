"""Keyed pseudonyms: how answers name their respondent without naming a person."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime


class MissingPseudonymKey(ValueError):
    def __init__(self) -> None:
        super().__init__(
            "CX_PSEUDONYM_KEY is not set. Answers are stored under a keyed pseudonym of each "
            "person; set it to a long random secret (for example `openssl rand -hex 32`) and "
            "keep it (change it only with `cxpulse rotate-pseudonym-key`, which re-keys the "
            "stored answers; a key simply replaced splits everyone's history in two)."
        )


class PseudonymKeyMismatch(ValueError):
    """CX_PSEUDONYM_KEY is not the key the database's pseudonyms are under."""

    def __init__(self, *, generation: int, since: datetime) -> None:
        self.generation = generation
        self.since = since
        super().__init__(
            "CX_PSEUDONYM_KEY is not the key this database's answers are stored under "
            f"(key generation {generation}, in force since {since:%Y-%m-%d %H:%M} UTC). "
            "Nothing was read or written. If the key was just rotated with `cxpulse "
            "rotate-pseudonym-key`, start every process with the new key; otherwise set the "
            "key this database has always used. A different key would split everyone's history."
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


def click_offset(key: bytes, respondent: str) -> int:
    """The shift of one person's clicks (the same for all of them), from the key."""
    return int(keyed_tag(key, "click", respondent)[:16], 16) % CLICK_OFFSET_SPAN


def click_order(key: bytes, respondent: str, clicked_at_us: int) -> int:
    """A number that orders one person's clicks and says nothing about when anyone clicked."""
    return clicked_at_us + click_offset(key, respondent)


def key_check(key: bytes) -> str:
    """What the database keeps to recognise its key (`pseudonym_key.key_check`): a keyed hash of
    nothing, so it names nobody, and it tells a wrong key from the right one without the key
    itself ever being stored. (Like any pseudonym, it lets whoever has a copy test guesses of
    the key offline: use a long random key, such as `openssl rand -hex 32`.)"""
    return keyed_tag(key, "key-check")


def rekeyed(new_key: bytes, old_pseudonym: str) -> str:
    """The new pseudonym of someone whose raw ID is not stored (an imported respondent), when
    the key is rotated: HMAC of the old pseudonym under the new key. Their answers stay
    together; without the new key they link to nobody, and the old key alone no longer finds
    them (it would have to know the new key to follow the chain)."""
    return keyed_tag(new_key, "rekeyed", old_pseudonym)
