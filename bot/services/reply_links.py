"""The sealed link from an opted-in comment to its author (`reply_link.sealed`).

Fernet (MultiFernet over CX_ENCRYPTION_KEY: the first key encrypts, every key decrypts, and
`cxpulse rotate-keys` re-encrypts the column through bot.db.encrypted). Three things keep the
token itself from saying more than the key holder may read:
- the plaintext is padded to a fixed length, so a token's length does not tell a short
  Slack user ID from a long one;
- Fernet writes its creation time in clear into every token: the link is sealed "at" the
  round's opening instead (`encrypt_at_time`), the same for every link of a round, and
  re-sealing keeps it, so no token dates the click that made it;
- Fernet's random IV makes two links of one person look unrelated.

Without CX_ENCRYPTION_KEY no link is ever made (`link_cipher` is None): the comment modal does
not offer replies, and forget-me cannot find any comment.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING

from bot.encryption import multi_fernet

if TYPE_CHECKING:
    from cryptography.fernet import MultiFernet

    from bot.services.context import Deps

PLAINTEXT_BYTES = 256


@dataclass(frozen=True, slots=True)
class Author:
    """Who wrote a comment, as only the relay may read it: their Slack user ID and, once a
    leader's reply reached them, their DM with the bot and the conversation's first message."""

    user_id: str
    channel: str | None = None
    root_ts: str | None = None


class LinkCipher:
    def __init__(self, fernet: MultiFernet) -> None:
        self._fernet = fernet

    def seal(self, author: Author, *, at: datetime) -> str:
        """The link's ciphertext, dated `at` (a coarse time: the round's opening)."""
        return self._seal(author, int(at.timestamp()))

    def _seal(self, author: Author, timestamp: int) -> str:
        data = json.dumps(
            {"u": author.user_id, "c": author.channel, "t": author.root_ts},
            separators=(",", ":"),
        ).encode()
        if len(data) > PLAINTEXT_BYTES:
            raise ValueError("a reply link's plaintext does not fit its padding")
        padded = data + b" " * (PLAINTEXT_BYTES - len(data))
        return self._fernet.encrypt_at_time(padded, timestamp).decode()

    def open(self, sealed: str) -> Author | None:
        """The author behind a link; None when no key in CX_ENCRYPTION_KEY reads it."""
        from cryptography.fernet import InvalidToken

        try:
            data = json.loads(self._fernet.decrypt(sealed.encode()))
        except (InvalidToken, ValueError):
            return None
        if not isinstance(data, dict) or not isinstance(data.get("u"), str):
            return None
        channel, root = data.get("c"), data.get("t")
        return Author(
            user_id=data["u"],
            channel=channel if isinstance(channel, str) else None,
            root_ts=root if isinstance(root, str) else None,
        )

    def reseal(self, sealed: str, author: Author) -> str:
        """New contents for a link, under the first key, keeping the link's coarse date."""
        timestamp = self._fernet.extract_timestamp(sealed.encode())
        return self._seal(author, timestamp)


@lru_cache(maxsize=8)
def _cipher(keys: tuple[str, ...]) -> LinkCipher:
    return LinkCipher(multi_fernet(keys))


def link_cipher(deps: Deps) -> LinkCipher | None:
    """The relay's cipher, or None when CX_ENCRYPTION_KEY is unset (replies are then off)."""
    keys = deps.env.encryption_keys
    return _cipher(keys) if keys else None
