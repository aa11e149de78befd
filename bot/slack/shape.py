"""The shape Bolt relies on when it routes a request, checked before Bolt sees it.

Bolt indexes into payloads (`body["actions"][0]["action_id"]`, `body["view"]["type"]`...) while
matching listeners, and a payload of another shape makes it answer 500. Slack never sends such
payloads, so anything that fails here is answered 400 (or 401 if it is not signed either).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Fields that must be JSON objects when present, and the string fields inside them.
OBJECT_FIELDS: dict[str, tuple[str, ...]] = {
    "user": ("id",),
    "team": (),
    "channel": (),
    "container": (),
    "message": (),
    "enterprise": (),
    "event": ("type",),
}


def _strings(obj: Mapping[str, Any], *names: str) -> bool:
    return all(isinstance(obj.get(name), str) for name in names)


def _optional_strings(obj: Mapping[str, Any], *names: str) -> bool:
    return all(obj.get(name) is None or isinstance(obj.get(name), str) for name in names)


def _valid_view(view: Any) -> bool:
    return (
        isinstance(view, Mapping)
        and _strings(view, "type")
        and _optional_strings(view, "callback_id", "private_metadata", "id")
        and (view.get("state") is None or isinstance(view.get("state"), Mapping))
    )


def _valid_actions(actions: Any) -> bool:
    return (
        isinstance(actions, list)
        and len(actions) > 0
        and all(
            isinstance(a, Mapping) and _strings(a, "action_id") and _optional_strings(a, "block_id")
            for a in actions
        )
    )


def routable(body: Any) -> bool:
    """True when Bolt can route this parsed body without tripping over its shape."""
    if not isinstance(body, Mapping):
        return False
    if "type" in body and not isinstance(body["type"], str):
        return False
    for name, required in OBJECT_FIELDS.items():
        value = body.get(name)
        if value is not None and not (isinstance(value, Mapping) and _strings(value, *required)):
            return False
    kind = body.get("type")
    if kind == "block_actions" and not _valid_actions(body.get("actions")):
        return False
    if kind in {"view_submission", "view_closed"} or "view" in body:
        return _valid_view(body.get("view"))
    if "command" in body:
        # Slack always sends these with a slash command; replies go to the response_url.
        return _strings(body, "command", "user_id", "response_url") and _optional_strings(
            body, "text", "trigger_id"
        )
    return True
