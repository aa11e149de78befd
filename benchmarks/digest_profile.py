"""Where one digest spends its time: in each repository function (its SQL and rows) and in the
heaviest functions of the Python side (cProfile, inclusive time)."""

from __future__ import annotations

import cProfile
import functools
import inspect
import pstats
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.db import repositories
from bot.services.context import Deps
from bot.services.digest import build_digest

PYTHON_SIDE = ("/bot/analytics/", "/bot/services/")


@dataclass(frozen=True, slots=True)
class HotSpots:
    seconds: float  # the digest with its repository calls timed
    queries: tuple[tuple[str, float, int], ...]  # (repository function, seconds, calls)
    python: tuple[tuple[str, float], ...]  # (function, share of a profiled digest, inclusive)

    @property
    def query_seconds(self) -> float:
        return sum(seconds for _, seconds, _ in self.queries)

    def describe(self, top: int = 3) -> str:
        sql = ", ".join(
            f"{name} {s:.2f} s" + (f" in {n} calls" if n > 1 else "")
            for name, s, n in self.queries[:top]
        )
        python = ", ".join(f"{name} {share:.0%}" for name, share in self.python[:top])
        return (
            f"repository calls {self.query_seconds:.2f} s of {self.seconds:.2f} s ({sql}); "
            f"cProfile (inclusive): {python}"
        )


def _timed(function: Callable[..., Any], spent: list[float]) -> Callable[..., Any]:
    @functools.wraps(function)
    def timed(*args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - began)

    return timed


def _queries(deps: Deps) -> tuple[float, tuple[tuple[str, float, int], ...]]:
    """One digest with every repository function timed (the query and its rows, both)."""
    originals = {
        name: value
        for name, value in vars(repositories).items()
        if inspect.isfunction(value) and value.__module__ == repositories.__name__
    }
    spent: dict[str, list[float]] = {name: [] for name in originals}
    for name, function in originals.items():
        setattr(repositories, name, _timed(function, spent[name]))
    try:
        began = time.perf_counter()
        build_digest(deps)
        seconds = time.perf_counter() - began
    finally:
        for name, function in originals.items():
            setattr(repositories, name, function)
    ranked = sorted(
        ((name, sum(times), len(times)) for name, times in spent.items() if times),
        key=lambda item: item[1],
        reverse=True,
    )
    return seconds, tuple(ranked)


def _python_side(deps: Deps) -> tuple[tuple[str, float], ...]:
    profile = cProfile.Profile()
    profile.runcall(build_digest, deps)
    stats: dict[tuple[str, int, str], tuple[Any, ...]] = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    total = max(entry[3] for entry in stats.values())  # build_digest's own cumulative time
    ranked = sorted(
        (
            (name, entry[3] / total)
            for (file, _, name), entry in stats.items()
            if any(part in file for part in PYTHON_SIDE) and name != "build_digest"
        ),
        key=lambda item: item[1],
        reverse=True,
    )
    return tuple(ranked)


def hot_spots(deps: Deps) -> HotSpots:
    seconds, queries = _queries(deps)
    return HotSpots(seconds=seconds, queries=queries, python=_python_side(deps))
