"""Sign in with Slack (OpenID Connect) for the web report, and who may see what once signed in.

The flow, with slack_sdk's helpers throughout:

1. `/report/login` issues a `state` (slack_sdk's SQLAlchemy state store on the main database:
   single use across every web process, gone after ten minutes) and a random `nonce`, binds
   both to the browser in the signed pre-login cookie, and redirects to the authorize URL
   (`OpenIDConnectAuthorizeUrlGenerator`) with a `redirect_uri` under CX_PUBLIC_URL.
2. `/report/callback` takes the sign-in whose state the browser's cookie holds (a state it
   did not start, or one already used or expired, is "sign-in expired, try again"), trades the
   code with `openid.connect.token`, checks the id_token's claims (issuer, audience, expiry,
   nonce), reads the person with `openid.connect.userInfo` and checks they agree, and that
   the workspace is one this deployment serves.

Why the id_token's signature is not checked against Slack's JWKS: the token comes straight
from Slack's token endpoint, over TLS to SLACK_API_URL, in the answer to a request
authenticated with the client secret; OpenID Connect Core 1.0, section 3.1.3.7 (6), lets a
client take TLS server validation in place of the signature in that case. Its claims are
validated all the same, and userInfo (called with the access token from the same answer) must
name the same person and workspace, so a token from anywhere else cannot sign anyone in.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth import OpenIDConnectAuthorizeUrlGenerator
from slack_sdk.oauth.state_store import OAuthStateStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Engine, delete

from bot.manifest import SIGN_IN_REDIRECT_PATH, SIGN_IN_SCOPES
from bot.services.context import Deps
from bot.services.ports import SlackGateway
from bot.services.team_leads import team_access
from bot.settings import Settings
from bot.web.security import new_token, tokens_match
from bot.web.session import PRE_LOGIN_SECONDS, PreLogin
from bot.web.viewer import Role

ISSUER = "https://slack.com"
TEAM_CLAIM = "https://slack.com/team_id"
USER_CLAIM = "https://slack.com/user_id"
CLOCK_SKEW_S = 300
SLACK_TIMEOUT_S = 10


class SignInProblem(Exception):
    """A sign-in that cannot finish; `reason` names its copy (web_auth.problems.<reason>)."""

    def __init__(self, reason: str, *, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass(frozen=True)
class Identity:
    """Who Slack says signed in; `name` may be empty (Slack gave none)."""

    workspace_id: str
    user_id: str
    name: str


def _jwt_claims(token: str) -> dict[str, Any]:
    parts = token.split(".")
    if len(parts) != 3:
        raise SignInProblem("failed")
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise SignInProblem("failed") from exc
    if not isinstance(claims, dict):
        raise SignInProblem("failed")
    return claims


def checked_id_token(id_token: str, *, client_id: str, nonce: str, now: int) -> dict[str, Any]:
    """The id_token's claims once issuer, audience, times and nonce are what they must be.

    A nonce other than the one this browser's sign-in sent is an id_token minted for another
    sign-in (replayed, or injected): that reads as an expired sign-in, like a bad state."""
    claims = _jwt_claims(id_token)
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if claims.get("iss") != ISSUER or client_id not in audiences:
        raise SignInProblem("failed")
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise SignInProblem("failed")
    expires, issued = claims.get("exp"), claims.get("iat")
    if not isinstance(expires, int) or not isinstance(issued, int):
        raise SignInProblem("failed")
    if expires <= now - CLOCK_SKEW_S or issued > now + CLOCK_SKEW_S:
        raise SignInProblem("expired")
    if not tokens_match(nonce, str(claims.get("nonce") or "")):
        raise SignInProblem("expired")
    if not isinstance(claims.get(TEAM_CLAIM), str) or not isinstance(claims.get(USER_CLAIM), str):
        raise SignInProblem("failed")
    return claims


class StateStore(SQLAlchemyOAuthStateStore):
    """slack_sdk's state store, which also sweeps away states nobody came back with."""

    def issue(self, *args: Any, **kwargs: Any) -> str:
        table = self.oauth_states
        # slack_sdk stamps and checks expiry on the system clock (naive UTC), so the sweep
        # reads the same clock: an injected test clock would sweep states still in use.
        cutoff = datetime.now(UTC).replace(tzinfo=None) - timedelta(seconds=60)
        with self.engine.begin() as connection:
            connection.execute(delete(table).where(table.c.expire_at < cutoff))
        return str(super().issue(*args, **kwargs))


def state_store(engine: Engine) -> OAuthStateStore:
    store = StateStore(expiration_seconds=PRE_LOGIN_SECONDS, engine=engine)
    store.create_tables()  # type: ignore[no-untyped-call]
    return store


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a report page of ours, never anywhere else."""
    default = "/report"
    if not value or len(value) > 500 or not value.isascii():
        return default
    parts = urllib.parse.urlsplit(value)
    if parts.scheme or parts.netloc or "\\" in value or parts.fragment:
        return default
    if not (parts.path == "/report" or parts.path.startswith("/report/")):
        return default
    if parts.path.startswith(("/report/login", "/report/callback", "/report/logout")):
        return default
    return urllib.parse.urlunsplit(("", "", parts.path, parts.query, ""))


class SignInWithSlack:
    """The two halves of the flow; nothing here touches cookies or HTTP."""

    def __init__(self, settings: Settings, *, states: OAuthStateStore, client: WebClient) -> None:
        if not settings.slack_client_id or settings.slack_client_secret is None:
            raise ValueError("Sign in with Slack needs SLACK_CLIENT_ID and SLACK_CLIENT_SECRET")
        self.client_id = settings.slack_client_id
        self._secret = settings.slack_client_secret.get_secret_value()
        self.redirect_uri = f"{settings.public_url}{SIGN_IN_REDIRECT_PATH}"
        self._states = states
        self._client = client
        # The generator puts values into the URL as given: the redirect URI goes in encoded.
        self._urls = OpenIDConnectAuthorizeUrlGenerator(
            client_id=urllib.parse.quote(self.client_id, safe=""),
            redirect_uri=urllib.parse.quote(self.redirect_uri, safe=""),
            scopes=list(SIGN_IN_SCOPES),
            authorization_url=settings.slack_openid_authorize_url,
        )

    def start(self, *, next_path: str, now: int) -> tuple[str, PreLogin]:
        """Slack's authorize URL for a fresh sign-in, and what the browser must keep of it."""
        pending = PreLogin(
            state=self._states.issue(), nonce=new_token(), next_path=next_path, issued_at=now
        )
        url = self._urls.generate(state=pending.state, nonce=pending.nonce)
        return url, pending

    def finish(
        self, query: Mapping[str, str], pending: list[PreLogin], *, now: int
    ) -> tuple[Identity, PreLogin]:
        """Who signed in, from the callback's query and the browser's sign-ins under way."""
        state = query.get("state", "")
        started = next((p for p in pending if tokens_match(p.state, state)), None)
        if started is None:
            raise SignInProblem("expired")
        # Single use, whatever happens next: consumed before the code is even looked at.
        if not self._states.consume(state):
            raise SignInProblem("expired")
        if query.get("error"):
            raise SignInProblem("cancelled")
        code = query.get("code", "")
        if not code:
            raise SignInProblem("failed")
        try:
            answer = self._client.openid_connect_token(
                client_id=self.client_id,
                client_secret=self._secret,
                code=code,
                redirect_uri=self.redirect_uri,
            )
        except SlackApiError as exc:
            raise SignInProblem("failed", status=502) from exc
        id_token, access_token = answer.get("id_token"), answer.get("access_token")
        if not isinstance(id_token, str) or not isinstance(access_token, str):
            raise SignInProblem("failed", status=502)
        claims = checked_id_token(id_token, client_id=self.client_id, nonce=started.nonce, now=now)
        try:
            info = self._client.openid_connect_userInfo(token=access_token)
        except SlackApiError as exc:
            raise SignInProblem("failed", status=502) from exc
        if (
            info.get(TEAM_CLAIM) != claims[TEAM_CLAIM]
            or info.get(USER_CLAIM) != claims[USER_CLAIM]
            or info.get("sub") != claims.get("sub")
        ):
            raise SignInProblem("failed", status=502)
        # Never the user ID in its place: it is not to be shown on any page.
        name = str(info.get("name") or info.get("given_name") or "").strip()
        return Identity(claims[TEAM_CLAIM], claims[USER_CLAIM], name), started


# --- which workspaces, and who may see what ----------------------------------------------------


class Tenancy(Protocol):
    """The workspaces this deployment serves, each with its dependencies and Slack gateway."""

    def serves(self, workspace_id: str) -> bool: ...

    def deps_for(self, workspace_id: str) -> Deps: ...

    def gateway_for(self, workspace_id: str) -> SlackGateway: ...


class SingleWorkspace:
    """SLACK_BOT_TOKEN's workspace (auth.test says which), and only it."""

    def __init__(self, deps: Deps, gateway: SlackGateway, client: WebClient) -> None:
        self._deps, self._gateway, self._client = deps, gateway, client
        self._team_id: str | None = None
        self._lock = threading.Lock()

    def _installed_team(self) -> str:
        with self._lock:
            if self._team_id is None:
                self._team_id = str(self._client.auth_test()["team_id"])
            return self._team_id

    def serves(self, workspace_id: str) -> bool:
        return workspace_id == self._installed_team()

    def deps_for(self, workspace_id: str) -> Deps:
        if not self.serves(workspace_id):
            raise LookupError(workspace_id)
        return self._deps

    def gateway_for(self, workspace_id: str) -> SlackGateway:
        if not self.serves(workspace_id):
            raise LookupError(workspace_id)
        return self._gateway


class Installations(Protocol):
    def find_bot(self, *, enterprise_id: str | None, team_id: str | None) -> Any: ...


class Workspaces(Protocol):
    def deps_for(self, team_id: str) -> Deps: ...


class Gateways(Protocol):
    def for_workspace(self, team_id: str, token: str) -> SlackGateway: ...


class InstalledWorkspaces:
    """With OAuth installs: every workspace that installed the app, and no other."""

    def __init__(self, store: Installations, workspaces: Workspaces, gateways: Gateways) -> None:
        self._store, self._workspaces, self._gateways = store, workspaces, gateways

    def _token(self, workspace_id: str) -> str | None:
        bot = self._store.find_bot(enterprise_id=None, team_id=workspace_id)
        token = getattr(bot, "bot_token", None)
        return token if isinstance(token, str) and token else None

    def serves(self, workspace_id: str) -> bool:
        return self._token(workspace_id) is not None

    def deps_for(self, workspace_id: str) -> Deps:
        if not self.serves(workspace_id):
            raise LookupError(workspace_id)
        return self._workspaces.deps_for(workspace_id)

    def gateway_for(self, workspace_id: str) -> SlackGateway:
        token = self._token(workspace_id)
        if token is None:
            raise LookupError(workspace_id)
        return self._gateways.for_workspace(workspace_id, token)


def roles_of(deps: Deps, gateway: SlackGateway, user_id: str) -> tuple[Role, tuple[str, ...]]:
    """The widest role a person holds now, and the teams they lead: the same services the
    Slack surface asks (CX_ADMINS, the leadership channel's members read live from Slack, and
    team leads from CX_TEAM_LEADS or App Home), with the settings in force."""
    settings = deps.settings
    access = team_access(settings=settings, gateway=gateway, user_id=user_id)
    if user_id in settings.admins:
        role = Role.ADMIN
    elif access.every_team:
        role = Role.LEADER
    elif access.own:
        role = Role.TEAM_LEAD
    else:
        role = Role.EMPLOYEE
    return role, tuple(access.own)


def slack_client(settings: Settings) -> WebClient:
    """A token-less client for the openid.connect.* methods, through SLACK_API_URL."""
    return WebClient(base_url=settings.slack_api_url, timeout=SLACK_TIMEOUT_S)
