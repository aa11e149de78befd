"""Sign in with Slack (OpenID Connect) as the emulator serves it: Slack's authorize page, with
a list of the emulated people to pick who signs in, and the two Web API methods behind it,
`openid.connect.token` and `openid.connect.userInfo`.

It behaves like Slack where the app could notice a difference: the authorize page refuses an
unknown `client_id` or a `redirect_uri` the app did not register (and then redirects nowhere);
a code is bound to its client and redirect URI, lives ten minutes and is exchanged once; the
token call checks the client's credentials (HTTP Basic or form fields); the id_token carries
Slack's claims (`iss` https://slack.com, `aud` the client id, the `nonce` the app sent, and
https://slack.com/team_id and user_id); userInfo answers for the access token only.

The demo's one-click link (`one_click_link`) runs the same flow: it leaves a single-use cookie
on the emulator's origin naming who is preselected, sends the browser to the app's own
sign-in URL, and the authorize page then approves for that person at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import secrets
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from http.cookies import CookieError, SimpleCookie
from typing import Any, Protocol

ISSUER = "https://slack.com"
AUTHORIZE_PATH = "/openid/connect/authorize"
ONE_CLICK_PREFIX = "/openid/connect/one-click/"
METHODS = frozenset({"openid.connect.token", "openid.connect.userInfo"})
CODE_LIFETIME_S = 600
ID_TOKEN_LIFETIME_S = 3600
PRESELECT_COOKIE = "cx_emulator_preselect"
PRESELECT_LIFETIME_S = 120
HTML = "text/html; charset=utf-8"


class Workspace(Protocol):
    """What the provider reads of the emulator it belongs to."""

    team_id: str
    team_name: str
    team_domain: str

    @property
    def base_url(self) -> str: ...

    def people(self) -> list[dict[str, Any]]:
        """Active human members, as users.list shows them."""
        ...


@dataclass(frozen=True, slots=True)
class Client:
    """An app registered for Sign in with Slack: its credentials and redirect URLs."""

    client_id: str
    client_secret: str
    redirect_uris: frozenset[str]
    login_url: str | None  # where the one-click link starts the app's own flow


@dataclass(frozen=True, slots=True)
class _Grant:
    client_id: str
    redirect_uri: str
    user_id: str
    nonce: str | None
    issued_at: float


@dataclass(frozen=True, slots=True)
class PageAnswer:
    """An HTTP answer of the authorize page: HTML, or a redirect."""

    status: int
    body: bytes = b""
    content_type: str = HTML
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class MethodAnswer:
    """A Web API answer: `ok` and the fields, as JSON."""

    status: int
    body: dict[str, Any]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _refused(message: str) -> PageAnswer:
    """Slack's own error page: an unknown client or redirect URI is never redirected to."""
    body = (
        "<!doctype html><html><head><title>Slack: sign-in error</title></head><body>"
        f"<h1>Something went wrong</h1><p id='error'>{html.escape(message)}</p></body></html>"
    )
    return PageAnswer(400, body.encode())


def _with_query(url: str, **values: str) -> str:
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True) + list(values.items())
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


@dataclass
class _State:
    clients: dict[str, Client] = field(default_factory=dict)
    codes: dict[str, _Grant] = field(default_factory=dict)
    tokens: dict[str, tuple[str, str]] = field(default_factory=dict)  # token -> client, user
    one_click: dict[str, str] = field(default_factory=dict)  # link token -> user id
    preselected: dict[str, tuple[str, float]] = field(default_factory=dict)  # cookie -> user


class OpenIDProvider:
    """The emulator's Sign in with Slack. `now` is the provider's clock (seconds since the
    epoch); tests and the demo give it the app's own clock, as Slack and the app share one."""

    def __init__(self, workspace: Workspace, *, now: Callable[[], float] = time.time) -> None:
        self._workspace = workspace
        self._now = now
        self._lock = threading.Lock()
        self._state = _State()

    # --- set-up ----------------------------------------------------------------------------

    def register(
        self,
        client_id: str,
        client_secret: str,
        redirect_uris: list[str] | tuple[str, ...],
        *,
        login_url: str | None = None,
    ) -> None:
        """Accept this app: its credentials and the redirect URLs configured for it."""
        with self._lock:
            self._state.clients[client_id] = Client(
                client_id, client_secret, frozenset(redirect_uris), login_url
            )

    def set_clock(self, now: Callable[[], datetime]) -> None:
        """Issue and check codes and id_tokens on `now` (a Clock's now, e.g. ManualClock)."""
        self._now = lambda: now().timestamp()

    @property
    def authorize_url(self) -> str:
        """What SLACK_OPENID_AUTHORIZE_URL should be."""
        return f"{self._workspace.base_url}{AUTHORIZE_PATH}"

    def one_click_link(self, user_id: str, *, client_id: str) -> str:
        """A link that signs `user_id` in to the app in one click, through the real flow. The
        link names nobody (a random token), and may be followed again."""
        with self._lock:
            client = self._state.clients.get(client_id)
            if client is None or client.login_url is None:
                raise ValueError("register the client with its login_url first")
            link = secrets.token_urlsafe(18)
            self._state.one_click[link] = f"{client_id}\n{user_id}"
        return f"{self._workspace.base_url}{ONE_CLICK_PREFIX}{link}"

    # --- the pages (GET and POST on the emulator's own HTTP server) -------------------------

    def page(self, method: str, path: str, query: str, body: bytes, cookie: str) -> PageAnswer:
        if path == AUTHORIZE_PATH and method == "GET":
            return self._authorize_page(dict(urllib.parse.parse_qsl(query)), cookie)
        if path == AUTHORIZE_PATH and method == "POST":
            form = dict(urllib.parse.parse_qsl(body.decode("utf-8", "replace")))
            return self._decide(form)
        if path.startswith(ONE_CLICK_PREFIX) and method == "GET":
            return self._one_click(path.removeprefix(ONE_CLICK_PREFIX))
        return PageAnswer(404, b"Not Found", "text/plain; charset=utf-8")

    def _checked_request(self, params: Mapping[str, str]) -> Client | PageAnswer:
        """The client behind an authorize request, or the error page Slack shows instead."""
        client = self._state.clients.get(params.get("client_id", ""))
        if client is None:
            return _refused("invalid_client_id: this app is not known to Slack.")
        if params.get("redirect_uri", "") not in client.redirect_uris:
            return _refused("bad_redirect_uri: redirect_uri did not match any configured URIs.")
        if params.get("response_type") != "code":
            return _refused("unsupported_response_type: response_type must be code.")
        scopes = set(params.get("scope", "").replace(",", " ").split())
        if "openid" not in scopes:
            return _refused("invalid_scope: Sign in with Slack needs the openid scope.")
        return client

    def _authorize_page(self, params: dict[str, str], cookie: str) -> PageAnswer:
        with self._lock:
            checked = self._checked_request(params)
            if isinstance(checked, PageAnswer):
                return checked
            preselected = self._take_preselected(cookie, checked.client_id)
        clear = (("Set-Cookie", f"{PRESELECT_COOKIE}=; Path=/openid/connect; Max-Age=0"),)
        if preselected is not None:
            answer = self._decide({**params, "user": preselected, "decision": "allow"})
            return PageAnswer(
                answer.status, answer.body, answer.content_type, answer.headers + clear
            )
        return self._picker(params)

    def _picker(self, params: Mapping[str, str]) -> PageAnswer:
        """Which emulated person signs in: one button each, every name escaped."""
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(name)}" value="{html.escape(value)}">'
            for name, value in params.items()
            if name in {"client_id", "redirect_uri", "response_type", "scope", "state", "nonce"}
        )
        rows = []
        for person in sorted(self._workspace.people(), key=lambda p: str(p.get("real_name"))):
            user_id = html.escape(str(person["id"]))
            name = html.escape(str(person.get("real_name") or person.get("name") or ""))
            handle = html.escape(str(person.get("name") or ""))
            rows.append(
                f'<li><button type="submit" name="user" value="{user_id}" '
                f'data-user="{user_id}">{name} <small>@{handle}</small></button></li>'
            )
        team = html.escape(self._workspace.team_name)
        page = (
            "<!doctype html><html><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>Sign in to {team} (Slack emulator)</title></head><body>"
            f"<h1>Sign in to {team}</h1>"
            "<p>The Slack emulator: pick who signs in. The app gets their name and workspace "
            "(openid, profile).</p>"
            f'<form method="post" action="{AUTHORIZE_PATH}">{hidden}'
            f'<ul id="people">{"".join(rows)}</ul>'
            '<button type="submit" name="decision" value="deny" id="cancel">Cancel</button>'
            "</form></body></html>"
        )
        return PageAnswer(200, page.encode())

    def _decide(self, form: Mapping[str, str]) -> PageAnswer:
        """Allow (a code for the person picked) or Cancel, back to the app's redirect URI."""
        with self._lock:
            checked = self._checked_request(form)
            if isinstance(checked, PageAnswer):
                return checked
            redirect_uri, state = form["redirect_uri"], form.get("state", "")
            if form.get("decision") == "deny":
                target = _with_query(redirect_uri, error="access_denied", state=state)
                return PageAnswer(302, headers=(("Location", target),))
            user_id = form.get("user", "")
            if user_id not in {str(p["id"]) for p in self._workspace.people()}:
                return _refused("user_not_found: pick someone from the list.")
            code = f"{self._workspace.team_id}-oidc-{secrets.token_hex(16)}"
            self._state.codes[code] = _Grant(
                checked.client_id, redirect_uri, user_id, form.get("nonce") or None, self._now()
            )
        target = _with_query(redirect_uri, code=code, state=state)
        return PageAnswer(302, headers=(("Location", target),))

    def _one_click(self, link: str) -> PageAnswer:
        with self._lock:
            found = self._state.one_click.get(link)
            if found is None:
                return PageAnswer(404, b"This sign-in link is not known.", "text/plain")
            client_id, user_id = found.split("\n", 1)
            client = self._state.clients[client_id]
            cookie = secrets.token_urlsafe(18)
            self._state.preselected[cookie] = (f"{client_id}\n{user_id}", self._now())
        headers = (
            ("Location", str(client.login_url)),
            (
                "Set-Cookie",
                f"{PRESELECT_COOKIE}={cookie}; Path=/openid/connect; "
                f"Max-Age={PRESELECT_LIFETIME_S}; HttpOnly; SameSite=Lax",
            ),
        )
        return PageAnswer(302, headers=headers)

    def _take_preselected(self, cookie_header: str, client_id: str) -> str | None:
        """The person a one-click link preselected for this client, once (lock held)."""
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(cookie_header)
        except CookieError:  # a malformed header preselects nobody
            return None
        morsel = jar.get(PRESELECT_COOKIE)
        if morsel is None:
            return None
        found = self._state.preselected.pop(morsel.value, None)
        if found is None or self._now() - found[1] > PRESELECT_LIFETIME_S:
            return None
        chosen_client, user_id = found[0].split("\n", 1)
        return user_id if chosen_client == client_id else None

    # --- the Web API methods ------------------------------------------------------------------

    def call(
        self,
        method: str,
        params: Mapping[str, Any],
        *,
        token: str | None,
        basic: tuple[str, str] | None,
    ) -> MethodAnswer:
        if method == "openid.connect.token":
            return self._token(params, basic)
        return self._user_info(token)

    def _token(self, params: Mapping[str, Any], basic: tuple[str, str] | None) -> MethodAnswer:
        client_id, secret = basic or (
            str(params.get("client_id") or ""),
            str(params.get("client_secret") or ""),
        )
        with self._lock:
            client = self._state.clients.get(client_id)
            if client is None or not hmac.compare_digest(client.client_secret, secret):
                return MethodAnswer(200, {"ok": False, "error": "invalid_client_id"})
            if params.get("grant_type", "authorization_code") != "authorization_code":
                return MethodAnswer(200, {"ok": False, "error": "invalid_grant_type"})
            # Single use: a code is gone once presented, whatever comes next.
            grant = self._state.codes.pop(str(params.get("code") or ""), None)
            if (
                grant is None
                or grant.client_id != client_id
                or self._now() - grant.issued_at > CODE_LIFETIME_S
            ):
                return MethodAnswer(200, {"ok": False, "error": "invalid_code"})
            if str(params.get("redirect_uri") or "") != grant.redirect_uri:
                return MethodAnswer(200, {"ok": False, "error": "bad_redirect_uri"})
            token = f"xoxp-{self._workspace.team_id}-{secrets.token_hex(16)}"
            self._state.tokens[token] = (client_id, grant.user_id)
            person = self._person(grant.user_id)
        id_token = self._id_token(client, grant, person, token)
        return MethodAnswer(
            200,
            {"ok": True, "access_token": token, "token_type": "Bearer", "id_token": id_token},
        )

    def _person(self, user_id: str) -> dict[str, Any]:
        for person in self._workspace.people():
            if person["id"] == user_id:
                return person
        return {"id": user_id, "name": user_id, "real_name": user_id}

    def _profile_claims(self, person: Mapping[str, Any]) -> dict[str, Any]:
        name = str(person.get("real_name") or person.get("name") or "")
        given, _, family = name.partition(" ")
        team = self._workspace
        return {
            "sub": person["id"],
            "https://slack.com/user_id": person["id"],
            "https://slack.com/team_id": team.team_id,
            "name": name,
            "given_name": given,
            "family_name": family,
            "locale": str(person.get("locale") or "en-US"),
            "picture": f"https://secure.gravatar.com/avatar/{person['id']}.png",
            "https://slack.com/team_name": team.team_name,
            "https://slack.com/team_domain": team.team_domain,
        }

    def _id_token(
        self, client: Client, grant: _Grant, person: Mapping[str, Any], access_token: str
    ) -> str:
        """A JWT with Slack's claims. Slack signs with RS256 and publishes its keys; the
        emulator signs with HS256 under the client secret, which the app may not verify
        (it validates the claims of a token it got over the direct back channel)."""
        now = int(self._now())
        # at_hash: the left half of the access token's SHA-256, as OpenID Connect defines it.
        at_hash = _b64(hashlib.sha256(access_token.encode()).digest()[:16])
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": client.client_id,
            "exp": now + ID_TOKEN_LIFETIME_S,
            "iat": now,
            "auth_time": now,
            "at_hash": at_hash,
            **self._profile_claims(person),
        }
        if grant.nonce is not None:
            claims["nonce"] = grant.nonce
        header = _b64(json.dumps({"typ": "JWT", "alg": "HS256"}).encode())
        payload = _b64(json.dumps(claims).encode())
        signed = f"{header}.{payload}".encode()
        mac = hmac.new(client.client_secret.encode(), signed, hashlib.sha256).digest()
        return f"{header}.{payload}.{_b64(mac)}"

    def _user_info(self, token: str | None) -> MethodAnswer:
        if not token:
            return MethodAnswer(200, {"ok": False, "error": "not_authed"})
        with self._lock:
            found = self._state.tokens.get(token)
        if found is None:
            return MethodAnswer(200, {"ok": False, "error": "invalid_auth"})
        person = self._person(found[1])
        return MethodAnswer(200, {"ok": True, **self._profile_claims(person)})
