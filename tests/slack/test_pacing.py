from __future__ import annotations

import pytest

from bot.slack.pacing import RateLimiter


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_bursts_then_paces_to_the_rate() -> None:
    clock = FakeTime()
    limiter = RateLimiter(10, burst=5, monotonic=clock.monotonic, sleep=clock.sleep)
    for _ in range(25):
        limiter.acquire()
    # 5 free from the burst, then 20 more at 10 per second.
    assert clock.now == pytest.approx(2.0)
    assert len(clock.slept) == 20


def test_idle_time_refills_only_up_to_the_burst() -> None:
    clock = FakeTime()
    limiter = RateLimiter(2, burst=2, monotonic=clock.monotonic, sleep=clock.sleep)
    clock.now = 100.0  # a long idle spell
    for _ in range(4):
        limiter.acquire()
    assert clock.now == pytest.approx(101.0)


def test_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        RateLimiter(0)
