"""`cxpulse rotate-keys`: every value stored encrypted (bot.db.encrypted.ENCRYPTED_COLUMNS)
re-encrypted under the first key of CX_ENCRYPTION_KEY, in one transaction per database."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import Engine

from bot.db import encrypted
from bot.encryption import multi_fernet

SCOPES_OF_ONE_WORKSPACE = ("main", "workspace")  # one database holds both


class Progress(Protocol):
    def step(self, where: str, total: int) -> None: ...

    def advance(self, done: int) -> None: ...


def reencrypt_database(
    engine: Engine,
    *,
    keys: tuple[str, ...],
    scopes: tuple[str, ...],
    progress: Progress | None = None,
) -> encrypted.Reencrypted | None:
    """Re-encrypt this database's encrypted values of these scopes, all or nothing; None when
    it holds none of the registry's tables. Raises encrypted.UnreadableSecrets (nothing
    written) when a value no key decrypts."""
    from cryptography.fernet import Fernet

    fernet, first = multi_fernet(keys), Fernet(keys[0].encode())
    with engine.begin() as connection:
        entries = [e for scope in scopes for e in encrypted.present(connection, scope)]
        if not entries:
            return None
        if progress is not None:
            progress.step(
                ", ".join(e.table for e in entries), encrypted.count_rows(connection, entries)
            )
        return encrypted.reencrypt(
            connection,
            entries,
            fernet=fernet,
            first=first,
            progress=None if progress is None else progress.advance,
        )
