"""Pulse DM refreshes in a child process of `cxpulse serve`, so they never hold the web
process's interpreter lock while it stores and acks clicks.

A refresh reads the person's answers, renders the DM, calls `chat.update` and shows the person
their choices with `chat.postEphemeral`: at least as much CPU as storing and acking the click.
On a thread of the web process that work took the interpreter from the listener threads, and
under a burst clicks were acked late (benchmark 2).
Now the web process only queues each click's `PulseDmRefresh` (a C queue: no waiting, no
lock held), and one sender thread writes them to the child's stdin in batches, one JSON line
each. The child, `python -m bot.slack.refresh_process`, reads its settings from the same
environment, coalesces and refreshes them exactly as a `ThreadRefresher` does in-process
(bot.slack.dm_refresh), over its own connections to the same database, and writes nothing.

What can be lost: refreshes queued but not yet re-rendered when the web process is killed.
Answers are stored and acked before their refresh is queued, so no answer is ever lost; only
that DM's "Answered" lines and the person's confirmation lag until their next click. A child
that dies is started again and sent again every refresh sent to the dead one in the last 30
seconds (they are idempotent, but for the ephemeral confirmation, which may then show twice).
"""

from __future__ import annotations

import collections
import dataclasses
import json
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import IO

from bot.settings import Settings
from bot.slack.dm_refresh import (
    CLOSE_TIMEOUT_S,
    PulseDmRefresh,
    ThreadRefresher,
    workspace_resolver,
)

log = logging.getLogger(__name__)
BATCH = 256  # refreshes per write, so a burst of clicks costs a few writes, not one per click
READY_TIMEOUT_S = 60.0  # imports and a database connection, on a slow machine
RESTART_PAUSE_S = 5.0  # a child that cannot start is not restarted for every batch
RESEND_WINDOW_S = 30.0  # longer than a refresh can take, a 429's Retry-After included
WATCH_S = 1.0  # how soon a child that died while no clicks came is noticed
READY = b"ready\n"
_STOP = None


class RefreshProcessFailed(RuntimeError):
    """The child could not start: its settings, database or prompts are wrong."""


class ProcessRefresher:
    """A `DmRefresher` whose refreshes run in a child process it starts and restarts."""

    def __init__(
        self, env: Mapping[str, str] | None = None, *, restart_pause: float = RESTART_PAUSE_S
    ) -> None:
        self._env = dict(os.environ if env is None else env)
        self._restart_pause = restart_pause
        self._queue: queue.SimpleQueue[PulseDmRefresh | None] = queue.SimpleQueue()
        self._child: subprocess.Popen[bytes] | None = None
        self._last_start = 0.0
        self._sent: collections.deque[tuple[float, PulseDmRefresh]] = collections.deque()
        self._sender = threading.Thread(
            target=self._send_loop, name="cx-refresh-sender", daemon=True
        )

    def start(self) -> ProcessRefresher:
        """Start the child and wait until it is ready; RefreshProcessFailed if it cannot."""
        self._start_child()
        self._sender.start()
        return self

    @property
    def child_pid(self) -> int | None:
        return self._child.pid if self._child is not None else None

    def mark(self, refresh: PulseDmRefresh) -> None:
        self._queue.put(refresh)

    def queued(self) -> int:
        """Refreshes not yet handed to the child."""
        return self._queue.qsize()

    def close(self) -> None:
        """Let the child finish what it was sent (bounded), then stop it."""
        if self._sender.is_alive():
            self._queue.put(_STOP)
            self._sender.join(timeout=CLOSE_TIMEOUT_S + 5)
        self._stop_child()

    def _start_child(self) -> None:
        self._last_start = time.monotonic()
        child = subprocess.Popen(
            [sys.executable, "-m", "bot.slack.refresh_process"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=self._env,
        )
        assert child.stdout is not None
        # Whatever it prints before "ready" (nothing, normally) is a reason it is not.
        line = _read_line(child.stdout, READY_TIMEOUT_S)
        if line != READY:
            child.kill()
            child.wait()
            raise RefreshProcessFailed(
                f"the DM refresh process did not start (exit {child.returncode}); "
                "its reason is in the log above"
            )
        child.stdout.close()
        self._child = child

    def _stop_child(self) -> None:
        child, self._child = self._child, None
        if child is None:
            return
        try:
            if child.stdin is not None:
                child.stdin.close()  # end of input: finish the refreshes under way and exit
            child.wait(timeout=CLOSE_TIMEOUT_S + 5)
        except (OSError, subprocess.TimeoutExpired):
            child.kill()  # it ignores SIGTERM (see main)
            child.wait()

    def _send_loop(self) -> None:
        while True:
            try:
                batch = [self._queue.get(timeout=WATCH_S)]
            except queue.Empty:
                if self._child is not None and self._child.poll() is not None:
                    self._restart()  # died while idle: redo what it may not have finished
                continue
            while len(batch) < BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            refreshes = [refresh for refresh in batch if refresh is not _STOP]
            handed = not refreshes or self._write(refreshes)
            if not handed and not (self._restart() and self._write(refreshes)):
                log.warning("could not hand %d pulse DM refreshes over", len(refreshes))
            if _STOP in batch:
                return

    def _write(self, refreshes: list[PulseDmRefresh]) -> bool:
        """Send to the child; False if it is gone. Sent refreshes are kept for a while: a pipe
        takes a write even while the killed child's last threads are still exiting, so only
        a restart's resending makes sure the dead child's unfinished work gets done."""
        child = self._child
        if child is None or child.stdin is None:
            return False
        line = (json.dumps([_encoded(refresh) for refresh in refreshes]) + "\n").encode()
        try:
            child.stdin.write(line)
            child.stdin.flush()
        except OSError:  # BrokenPipeError: the child died
            return False
        now = time.monotonic()
        self._sent.extend((now, refresh) for refresh in refreshes)
        while self._sent and self._sent[0][0] < now - RESEND_WINDOW_S:
            self._sent.popleft()
        return True

    def _restart(self) -> bool:
        """A new child, sent again (once per message) what the dead one was sent lately."""
        if time.monotonic() - self._last_start < self._restart_pause:
            return False
        log.warning("the DM refresh process stopped; starting it again")
        self._stop_child()
        try:
            self._start_child()
        except (RefreshProcessFailed, OSError):
            log.exception("the DM refresh process could not be started again")
            return False
        latest = {refresh.message: refresh for _, refresh in self._sent}
        self._sent.clear()
        if latest:
            self._write(list(latest.values()))
        return True


def _encoded(refresh: PulseDmRefresh) -> list[object]:
    return list(dataclasses.astuple(refresh))


def _decoded(fields: list[object]) -> PulseDmRefresh:
    team_id, token, user_id, round_id, channel, ts = fields
    return PulseDmRefresh(
        team_id=None if team_id is None else str(team_id),
        token=None if token is None else str(token),
        user_id=str(user_id),
        round_id=int(str(round_id)),
        channel=str(channel),
        ts=str(ts),
    )


def _read_line(stream: IO[bytes], timeout: float) -> bytes:
    """One line from `stream`, or b"" if none comes within `timeout` (or it closes)."""
    found: list[bytes] = []
    reader = threading.Thread(target=lambda: found.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    return found[0] if found else b""


def refresher_for(settings: Settings) -> ThreadRefresher:
    """A one-thread refresher over this deployment's workspaces (one, or every OAuth one),
    on a database the web process has already migrated."""
    from bot.runtime import build_deps
    from bot.slack.gateway import WorkspaceGateways, make_gateway
    from bot.tenancy import Workspaces

    gateways = WorkspaceGateways(settings)
    if settings.distributed:
        workspaces = Workspaces(
            settings, build=lambda s, c, e: build_deps(s, clock=c, engine=e, migrate=False)
        )
        resolve = workspace_resolver(None, workspaces, gateways)
    else:
        deps = build_deps(settings, migrate=False)
        resolve = workspace_resolver((deps, make_gateway(settings)), None, gateways)
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cx-refresh")
    return ThreadRefresher(resolve, executor)


def main() -> None:
    """The child: refresh what stdin brings until it ends (the web process closed or died)."""
    # A platform stopping the app signals the whole process group; the child outlives that
    # signal so it can finish what the web process sends before the web process closes it.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from bot import logs

    settings = Settings()
    # Its stderr is the web process's: the same format, the same secrets masked.
    logs.configure(json_lines=settings.log_format == "json").redact.add_secrets(
        logs.secret_values(settings)
    )
    refresher = refresher_for(settings)
    sys.stdout.buffer.write(READY)
    sys.stdout.buffer.flush()
    try:
        for line in sys.stdin.buffer:
            try:
                refreshes = [_decoded(fields) for fields in json.loads(line)]
            except (ValueError, TypeError):
                log.warning("ignored a line the web process should never send")
                continue
            for refresh in refreshes:
                refresher.mark(refresh)
    finally:
        refresher.close()


if __name__ == "__main__":
    main()
