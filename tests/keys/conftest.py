"""Key rotation runs against the same real parts as the end-to-end tests: the emulator, the
served bot, real databases (SQLite, and PostgreSQL with --database=postgresql)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.conftest import bot, clock, deps, emulator, org  # noqa: F401
from tests.e2e.test_workspaces import Tenant, environment, front, tenants  # noqa: F401
from tests.keys.deployment import Deployment


@pytest.fixture
def deployment(
    environment: dict[str, str],  # noqa: F811
    tenants: tuple[Tenant, Tenant],  # noqa: F811
) -> Iterator[Deployment]:
    served = Deployment(environment, tenants)
    yield served
    served.stop()
