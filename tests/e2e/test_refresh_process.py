"""DM refreshes in a real child process: they land, survive the child's death, and finish
before close() returns; a child that cannot start says so at once."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest

from bot.db.models import RoundKind
from bot.prompts import load_prompts
from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.people import answered_in, confirmed, latest_dm, question_ids, wait_for
from bot.services.answers import record_answer
from bot.services.context import Deps
from bot.services.rounds import send_round
from bot.slack.dm_refresh import PulseDmRefresh
from bot.slack.gateway import make_gateway
from bot.slack.refresh_process import (
    ProcessRefresher,
    RefreshProcessFailed,
    _decoded,
    _encoded,
)
from tests.e2e.conftest import process_env

PERSON = "UALPHA0"
LABEL = load_prompts().bank.label


@pytest.fixture
def refresher(database_url: str, emulator: SlackEmulator, deps: Deps) -> Iterator[ProcessRefresher]:
    send_round(deps, make_gateway(deps.settings), kind=RoundKind.ADHOC)
    started = ProcessRefresher(process_env(emulator, database_url), restart_pause=0).start()
    yield started
    started.close()


def _click(deps: Deps, emulator: SlackEmulator, question: str, score: int) -> PulseDmRefresh:
    """Store an answer as the click listener does, and say which DM it changed."""
    message = latest_dm(emulator, PERSON)
    record_answer(
        deps, slack_user_id=PERSON, round_id=1, question_id=question, score=score, clicked_at=None
    )
    return PulseDmRefresh(
        team_id=emulator.team_id,
        token=None,
        user_id=PERSON,
        round_id=1,
        channel=emulator.dm_channel(PERSON),
        ts=str(message["ts"]),
    )


def _shows(emulator: SlackEmulator, question: str, score: int) -> bool:
    """The DM ticks the statement as answered, and the person's newest confirmation shows
    `score` for it."""
    shown = confirmed(emulator, PERSON).get(question, "")
    return question in answered_in(latest_dm(emulator, PERSON)) and f"*{LABEL(score)}*" in shown


def test_a_marked_dm_is_refreshed_by_the_child_and_after_its_death_by_the_next_one(
    deps: Deps, emulator: SlackEmulator, refresher: ProcessRefresher
) -> None:
    first, second = question_ids(latest_dm(emulator, PERSON))[:2]
    refresher.mark(_click(deps, emulator, first, 4))
    wait_for(lambda: _shows(emulator, first, 4), timeout=30)

    killed = refresher.child_pid
    assert killed is not None
    os.kill(killed, signal.SIGKILL)
    wait_for(lambda: _exited(killed), timeout=10)
    refresher.mark(_click(deps, emulator, second, 2))
    wait_for(lambda: _shows(emulator, second, 2), timeout=30)
    assert refresher.child_pid not in (None, killed)
    assert _shows(emulator, first, 4)  # the new child renders every stored answer


def test_a_refresh_the_child_died_before_finishing_is_done_by_the_next_one(
    deps: Deps, emulator: SlackEmulator, refresher: ProcessRefresher
) -> None:
    question = question_ids(latest_dm(emulator, PERSON))[0]
    killed = refresher.child_pid
    assert killed is not None
    # Stop it first, so it surely reads nothing: the pipe still takes the write.
    os.kill(killed, signal.SIGSTOP)
    refresher.mark(_click(deps, emulator, question, 5))
    wait_for(lambda: not refresher.queued(), timeout=10)
    os.kill(killed, signal.SIGKILL)
    wait_for(lambda: _shows(emulator, question, 5), timeout=30)
    assert refresher.child_pid != killed


def test_close_returns_once_every_marked_refresh_has_landed(
    deps: Deps, emulator: SlackEmulator, refresher: ProcessRefresher
) -> None:
    question = question_ids(latest_dm(emulator, PERSON))[0]
    for score in (1, 5, 3):  # three quick clicks: the DM must end on the last
        refresher.mark(_click(deps, emulator, question, score))
    refresher.close()
    assert _shows(emulator, question, 3)
    assert len(emulator.calls("chat.update")) <= 3
    assert len(emulator.calls("chat.postEphemeral")) <= 3  # one confirmation per refresh


def test_a_child_that_cannot_start_is_an_error_at_start(
    database_url: str, emulator: SlackEmulator
) -> None:
    env = process_env(emulator, database_url)
    env.pop("CX_PSEUDONYM_KEY")
    with pytest.raises(RefreshProcessFailed, match="did not start"):
        ProcessRefresher(env).start()


def test_refreshes_cross_the_pipe_unchanged() -> None:
    for refresh in (
        PulseDmRefresh("T1", "xoxb-1", "U1", 7, "D1", "1700000000.000100"),
        PulseDmRefresh(None, None, "U2", 1, "D2", "1.2"),
    ):
        assert _decoded(_encoded(refresh)) == refresh


def _exited(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True
