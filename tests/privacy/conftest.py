"""The attack suites run against the same real parts as the end-to-end tests."""

from tests.e2e.conftest import bot, clock, deps, emulator, org  # noqa: F401
