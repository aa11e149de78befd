"""Installed tokens are encrypted at rest, and distribution settings are checked up front."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy
from cryptography.fernet import Fernet
from pydantic import ValidationError
from slack_sdk.oauth.installation_store import Installation

from bot.db.engine import make_engine
from bot.settings import Settings
from bot.slack.installations import EncryptedInstallationStore, UnreadableToken
from bot.tenancy import UnknownWorkspace, workspace_database_url, workspace_schema

TOKEN = "xoxb-1111-2222-secret-value"


def _installation(team_id: str) -> Installation:
    return Installation(
        app_id="A1",
        team_id=team_id,
        user_id="U1",
        bot_token=TOKEN,
        bot_id="B1",
        bot_user_id="UBOT",
        bot_scopes="chat:write",
        user_token="xoxp-user-secret",
    )


def test_tokens_are_stored_encrypted_and_read_back_in_the_clear(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'main.db'}")
    store = EncryptedInstallationStore(
        client_id="1.2", engine=engine, key=Fernet.generate_key().decode()
    )
    store.create_tables()
    store.save(_installation("T0ONE"))

    with engine.connect() as connection:
        rows = connection.execute(
            sqlalchemy.text("SELECT bot_token, user_token FROM slack_installations")
        ).all()
        bots = connection.execute(sqlalchemy.text("SELECT bot_token FROM slack_bots")).all()
    dump = repr(rows) + repr(bots)
    assert "secret" not in dump
    assert "xox" not in dump

    found = store.find_installation(enterprise_id=None, team_id="T0ONE")
    assert found is not None
    assert (found.bot_token, found.user_token) == (TOKEN, "xoxp-user-secret")
    bot = store.find_bot(enterprise_id=None, team_id="T0ONE")
    assert bot is not None
    assert bot.bot_token == TOKEN
    assert [(w.team_id, w.bot_token) for w in store.workspaces()] == [("T0ONE", TOKEN)]

    other_key = EncryptedInstallationStore(
        client_id="1.2", engine=engine, key=Fernet.generate_key().decode()
    )
    with pytest.raises(UnreadableToken):
        other_key.find_bot(enterprise_id=None, team_id="T0ONE")
    engine.dispose()


def test_distribution_settings_are_all_or_nothing() -> None:
    base = {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "shh"}
    with pytest.raises(ValidationError, match="CX_ENCRYPTION_KEY is required"):
        Settings.model_validate(base)
    with pytest.raises(ValidationError, match="go together"):
        Settings.model_validate({"SLACK_CLIENT_ID": "1.2"})
    with pytest.raises(ValidationError, match="must be a Fernet key"):
        Settings.model_validate({**base, "CX_ENCRYPTION_KEY": "not-a-key"})
    key = Fernet.generate_key().decode()
    assert Settings.model_validate({**base, "CX_ENCRYPTION_KEY": key}).distributed
    assert not Settings.model_validate({}).distributed


def test_each_workspace_gets_its_own_database_name() -> None:
    assert workspace_database_url("sqlite:////data/cx.db", "T0ONE") == "sqlite:////data/cx.T0ONE.db"
    assert workspace_schema("T0ONE") == "ws_t0one"
    url = "postgresql+psycopg://cx@db/cx"
    assert workspace_database_url(url, "T0ONE") == url  # same database, its own schema
    for forged in ("T0ONE; DROP TABLE member", "../T0", "", "t0lower"):
        with pytest.raises(UnknownWorkspace):
            workspace_schema(forged)
    with pytest.raises(ValueError, match="database file"):
        workspace_database_url("sqlite://", "T0ONE")
