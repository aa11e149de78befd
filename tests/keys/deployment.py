"""A deployment serving many workspaces, restarted with another environment the way an operator
redeploys (a new CX_ENCRYPTION_KEY or CX_PSEUDONYM_KEY)."""

from __future__ import annotations

from bot.clock import ManualClock
from bot.runtime import build_deps
from bot.sandbox.harness import ServedBot
from bot.settings import Settings
from bot.tenancy import Workspaces
from tests.e2e.conftest import TUESDAY_TEN
from tests.e2e.test_workspaces import Tenant


class Deployment:
    def __init__(self, environment: dict[str, str], tenants: tuple[Tenant, ...]) -> None:
        self.environment = environment
        self.tenants = tenants
        self.workspaces: Workspaces | None = None
        self._running: list[tuple[ServedBot, Workspaces]] = []

    def start(self, **changes: str) -> ServedBot:
        """Stop what runs, then serve with the environment changed by `changes`."""
        self.stop()
        self.environment = {**self.environment, **changes}
        settings = Settings.model_validate(self.environment)
        clock = ManualClock(TUESDAY_TEN)
        workspaces = Workspaces(settings, clock=clock)
        served = ServedBot(build_deps(settings, clock=clock), workspaces=workspaces).start()
        for tenant in self.tenants:
            tenant.emulator.set_app_url(served.events_url)
        self._running.append((served, workspaces))
        self.workspaces = workspaces
        return served

    def stop(self) -> None:
        while self._running:
            served, workspaces = self._running.pop()
            served.stop()
            workspaces.close()
            served.deps.engine.dispose()
        self.workspaces = None
