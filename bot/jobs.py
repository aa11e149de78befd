"""Entry points the scheduler stores by reference; each builds its dependencies from settings."""

from __future__ import annotations

from bot.db.models import RoundKind
from bot.runtime import build_deps
from bot.services.privacy import purge_old_answers
from bot.services.publishing import post_due_digest
from bot.services.reminders import send_reminders
from bot.services.rounds import send_round
from bot.settings import Settings
from bot.slack.gateway import make_gateway


def scheduled_pulse() -> None:
    settings = Settings()
    deps = build_deps(settings)
    try:
        send_round(deps, make_gateway(settings), kind=RoundKind.SCHEDULED)
    finally:
        deps.engine.dispose()


def scheduled_digest() -> None:
    settings = Settings()
    deps = build_deps(settings)
    try:
        post_due_digest(deps, make_gateway(settings))
    finally:
        deps.engine.dispose()


def scheduled_purge() -> None:
    deps = build_deps(Settings())
    try:
        purge_old_answers(deps)
    finally:
        deps.engine.dispose()


def scheduled_reminders() -> None:
    settings = Settings()
    deps = build_deps(settings)
    try:
        send_reminders(deps, make_gateway(settings))
    finally:
        deps.engine.dispose()
