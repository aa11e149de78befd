"""Queries behind App Home: admins' settings (JSON keyed by name) and digest snapshots."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from bot.db.models import DigestSnapshot, WorkspaceSetting


def stored_settings(*, session: Session) -> dict[str, Any]:
    """Every stored override, decoded."""
    return {row.key: json.loads(row.value) for row in session.exec(select(WorkspaceSetting))}


def save_settings(
    *, session: Session, values: Mapping[str, Any], updated_by: str, now: datetime
) -> None:
    """Insert or replace each value; one transaction, so a form is saved whole or not at all."""
    for key, value in values.items():
        row = session.get(WorkspaceSetting, key)
        if row is None:
            row = WorkspaceSetting(key=key, value="", updated_by=updated_by, updated_at=now)
        row.value = json.dumps(value, sort_keys=True)
        row.updated_by = updated_by
        row.updated_at = now
        session.add(row)


def save_snapshot(
    *, session: Session, period: str, findings: Mapping[str, Any], now: datetime
) -> None:
    """Keep the gated findings of a posted digest; a later post of the same week replaces it."""
    row = session.get(DigestSnapshot, period) or DigestSnapshot(
        period=period, posted_at=now, findings=""
    )
    row.posted_at = now
    row.findings = json.dumps(findings, sort_keys=True)
    session.add(row)


def latest_snapshot(*, session: Session) -> tuple[str, datetime, dict[str, Any]] | None:
    """The newest week's findings: (period, posted_at, findings)."""
    row = session.exec(
        select(DigestSnapshot).order_by(col(DigestSnapshot.period).desc()).limit(1)
    ).first()
    return None if row is None else (row.period, row.posted_at, json.loads(row.findings))
