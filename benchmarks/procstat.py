"""What Linux says about a process and its children: peak resident memory and CPU time."""

from __future__ import annotations

import os
from pathlib import Path

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
