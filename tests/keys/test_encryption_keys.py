"""CX_ENCRYPTION_KEY with several keys (the first encrypts, every one decrypts), and
`cxpulse rotate-keys`, which re-encrypts every stored secret under the first key."""

from __future__ import annotations

import pytest
import sqlalchemy
from cryptography.fernet import Fernet, InvalidToken
from pydantic import ValidationError

from bot.db.engine import make_engine
from bot.sandbox.people import wait_for
from bot.settings import Settings
from tests.e2e.conftest import cxpulse
from tests.e2e.test_workspaces import Tenant, _install
from tests.keys.deployment import Deployment


def _help_reply(tenant: Tenant) -> str:
    sent = tenant.emulator.send_slash_command(tenant.admin, "help")
    assert sent.status == 200, sent.status
    replies = wait_for(lambda: tenant.emulator.responses(sent.response_url))
    return str(replies[0].get("text") or "")


def _stored_tokens(database_url: str) -> list[str]:
    engine = make_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(sqlalchemy.text("SELECT bot_token FROM slack_bots")).all()
    engine.dispose()
    return [row[0] for row in rows]


def test_a_new_key_in_front_of_the_old_one_still_serves_installed_workspaces(
    deployment: Deployment, tenants: tuple[Tenant, Tenant]
) -> None:
    """The 500: `CX_ENCRYPTION_KEY=new,old` was accepted, only `new` was tried, and every
    request of a workspace installed under `old` failed to find its token."""
    acme, _ = tenants
    old = deployment.environment["CX_ENCRYPTION_KEY"]
    _install(deployment.start(), acme)
    assert "/cx score" in _help_reply(acme)

    new = Fernet.generate_key().decode()
    deployment.start(CX_ENCRYPTION_KEY=f"{new},{old}")
    assert "/cx score" in _help_reply(acme)


def test_rotate_keys_re_encrypts_every_token_under_the_first_key(
    deployment: Deployment, tenants: tuple[Tenant, Tenant]
) -> None:
    acme, globex = tenants
    old = deployment.environment["CX_ENCRYPTION_KEY"]
    bot = deployment.start()
    _install(bot, acme)
    _install(bot, globex)
    deployment.stop()
    url = deployment.environment["DATABASE_URL"]
    before = _stored_tokens(url)

    new = Fernet.generate_key().decode()
    env = {"PATH": "/usr/bin:/bin", **deployment.environment, "CX_ENCRYPTION_KEY": f"{new},{old}"}
    rotated = cxpulse(env, "rotate-keys")
    assert rotated.returncode == 0, rotated.stdout + rotated.stderr
    assert "re-encrypted" in rotated.stdout
    after = _stored_tokens(url)
    assert len(after) == len(before) == 2
    assert not set(after) & set(before)
    for token in after:
        Fernet(new.encode()).decrypt(token.encode())  # the new key alone reads every token
        with pytest.raises(InvalidToken):
            Fernet(old.encode()).decrypt(token.encode())
    assert "xoxb" not in rotated.stdout + rotated.stderr

    # The old key can go: the new one alone serves both workspaces.
    deployment.start(CX_ENCRYPTION_KEY=new)
    assert "/cx score" in _help_reply(acme)
    assert "/cx score" in _help_reply(globex)


def test_rotate_keys_refuses_a_token_no_key_can_read_and_changes_nothing(
    deployment: Deployment, tenants: tuple[Tenant, Tenant]
) -> None:
    acme, globex = tenants
    bot = deployment.start()
    _install(bot, acme)
    _install(bot, globex)
    deployment.stop()
    url = deployment.environment["DATABASE_URL"]
    before = _stored_tokens(url)

    stranger = Fernet.generate_key().decode()
    env = {"PATH": "/usr/bin:/bin", **deployment.environment, "CX_ENCRYPTION_KEY": stranger}
    refused = cxpulse(env, "rotate-keys")
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "none of the keys in CX_ENCRYPTION_KEY" in refused.stdout
    assert "Traceback" not in refused.stderr
    assert _stored_tokens(url) == before


def test_every_key_in_the_list_must_be_a_fernet_key() -> None:
    base = {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "shh"}
    good = Fernet.generate_key().decode()
    with pytest.raises(ValidationError, match="key 2 of 2"):
        Settings.model_validate({**base, "CX_ENCRYPTION_KEY": f"{good},not-a-key"})
    with pytest.raises(ValidationError, match="key 1 of 2"):
        Settings.model_validate({**base, "CX_ENCRYPTION_KEY": f"{good}x,{good}"})
    with pytest.raises(ValidationError, match="twice"):
        Settings.model_validate({**base, "CX_ENCRYPTION_KEY": f"{good},{good}"})
    other = Fernet.generate_key().decode()
    settings = Settings.model_validate({**base, "CX_ENCRYPTION_KEY": f" {good} , {other} "})
    assert settings.encryption_keys == (good, other)
