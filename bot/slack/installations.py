"""OAuth installs for many workspaces: slack_sdk's SQLAlchemy stores on the main database, with
every token encrypted (Fernet, CX_ENCRYPTION_KEY) before it is written. With several keys the
first encrypts and any decrypts (`MultiFernet`), so a key can be rotated with no downtime."""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy
from cryptography.fernet import InvalidToken
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk.oauth.installation_store import Bot, Installation, InstallationStore
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Engine

from bot.encryption import multi_fernet
from bot.manifest import bot_scopes
from bot.settings import Settings

log = logging.getLogger(__name__)
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
STATE_SECONDS = 600
TOKEN_FIELDS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token")

Stored = TypeVar("Stored", Installation, Bot)


class UnreadableToken(RuntimeError):
    """A stored token that no key in CX_ENCRYPTION_KEY can decrypt: the key changed without
    the old one kept behind it, or the row was written by something else."""


@dataclass(frozen=True, slots=True)
class InstalledWorkspace:
    team_id: str
    bot_token: str


class EncryptedInstallationStore(InstallationStore):
    """slack_sdk's SQLAlchemy installation store; tokens only ever reach it encrypted."""

    def __init__(self, *, client_id: str, engine: Engine, key: str | tuple[str, ...]) -> None:
        """`key`: CX_ENCRYPTION_KEY, one key or several (comma-separated, or a tuple)."""
        self._store = SQLAlchemyInstallationStore(client_id=client_id, engine=engine, logger=log)
        self._fernet = multi_fernet(key)
        self._client_id = client_id
        self._engine = engine

    def create_tables(self) -> None:
        """Idempotent: slack_sdk owns these tables (see FOREIGN_TABLES in the migrations)."""
        self._store.create_tables()  # type: ignore[no-untyped-call]

    @property
    def logger(self) -> logging.Logger:
        return log

    def _sealed(self, item: Stored) -> Stored:
        sealed = copy.copy(item)
        for name in TOKEN_FIELDS:
            value = getattr(sealed, name, None)
            if value:
                setattr(sealed, name, self._fernet.encrypt(value.encode()).decode())
        return sealed

    def _opened(self, item: Stored | None) -> Stored | None:
        if item is None:
            return None
        opened = copy.copy(item)
        for name in TOKEN_FIELDS:
            value = getattr(opened, name, None)
            if value:
                setattr(opened, name, self.decrypt(value))
        return opened

    def decrypt(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken as exc:
            raise UnreadableToken(
                "a stored Slack token cannot be decrypted with any key in CX_ENCRYPTION_KEY"
            ) from exc

    def save(self, installation: Installation) -> None:
        self._store.save(self._sealed(installation))

    def save_bot(self, bot: Bot) -> None:
        self._store.save_bot(self._sealed(bot))

    def find_bot(self, **query: Any) -> Bot | None:
        return self._opened(self._store.find_bot(**query))

    def find_installation(self, **query: Any) -> Installation | None:
        return self._opened(self._store.find_installation(**query))

    def delete_bot(self, **query: Any) -> None:
        self._store.delete_bot(**query)

    def delete_installation(self, **query: Any) -> None:
        self._store.delete_installation(**query)

    def delete_all(self, **query: Any) -> None:
        self._store.delete_all(**query)

    def team_ids(self) -> list[str]:
        """Every workspace with a bot installed, without decrypting anything."""
        bots = self._store.bots.c
        query = (
            sqlalchemy.select(bots.team_id)
            .where(bots.client_id == self._client_id, bots.team_id.is_not(None))
            .distinct()
        )
        with self._engine.connect() as connection:
            return sorted(str(team) for team in connection.execute(query).scalars())

    def workspaces(self) -> list[InstalledWorkspace]:
        """Every workspace with a bot installed, with its latest token (for scheduled jobs)."""
        bots = self._store.bots.c
        query = (
            sqlalchemy.select(bots.team_id, bots.bot_token)
            .where(bots.client_id == self._client_id, bots.team_id.is_not(None))
            .order_by(bots.installed_at.desc())
        )
        latest: dict[str, str] = {}
        with self._engine.connect() as connection:
            for team_id, token in connection.execute(query):
                latest.setdefault(team_id, token)
        return [InstalledWorkspace(team, self.decrypt(token)) for team, token in latest.items()]


def installation_store(settings: Settings, engine: Engine) -> EncryptedInstallationStore:
    if not settings.slack_client_id or not settings.encryption_keys:
        raise ValueError("installations need SLACK_CLIENT_ID and CX_ENCRYPTION_KEY")
    store = EncryptedInstallationStore(
        client_id=settings.slack_client_id, engine=engine, key=settings.encryption_keys
    )
    store.create_tables()
    return store


def oauth_settings(settings: Settings, engine: Engine) -> OAuthSettings:
    """Bolt's OAuth flow: install page, redirect, and the stores, on the main database."""
    if not settings.slack_client_id or settings.slack_client_secret is None:
        raise ValueError("OAuth needs SLACK_CLIENT_ID and SLACK_CLIENT_SECRET")
    state_store = SQLAlchemyOAuthStateStore(
        expiration_seconds=STATE_SECONDS, engine=engine, logger=log
    )
    state_store.create_tables()  # type: ignore[no-untyped-call]
    return OAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret.get_secret_value(),
        scopes=sorted(bot_scopes()),
        installation_store=installation_store(settings, engine),
        state_store=state_store,
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
    )
