"""the pseudonym key the database is under, so it can be rotated and a wrong key refused

- pseudonym_key: one row, the generation of CX_PSEUDONYM_KEY the stored pseudonyms are under
  and a keyed hash of nothing under it (`key_check`), which tells the right key from another
  without storing it. Recorded here when the key is given to the migration, else by the first
  command that runs with a key.
- pulse_round.key_generation: for imported rounds, the generation their respondents were
  pseudonymised under (1 for every round imported before this migration); after a rotation
  such a round takes no more imports, since a file's respondents no longer match its answers.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08 09:00:00.000000
"""

import hashlib
import hmac
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import context, op

import bot.db.types

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _key_check(key: str) -> str:
    """bot.pseudonym.key_check, as it is today (a migration keeps its own copy)."""
    return hmac.new(key.encode(), b"key-check", hashlib.sha256).hexdigest()


def upgrade() -> None:
    op.create_table(
        "pseudonym_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("key_check", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("since", bot.db.types.UTCDateTime(), nullable=False),
        sa.CheckConstraint("id = 1", name="ck_pseudonym_key_one_row"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("pulse_round", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key_generation", sa.Integer(), nullable=True))
    op.execute("UPDATE pulse_round SET key_generation = 1 WHERE kind = 'imported'")
    key = context.config.attributes.get("pseudonym_key")
    if key:
        state = sa.table(
            "pseudonym_key",
            sa.column("id"),
            sa.column("generation"),
            sa.column("key_check"),
            sa.column("since", bot.db.types.UTCDateTime()),
        )
        op.bulk_insert(
            state,
            [
                {
                    "id": 1,
                    "generation": 1,
                    "key_check": _key_check(str(key)),
                    "since": datetime.now(UTC),
                }
            ],
        )


def downgrade() -> None:
    with op.batch_alter_table("pulse_round", schema=None) as batch_op:
        batch_op.drop_column("key_generation")
    op.drop_table("pseudonym_key")
