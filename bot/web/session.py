"""The web report's two cookies, both signed with keys derived from CX_SESSION_SECRET:

- the pre-login cookie binds a sign-in's `state` and `nonce` to the browser that started it,
  for ten minutes (and a callback clears it, so it is used once);
- the session cookie says who is signed in (workspace, Slack user, name), when they signed
  in, the roles found for them and when those were last checked, and their CSRF secret.

Both are HttpOnly and SameSite=Lax, and Secure unless CX_PUBLIC_URL is plain http; with
https their names take the `__Host-` prefix (Secure, Path=/, no Domain), so no other host
under the same domain can set them. A value that fails its signature, is malformed or has
expired reads as no cookie at all: the person is signed out.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from bot.settings import Settings
from bot.web.security import Signer
from bot.web.viewer import Role, Viewer

PRE_LOGIN_SECONDS = 600
SESSION_VERSION = 1
MAX_NAME_CHARS = 120
MAX_TEAMS = 50
MAX_TEAM_CHARS = 120


@dataclass(frozen=True)
class Session:
    """A signed-in person, as their cookie carries them (times in seconds since the epoch)."""

    workspace_id: str
    user_id: str
    display_name: str
    issued_at: int
    roles_checked_at: int
    role: Role
    lead_of: tuple[str, ...]
    csrf: str

    def viewer(self) -> Viewer:
        return Viewer(
            workspace_id=self.workspace_id,
            user_id=self.user_id,
            display_name=self.display_name,
            role=self.role,
            lead_of=frozenset(self.lead_of),
            csrf_token=self.csrf,
        )

    def with_roles(self, role: Role, lead_of: tuple[str, ...], *, checked_at: int) -> Session:
        return replace(self, role=role, lead_of=lead_of, roles_checked_at=checked_at)


@dataclass(frozen=True)
class PreLogin:
    """A sign-in under way: what the callback must see again, and where to go afterwards."""

    state: str
    nonce: str
    next_path: str
    issued_at: int


@dataclass(frozen=True)
class ReadSession:
    """What the request's cookie said: a valid session, or None (`present` tells "signed
    out" from "had a cookie that no longer counts": expired, tampered, or from another key)."""

    session: Session | None
    present: bool


def cookie_values(header: str, name: str) -> Iterator[str]:
    """Every value the Cookie header gives `name` (a browser may send two with one name)."""
    for part in header.split(";"):
        key, sep, value = part.strip().partition("=")
        if sep and key == name:
            yield value.strip().strip('"')


def _text(value: Any, limit: int) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= limit else None


def _session_from(data: dict[str, Any]) -> Session | None:
    """A Session from its signed JSON, or None if any field is not what we write."""
    if data.get("v") != SESSION_VERSION:
        return None
    teams = data.get("l")
    numbers = (data.get("iat"), data.get("rc"))
    if not isinstance(teams, list) or len(teams) > MAX_TEAMS:
        return None
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in numbers):
        return None
    fields = (
        _text(data.get("w"), 40),
        _text(data.get("u"), 40),
        _text(data.get("n"), MAX_NAME_CHARS),
        _text(data.get("c"), 100),
    )
    workspace, user, name, csrf = fields
    if workspace is None or user is None or name is None or csrf is None:
        return None
    if not all(_text(team, MAX_TEAM_CHARS) for team in teams):
        return None
    try:
        role = Role(str(data.get("r")))
    except ValueError:
        return None
    return Session(
        workspace_id=workspace,
        user_id=user,
        display_name=name,
        issued_at=int(data["iat"]),
        roles_checked_at=int(data["rc"]),
        role=role,
        lead_of=tuple(teams),
        csrf=csrf,
    )


class Cookies:
    """Writes and reads the report's cookies under the deployment's settings."""

    def __init__(self, settings: Settings) -> None:
        if settings.session_secret is None or settings.public_url is None:
            raise ValueError("the web report needs CX_SESSION_SECRET and CX_PUBLIC_URL")
        secret = settings.session_secret.get_secret_value()
        self._session = Signer(secret, "session")
        self._pre_login = Signer(secret, "pre-login")
        self.secure = not settings.public_url.startswith("http://")
        self.session_seconds = settings.session_hours * 3600
        prefix = "__Host-" if self.secure else ""
        self.session_name = f"{prefix}cxpulse_session"
        self.pre_login_name = f"{prefix}cxpulse_signin"
        self._path = "/" if self.secure else "/report"

    def _cookie(self, name: str, value: str, max_age: int) -> str:
        attributes = [f"{name}={value}", f"Path={self._path}", f"Max-Age={max(max_age, 0)}"]
        if max_age <= 0:
            attributes.append("Expires=Thu, 01 Jan 1970 00:00:00 GMT")
        attributes += ["HttpOnly", "SameSite=Lax"]
        if self.secure:
            attributes.append("Secure")
        return "; ".join(attributes)

    # --- the session --------------------------------------------------------------------------

    def session_cookie(self, session: Session, *, now: int) -> str:
        """Set-Cookie for the session; it lives until the session expires, not longer."""
        value = self._session.sign(
            {
                "v": SESSION_VERSION,
                "w": session.workspace_id,
                "u": session.user_id,
                "n": session.display_name[:MAX_NAME_CHARS],
                "iat": session.issued_at,
                "rc": session.roles_checked_at,
                "r": session.role.value,
                "l": list(session.lead_of),
                "c": session.csrf,
            }
        )
        return self._cookie(
            self.session_name, value, session.issued_at + self.session_seconds - now
        )

    def clear_session(self) -> str:
        return self._cookie(self.session_name, "", 0)

    def read_session(self, cookie_header: str, *, now: int) -> ReadSession:
        present = False
        for value in cookie_values(cookie_header, self.session_name):
            present = present or bool(value)
            data = self._session.unsign(value)
            session = None if data is None else _session_from(data)
            if session is None:
                continue
            # Expired (or issued in the future, which no clock of ours does): signed out.
            if not session.issued_at - 60 <= now < session.issued_at + self.session_seconds:
                continue
            return ReadSession(session, True)
        return ReadSession(None, present)

    # --- the sign-in under way ---------------------------------------------------------------

    def pre_login_cookie(self, pending: PreLogin) -> str:
        value = self._pre_login.sign(
            {
                "s": pending.state,
                "o": pending.nonce,
                "x": pending.next_path,
                "iat": pending.issued_at,
            }
        )
        return self._cookie(self.pre_login_name, value, PRE_LOGIN_SECONDS)

    def clear_pre_login(self) -> str:
        return self._cookie(self.pre_login_name, "", 0)

    def read_pre_login(self, cookie_header: str, *, now: int) -> list[PreLogin]:
        """Every unexpired sign-in this browser has under way (a second tab may have started
        another); the callback takes the one whose state it carries."""
        found = []
        for value in cookie_values(cookie_header, self.pre_login_name):
            data = self._pre_login.unsign(value)
            if data is None:
                continue
            state, nonce, next_path, issued = (data.get(k) for k in ("s", "o", "x", "iat"))
            if not (
                isinstance(state, str)
                and isinstance(nonce, str)
                and isinstance(next_path, str)
                and isinstance(issued, int)
            ):
                continue
            if issued - 60 <= now < issued + PRE_LOGIN_SECONDS:
                found.append(PreLogin(state, nonce, next_path, issued))
        return found
