"""What Linux says about a process: peak resident memory and CPU time used so far."""

from __future__ import annotations

import os
from pathlib import Path

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    """VmHWM: the most resident memory the process has had since it started."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise LookupError(f"no VmHWM for process {pid}")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of every thread of the process."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    # The command name may hold spaces; the fields after it are space-separated.
    fields = stat.rsplit(")", 1)[1].split()
    user, system = int(fields[11]), int(fields[12])  # utime and stime (fields 14 and 15)
    return (user + system) / TICKS_PER_SECOND
