"""Listeners for kudos (issue 14): PLACEHOLDER until its author fills it in."""

from __future__ import annotations

from slack_bolt import App


def register(app: App) -> None:
    del app
