"""Re-rendering pulse DMs after clicks: at most one refresh per message at a time, always of
the state as stored when the refresh runs.

A person ticks four or five statements within seconds, and each tick changes their DM. Sending
one `chat.update` per click spent more CPU than storing the clicks (benchmark 2 ran at 82% of a
bare Bolt app with no updates and under 40% with one per click), called a rate-limited Slack
method (Tier 3) once per click, and let two updates of one message race, so an older rendering
could land last and hide a tick. Here a click only marks its message stale. A refresh reads the
person's answers when it starts, so clicks that arrive before then are covered by it, and a
click during a refresh makes one more refresh follow. The last refresh of a message therefore
starts after its last click is stored and shows every answer.

The DM only says which statements are answered, never with what (Slack stores every version of
it, and a compliance export of direct messages would read every answer): each refresh also
shows the person their choices in an ephemeral confirmation, which Slack does not store. Being
part of the refresh, it is coalesced the same way: a burst of clicks gets one confirmation of the
latest state, not one per click.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from bot.render.pulse import confirmation_message, dm_fingerprint, pulse_message
from bot.services.answers import pulse_state
from bot.services.context import Deps
from bot.services.ports import SlackGateway

if TYPE_CHECKING:
    from bot.slack.gateway import WorkspaceGateways
    from bot.tenancy import Workspaces

log = logging.getLogger(__name__)

Refresh = Callable[[], None]
CLOSE_TIMEOUT_S = 10.0  # a refresh is two Slack calls; ten seconds covers a 429's wait
# Messages whose last rendering a refresher remembers. A person's clicks come within minutes,
# so the latest few thousand messages cover every burst; an entry costs about 400 bytes.
SHOWN_MESSAGES = 4096


@dataclass(frozen=True, slots=True)
class PulseDmRefresh:
    """A pulse DM to re-render: whose, of which round, where, and in which workspace."""

    team_id: str | None
    token: str | None  # the workspace's bot token, as Bolt authorized the click (OAuth only)
    user_id: str
    round_id: int
    channel: str
    ts: str

    @property
    def message(self) -> tuple[str | None, str, str]:
        return self.team_id, self.channel, self.ts


# Where a refresh finds the database and the Slack gateway of its workspace.
Resolve = Callable[[PulseDmRefresh], tuple[Deps, SlackGateway]]


def workspace_resolver(
    single: tuple[Deps, SlackGateway] | None,
    workspaces: Workspaces | None,
    gateways: WorkspaceGateways,
) -> Resolve:
    """One workspace's dependencies and gateway for every refresh, or (OAuth) the refresh's
    own workspace's, found by the team and token Bolt authorized its click with."""

    def resolve(refresh: PulseDmRefresh) -> tuple[Deps, SlackGateway]:
        if single is not None:
            return single
        if workspaces is None or not refresh.team_id or not refresh.token:
            raise LookupError("a refresh without a workspace, in a many-workspace deployment")
        return (
            workspaces.deps_for(refresh.team_id),
            gateways.for_workspace(refresh.team_id, refresh.token),
        )

    return resolve


class DmRefresher(Protocol):
    def mark(self, refresh: PulseDmRefresh) -> None:
        """A click changed this DM; never blocks, never raises."""

    def close(self) -> None:
        """Finish the refreshes already asked for (bounded), then stop."""


class ShownMessages:
    """What each recently refreshed DM was last edited to show (its `dm_fingerprint`).

    The DM says only which statements are answered, so most clicks (a changed mind, or any
    click after the first on a statement) leave it as it is: such a refresh skips the render
    and the `chat.update` and only confirms the choice. Nothing else edits a pulse DM while its
    person can still click it (forget-me edits it once and removes the buttons)."""

    def __init__(self, capacity: int = SHOWN_MESSAGES) -> None:
        self._capacity = capacity
        self._lock = threading.Lock()
        self._shown: OrderedDict[Hashable, Hashable] = OrderedDict()

    def unchanged(self, key: Hashable, fingerprint: Hashable) -> bool:
        with self._lock:
            if self._shown.get(key) != fingerprint:
                return False
            self._shown.move_to_end(key)
            return True

    def remember(self, key: Hashable, fingerprint: Hashable) -> None:
        with self._lock:
            self._shown[key] = fingerprint
            self._shown.move_to_end(key)
            while len(self._shown) > self._capacity:
                self._shown.popitem(last=False)


def refresh_pulse_dm(
    deps: Deps,
    gateway: SlackGateway,
    refresh: PulseDmRefresh,
    shown: ShownMessages | None = None,
) -> None:
    """Re-render a pulse DM from the answers stored now (which are answered, not how), unless
    `shown` says it already shows that, and show the person alone what they chose, in an
    ephemeral confirmation in the same DM."""
    state = pulse_state(
        deps, slack_user_id=refresh.user_id, round_id=refresh.round_id, require_open=False
    )
    prompts = state.prompts(deps)
    fingerprint = dm_fingerprint(state.view, prompts)
    try:
        if shown is None or not shown.unchanged(refresh.message, fingerprint):
            gateway.update_message(refresh.channel, refresh.ts, pulse_message(state.view, prompts))
            if shown is not None:
                shown.remember(refresh.message, fingerprint)
    finally:
        # Even when the edit failed: the confirmation is the person's only sign of the click.
        confirmation = confirmation_message(state.view, prompts)
        if confirmation is not None:
            gateway.post_ephemeral(refresh.channel, refresh.user_id, confirmation)


class StaleMessages:
    """Coalescing refreshes per message key, run on `executor`."""

    def __init__(self, executor: Executor) -> None:
        self._executor = executor
        self._lock = threading.Lock()
        self._queued: dict[Hashable, Refresh] = {}  # waiting for a thread
        self._running: set[Hashable] = set()
        self._again: dict[Hashable, Refresh] = {}  # marked stale while a refresh ran

    def mark(self, key: Hashable, refresh: Refresh) -> None:
        """The message `key` changed; `refresh` re-renders it from the stored state."""
        with self._lock:
            if key in self._queued:
                return  # the queued refresh has not read anything yet: it will see this change
            if key in self._running:
                self._again[key] = refresh
                return
            self._queued[key] = refresh
        self._executor.submit(self._run, key)

    def _run(self, key: Hashable) -> None:
        with self._lock:
            refresh = self._queued.pop(key)
            self._running.add(key)
        try:
            refresh()
        except Exception as error:  # the answer is stored; only the DM's ticks lag
            log.warning("could not refresh a pulse DM: %s", type(error).__name__)
        finally:
            with self._lock:
                self._running.discard(key)
                follow = self._again.pop(key, None)
                if follow is not None:
                    self._queued[key] = follow
            if follow is not None:
                self._executor.submit(self._run, key)

    def pending(self) -> int:
        """Messages waiting for or in a refresh (tests wait for it to reach 0)."""
        with self._lock:
            return len(self._queued) + len(self._running) + len(self._again)


class ThreadRefresher:
    """Refreshes on threads of this process (`executor`), coalesced per message."""

    def __init__(self, resolve: Resolve, executor: Executor) -> None:
        self._resolve = resolve
        self._executor = executor
        self.stale = StaleMessages(executor)
        self.shown = ShownMessages()

    def mark(self, refresh: PulseDmRefresh) -> None:
        self.stale.mark(refresh.message, functools.partial(self._refresh, refresh))

    def _refresh(self, refresh: PulseDmRefresh) -> None:
        deps, gateway = self._resolve(refresh)
        refresh_pulse_dm(deps, gateway, refresh, self.shown)

    def close(self, timeout: float = CLOSE_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while self.stale.pending() and time.monotonic() < deadline:
            time.sleep(0.05)
        self._executor.shutdown(wait=False)
