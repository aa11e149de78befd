"""Every value cx-pulse stores encrypted with CX_ENCRYPTION_KEY, and re-encrypting them.

`ENCRYPTED_COLUMNS` is the one list `cxpulse rotate-keys` works through: a new encrypted
column (the encrypted reply links of a later version, say) is one more entry here, and the
rotation, its progress bar and its tests pick it up with no other change. An entry names a
table, its primary key and the encrypted columns; `scope` says which database holds the table:
the deployment's main one (DATABASE_URL), or each workspace's own (see bot/tenancy.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from sqlalchemy import Connection, column, inspect, select, table, update

if TYPE_CHECKING:
    from cryptography.fernet import Fernet, MultiFernet


@dataclass(frozen=True, slots=True)
class EncryptedColumns:
    table: str
    key: str  # the primary key column
    columns: tuple[str, ...]
    scope: Literal["main", "workspace"] = "main"


ENCRYPTED_COLUMNS: tuple[EncryptedColumns, ...] = (
    # slack_sdk's installation store (bot/slack/installations.py seals the tokens).
    EncryptedColumns(
        "slack_installations",
        "id",
        ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token"),
    ),
    EncryptedColumns("slack_bots", "id", ("bot_token", "bot_refresh_token")),
    # Comments passed to admins, until delivered (bot/db/alerts.py); one table per workspace.
    EncryptedColumns("comment_alert", "id", ("sealed_text",), scope="workspace"),
    # The one link from an opted-in comment to its author (bot.services.reply_links), in
    # each workspace's database. MultiFernet.rotate keeps each token's coarse date.
    EncryptedColumns("reply_link", "id", ("sealed",), scope="workspace"),
)


class UnreadableSecrets(RuntimeError):
    """Stored values that no key in CX_ENCRYPTION_KEY decrypts; nothing was re-encrypted."""

    def __init__(self, where: dict[str, int]) -> None:
        self.where = where
        listed = ", ".join(f"{count} in {name}" for name, count in sorted(where.items()))
        super().__init__(f"{sum(where.values())} stored value(s) ({listed})")


@dataclass(frozen=True, slots=True)
class Reencrypted:
    values: int  # every encrypted value now under the first key
    were_older: int  # of which were under another key before


def present(connection: Connection, scope: str) -> list[EncryptedColumns]:
    """The registry's entries of this scope whose table exists in this database."""
    tables = set(inspect(connection).get_table_names())
    return [e for e in ENCRYPTED_COLUMNS if e.scope == scope and e.table in tables]


def count_rows(connection: Connection, entries: list[EncryptedColumns]) -> int:
    from sqlalchemy import func

    return sum(
        int(connection.execute(select(func.count()).select_from(table(e.table))).scalar_one())
        for e in entries
    )


def _rows(connection: Connection, entry: EncryptedColumns) -> Iterator[tuple[object, ...]]:
    names = (entry.key, *entry.columns)
    target = table(entry.table, *(column(name) for name in names))
    query = select(*(target.c[name] for name in names)).order_by(target.c[entry.key])
    yield from connection.execute(query)


def reencrypt(
    connection: Connection,
    entries: list[EncryptedColumns],
    *,
    fernet: MultiFernet,
    first: Fernet,
    progress: Callable[[int], None] | None = None,
) -> Reencrypted:
    """Re-encrypt every value of these entries under the first key, on `connection` (the
    caller's transaction: all or nothing). Raises UnreadableSecrets, before writing anything,
    if some value no key decrypts. `progress` hears of each row read (`count_rows` of them)."""
    from cryptography.fernet import InvalidToken

    updates: list[tuple[EncryptedColumns, object, dict[str, str]]] = []
    unreadable: dict[str, int] = {}
    values = older = 0
    for entry in entries:
        for row in _rows(connection, entry):
            key, sealed = row[0], row[1:]
            changed: dict[str, str] = {}
            for name, value in zip(entry.columns, sealed, strict=True):
                if not value:
                    continue
                token = str(value).encode()
                try:
                    changed[name] = fernet.rotate(token).decode()
                except InvalidToken:
                    where = f"{entry.table}.{name}"
                    unreadable[where] = unreadable.get(where, 0) + 1
                    continue
                values += 1
                try:
                    first.decrypt(token)
                except InvalidToken:
                    older += 1
            if changed:
                updates.append((entry, key, changed))
            if progress is not None:
                progress(1)
    if unreadable:
        raise UnreadableSecrets(unreadable)
    for entry, key, changed in updates:
        target = table(entry.table, column(entry.key), *(column(name) for name in changed))
        connection.execute(update(target).where(target.c[entry.key] == key).values(**changed))
    return Reencrypted(values=values, were_older=older)
