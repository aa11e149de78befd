"""Run a module under cProfile in every thread, timed by each thread's own CPU clock.

`python -m cProfile` sees only the main thread, which in a waitress server is the select() loop;
the clicks are handled on worker threads. Usage:
`python -m benchmarks.profiled OUT.prof bot serve --no-scheduler` (stats are written at exit).
"""

from __future__ import annotations

import atexit
import cProfile
import pstats
import runpy
import sys
import threading
import time
from typing import Any

_profiles: list[cProfile.Profile] = []
_lock = threading.Lock()


def _new_profile() -> cProfile.Profile:
    profile = cProfile.Profile(time.thread_time)
    with _lock:
        _profiles.append(profile)
    return profile


def _profiled_run(original: Any) -> Any:
    def run(self: threading.Thread) -> None:
        profile = _new_profile()
        profile.enable()
        try:
            original(self)
        finally:
            profile.disable()

    return run


def _dump(path: str) -> None:
    with _lock:
        profiles = list(_profiles)
    for profile in profiles:
        profile.disable()
    stats = pstats.Stats(profiles[0])
    for profile in profiles[1:]:
        stats.add(profile)
    stats.dump_stats(path)


def main() -> None:
    out, module, *args = sys.argv[1:]
    threading.Thread.run = _profiled_run(threading.Thread.run)  # type: ignore[method-assign]
    atexit.register(_dump, out)
    main_profile = _new_profile()
    main_profile.enable()
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
