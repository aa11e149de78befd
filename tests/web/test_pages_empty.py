"""The report's pages before any digest was posted: each says so, politely, for every role."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.clock import ManualClock
from bot.runtime import build_deps
from bot.sandbox.report_story import NOW
from bot.services.context import Deps
from bot.settings import Settings
from bot.web.viewer import Role, Viewer
from tests.web.test_pages import get

NOTHING_YET = b"No digest has been posted yet"


@pytest.fixture
def empty(database_url: str) -> Iterator[Deps]:
    settings = Settings.model_validate(
        {
            "DATABASE_URL": database_url,
            "CX_PSEUDONYM_KEY": "empty-pages-pseudonym-key",
            "CX_TIMEZONE": "UTC",
        }
    )
    deps = build_deps(settings, clock=ManualClock(NOW))
    yield deps
    deps.engine.dispose()


def test_nothing_posted_yet(empty: Deps) -> None:
    leader = Viewer("T1", "ULEAD", "Lea", Role.ADMIN, frozenset(), "c1")
    lead = Viewer("T1", "UTL", "Tim", Role.TEAM_LEAD, frozenset({"support"}), "c2")
    someone = Viewer("T1", "UEMP", "Em", Role.EMPLOYEE, frozenset(), "c3")
    for viewer in (leader, lead, someone):
        overview = get(empty, viewer, "/report")
        assert (overview.status, NOTHING_YET in overview.body) == (200, True)
        mine = get(empty, viewer, "/report/me")
        assert b"No answers from you yet" in mine.body
    assert NOTHING_YET in get(empty, leader, "/report/heatmap").body
    assert get(empty, leader, "/report/heatmap.csv").body.count(b"\r\n") == 1  # the header
    assert b"comments can be shown yet" in get(empty, leader, "/report/comments").body
    assert b"No commitment in progress" in get(empty, leader, "/report/actions").body
    assert NOTHING_YET in get(empty, lead, "/report/teams/support").body
    assert get(empty, leader, "/report/teams/support").status == 404
    assert get(empty, someone, "/report/teams/support").status == 404
