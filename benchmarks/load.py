"""A closed-loop load generator: N clients, each sending its next signed request as soon as the
previous one is answered, the way Slack's retries-free happy path looks from the app."""

from __future__ import annotations

import gc
import math
import os
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from bot.sandbox.actors import post_signed


@dataclass(frozen=True, slots=True)
class Load:
    requests: int
    errors: int  # answers other than 200
    seconds: float
    latencies_ms: tuple[float, ...]
    client_cpu_share: float  # CPU the load generator itself used, as a share of one core

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds

    def percentile(self, share: float) -> float:
        """Nearest-rank percentile of the latencies (share 0.99 is p99)."""
        ordered = sorted(self.latencies_ms)
        return ordered[max(1, math.ceil(share * len(ordered))) - 1]


def hammer(url: str, bodies: Sequence[str], *, secret: str, clients: int) -> Load:
    """POST every body, signed with Slack's v0 scheme at send time, from `clients` threads."""

    def send(body: str) -> tuple[int, float]:
        sent = post_signed(url, body, signing_secret=secret)
        return sent.status, sent.elapsed * 1000

    # This process holds every planned body and the emulator's whole workspace, and a full
    # collection of that heap stalled every client for 0.2-0.45 s at a time: latency spikes
    # that were the load generator's, not the app's. Nothing here lives long enough to need
    # the cycle collector during a run; it is switched back on (and run) afterwards.
    gc.collect()
    gc.disable()
    try:
        cpu_before, started = _own_cpu(), time.monotonic()
        with ThreadPoolExecutor(max_workers=clients, thread_name_prefix="bench-client") as pool:
            results = list(pool.map(send, bodies))
        seconds, cpu = time.monotonic() - started, _own_cpu() - cpu_before
    finally:
        gc.enable()
    return Load(
        requests=len(results),
        errors=sum(1 for status, _ in results if status != 200),
        seconds=seconds,
        latencies_ms=tuple(elapsed for _, elapsed in results),
        client_cpu_share=cpu / seconds,
    )


def _own_cpu() -> float:
    times = os.times()
    return times.user + times.system
