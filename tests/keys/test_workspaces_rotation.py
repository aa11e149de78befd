"""Rotating CX_PSEUDONYM_KEY in a deployment serving many workspaces: each workspace's
database is re-keyed in its own transaction, and a second run finishes what the first left."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from bot.clock import SystemClock
from bot.db.models import Answer
from bot.pseudonym import PseudonymKeyMismatch, pseudonym
from bot.sandbox.people import click_score, latest_dm, pulse_now, question_ids, wait_for
from bot.services.pseudonym_keys import rotate_pseudonym_key
from tests.e2e.conftest import PSEUDONYM_KEY, cxpulse
from tests.e2e.test_workspaces import Tenant, _install
from tests.keys.deployment import Deployment

NEW_KEY = "a-new-key-for-every-workspace-42"


def _respondents(deployment: Deployment, tenant: Tenant) -> set[str]:
    assert deployment.workspaces is not None
    deps = deployment.workspaces.deps_for(tenant.emulator.team_id)
    with Session(deps.engine) as session:
        return set(session.exec(select(Answer.respondent)).all())


def _answered_by_everyone(deployment: Deployment, tenant: Tenant) -> None:
    assert pulse_now(tenant.emulator, tenant.admin).status == 200
    wait_for(
        lambda: all(tenant.emulator.messages(tenant.emulator.dm_channel(p)) for p in tenant.people)
    )
    for person in tenant.people:
        question = question_ids(latest_dm(tenant.emulator, person))[0]
        assert click_score(tenant.emulator, person, question, 4).status == 200
    wait_for(lambda: len(_respondents(deployment, tenant)) == len(tenant.people), timeout=30)


def test_each_workspace_is_rekeyed_and_a_second_run_finishes_an_interrupted_one(
    deployment: Deployment, tenants: tuple[Tenant, Tenant]
) -> None:
    acme, globex = tenants
    bot = deployment.start()
    for tenant in tenants:
        _install(bot, tenant)
        _answered_by_everyone(deployment, tenant)
    assert deployment.workspaces is not None
    acme_engine = deployment.workspaces.deps_for(acme.emulator.team_id).engine
    # A first run that got through acme's database only (then was stopped).
    rotate_pseudonym_key(acme_engine, current=PSEUDONYM_KEY, new=NEW_KEY, now=SystemClock().now())
    deployment.stop()

    env = {"PATH": "/usr/bin:/bin", **deployment.environment}
    finished = cxpulse(env, "rotate-pseudonym-key", "--new", NEW_KEY, "--yes")
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert f"workspace {acme.emulator.team_id}: already under the new key" in finished.stdout
    assert f"workspace {globex.emulator.team_id}: now key generation 2" in finished.stdout
    assert "the main database: now key generation 2" in finished.stdout

    # The old key no longer starts the deployment; the new one serves both workspaces, with
    # everyone's answers under the pseudonym it computes for them.
    with pytest.raises(PseudonymKeyMismatch):
        deployment.start()
    deployment.start(CX_PSEUDONYM_KEY=NEW_KEY)
    for tenant in tenants:
        assert tenant.emulator.send_slash_command(tenant.admin, "help").status == 200
        expected = {pseudonym(NEW_KEY.encode(), person) for person in tenant.people}
        assert _respondents(deployment, tenant) == expected
