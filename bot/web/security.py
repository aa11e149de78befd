"""The web report's security middleware, written once for every page: signed cookie values,
the security headers (Content-Security-Policy first), and the CSRF checks of every POST.

Signed values are `base64url(JSON).base64url(HMAC-SHA256)` under a key derived from
CX_SESSION_SECRET for one purpose only, so a value signed for one cookie (the pre-login
state) can never pass as another (the session). They are signed, not encrypted: they hold
nothing the person they were given to may not read (their own Slack ID and name, their
roles, a CSRF token that is theirs).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import urllib.parse
from collections.abc import Mapping
from typing import Any

KEY_LABEL = b"cx-pulse web report key v1: "
MAX_SIGNED_CHARS = 3500  # a browser keeps about 4 KB per cookie; ours are far smaller
TOKEN_BYTES = 32


def new_token() -> str:
    """A random token (state, nonce, CSRF secret): 256 bits, URL-safe."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Signer:
    """Signs and checks JSON objects for one purpose ("session", "pre-login")."""

    def __init__(self, secret: str, purpose: str) -> None:
        if len(secret) < 32:
            raise ValueError("CX_SESSION_SECRET must be at least 32 characters")
        self._key = hmac.new(
            secret.encode("utf-8"), KEY_LABEL + purpose.encode("utf-8"), hashlib.sha256
        ).digest()

    def _mac(self, payload: str) -> str:
        return _b64encode(hmac.new(self._key, payload.encode("ascii"), hashlib.sha256).digest())

    def sign(self, value: Mapping[str, Any]) -> str:
        payload = _b64encode(json.dumps(value, separators=(",", ":"), sort_keys=True).encode())
        signed = f"{payload}.{self._mac(payload)}"
        if len(signed) > MAX_SIGNED_CHARS:
            raise ValueError("a signed value too large for a cookie")
        return signed

    def unsign(self, signed: str) -> dict[str, Any] | None:
        """The object, or None for anything not signed by us for this purpose (never raises)."""
        if len(signed) > MAX_SIGNED_CHARS or not signed.isascii():
            return None
        payload, dot, mac = signed.partition(".")
        if not dot or not hmac.compare_digest(self._mac(payload), mac):
            return None
        try:
            value = json.loads(_b64decode(payload))
        except (ValueError, binascii.Error, UnicodeDecodeError):
            return None
        return value if isinstance(value, dict) else None


def origin_of(url: str) -> str:
    """scheme://host[:port] of a URL, lower-cased, or "" when it has none."""
    parts = urllib.parse.urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return ""
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def content_security_policy(authorize_url: str) -> str:
    """No inline script or style, nothing from elsewhere; forms post only here (and the
    sign-in redirect may go on to Slack's authorize page)."""
    authorize = origin_of(authorize_url)
    form_action = "'self'" + (f" {authorize}" if authorize else "")
    return "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            f"form-action {form_action}",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        )
    )


def security_headers(
    *, authorize_url: str, https: bool, cacheable: bool = False
) -> list[tuple[str, str]]:
    """The headers every /report response carries, errors and redirects included. Only
    static files may be cached; every page is someone's own and is never stored."""
    headers = [
        ("Content-Security-Policy", content_security_policy(authorize_url)),
        ("X-Content-Type-Options", "nosniff"),
        # Same-origin only: no page address (and so nothing in it) leaves in a Referer.
        ("Referrer-Policy", "same-origin"),
        ("X-Frame-Options", "DENY"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("Cross-Origin-Resource-Policy", "same-origin"),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
        ("Cache-Control", "public, max-age=3600" if cacheable else "no-store"),
    ]
    if not cacheable:
        headers.append(("Pragma", "no-cache"))
    if https:
        headers.append(("Strict-Transport-Security", "max-age=31536000"))
    return headers


SECURITY_HEADER_NAMES = frozenset(
    name.lower() for name, _ in security_headers(authorize_url="", https=True)
) | {"set-cookie"}


def same_origin_request(headers: Mapping[str, str], public_url: str) -> bool:
    """A POST came from our own pages: its Origin is CX_PUBLIC_URL's, or, for a browser that
    sends no Origin, its Referer is on it. Neither header at all is refused too."""
    expected = origin_of(public_url)
    origin = headers.get("origin")
    if origin is not None:
        return origin.strip().lower() == expected
    referer = headers.get("referer")
    if referer is None:
        return False
    return origin_of(referer) == expected


def tokens_match(expected: str, given: str) -> bool:
    """Constant-time comparison; an empty token never matches."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8", "replace"))
