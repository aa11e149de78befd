"""The Slack app manifest (manifest.yml): its scopes, and the HTTP-mode variant of it."""

from __future__ import annotations

import urllib.parse
from copy import deepcopy
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.prompts import Copy

# manifest.yml at the top of the repository; bot/_data links to it so the wheel ships it.
MANIFEST_PATH = (Path(__file__).parent / "_data" / "manifest.yml").resolve()
# Why each bot scope is needed lives in prompts/messages.yaml, one sentence per scope.
SCOPE_REASONS_KEY = "doctor.scope_reasons"
EVENTS_PATH = "/slack/events"
OAUTH_REDIRECT_PATH = "/slack/oauth_redirect"
# Sign in with Slack for the web report (bot/web/auth.py): its user scopes and redirect URL.
SIGN_IN_SCOPES = ("openid", "profile")
SIGN_IN_REDIRECT_PATH = "/report/callback"


def manifest_text() -> str:
    """manifest.yml as written, comments included."""
    return MANIFEST_PATH.read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _parsed() -> dict[str, Any]:
    loaded = yaml.safe_load(manifest_text())
    if not isinstance(loaded, dict):
        raise ValueError(f"{MANIFEST_PATH} is not a YAML mapping")
    return loaded


def socket_manifest() -> dict[str, Any]:
    """The manifest as a dict (a fresh copy each call): the Socket Mode app."""
    return deepcopy(_parsed())


def bot_scopes() -> tuple[str, ...]:
    """The bot scopes the manifest asks for, in its order."""
    return tuple(_parsed()["oauth_config"]["scopes"]["bot"])


def scope_reasons(copy: Copy) -> dict[str, str]:
    """Each bot scope with the sentence saying why cx-pulse needs it."""
    return {scope: copy.t(f"{SCOPE_REASONS_KEY}.{scope}") for scope in bot_scopes()}


def _base_url(url: str) -> str:
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme != "https" or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"Slack needs an https:// address without query or fragment, not {url!r}")
    return url.strip().rstrip("/")


def http_manifest(url: str) -> dict[str, Any]:
    """The HTTP-mode app: Slack posts commands, clicks and events to `<url>/slack/events`;
    the web report at `<url>/report` signs people in with Slack (user scopes `openid` and
    `profile`, redirected back to `<url>/report/callback`)."""
    base = _base_url(url)
    manifest = socket_manifest()
    events_url = f"{base}{EVENTS_PATH}"
    for command in manifest["features"].get("slash_commands", []):
        command["url"] = events_url
    settings = manifest["settings"]
    settings["socket_mode_enabled"] = False
    settings["interactivity"]["request_url"] = events_url
    settings["event_subscriptions"]["request_url"] = events_url
    oauth = manifest["oauth_config"]
    oauth["redirect_urls"] = [f"{base}{OAUTH_REDIRECT_PATH}", f"{base}{SIGN_IN_REDIRECT_PATH}"]
    # Sign in with Slack (the web report at <url>/report): who the person is, nothing more.
    oauth["scopes"]["user"] = list(SIGN_IN_SCOPES)
    return manifest


def dump(manifest: dict[str, Any]) -> str:
    """A manifest as YAML, in the order Slack's own examples use."""
    return yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True, width=1000)
