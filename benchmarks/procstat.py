"""What Linux says about a process and its children: peak resident memory and CPU time."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from types import TracebackType

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    """`pid` and every live descendant (`cxpulse serve` has a DM refresh child)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int(_stat_fields(int(entry.name))[1])
            except (OSError, IndexError, ValueError):
                continue  # exited while we looked
    tree, frontier = [pid], [pid]
    while frontier:
        children = [child for child, parent in parents.items() if parent in frontier]
        tree.extend(children)
        frontier = children
    return tree


def peak_rss_mb(pid: int) -> float:
    """The sum over the process tree of VmHWM, each process's most resident memory so far
    (at least the tree's peak: the processes may peak at different moments)."""
    return sum(_peak_rss_mb(one) for one in process_tree(pid))


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise LookupError(f"no VmHWM for process {pid}")


def pss_mb(pid: int) -> float:
    """The sum over the process tree of each process's proportional set size now: private
    pages in full, pages shared with other processes (libraries, interpreter) split among
    them, so what the tree occupies with nothing counted twice (what a container is charged)."""
    total = 0.0
    for one in process_tree(pid):
        try:
            rollup = Path(f"/proc/{one}/smaps_rollup").read_text()
        except OSError:
            continue  # exited while we looked
        for line in rollup.splitlines():
            if line.startswith("Pss:"):
                total += int(line.split()[1]) / 1024
                break
    return total


class PeakPss:
    """Samples `pss_mb` of a process tree on a thread while in use; `peak_mb` is the highest."""

    def __init__(self, pid: int, every_s: float = 0.2) -> None:
        self.pid, self.every_s, self.peak_mb = pid, every_s, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="pss-sampler", daemon=True)

    def _sample(self) -> None:
        while True:
            self.peak_mb = max(self.peak_mb, pss_mb(self.pid))
            if self._stop.wait(self.every_s):
                return

    def __enter__(self) -> PeakPss:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_mb = max(self.peak_mb, pss_mb(self.pid))


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of every thread of the process and its live children."""
    total = 0
    for one in process_tree(pid):
        fields = _stat_fields(one)
        total += int(fields[11]) + int(fields[12])  # utime and stime (fields 14 and 15)
    return total / TICKS_PER_SECOND


def _stat_fields(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command name (which may hold spaces)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
