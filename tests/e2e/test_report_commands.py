"""`/cx score | trend | team | gaps` and the posted digest, over real HTTP, on imported history
with a planted story; and what the gate keeps back (comments, participation)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from bot.clock import ManualClock
from bot.db.models import RoundKind
from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.harness import ServedBot
from bot.sandbox.history import generate_history
from bot.sandbox.org import Story, build_org
from bot.sandbox.people import click_score, latest_dm, question_ids, wait_for
from bot.services.context import Deps
from bot.services.digest import build_digest
from bot.services.importer import ImportRow, import_answers
from bot.services.publishing import post_due_digest
from bot.services.rounds import send_round
from tests.e2e.conftest import (
    ADMIN,
    LEADERS_CHANNEL,
    Org,
    answers,
    comment_texts,
    ephemeral_texts,
    last_digest,
)


def _import_story(deps: Deps, story: Story) -> None:
    bank = deps.prompts.bank
    questions = {d.id: [q.id for q in d.questions] for d in bank.dimensions}
    rows = generate_history(
        build_org(1000, people_per_team=20),
        questions,
        story,
        seed=1000,
        weeks=12,
        last_monday=date(2026, 11, 16),
    )
    import_answers(
        deps,
        [
            ImportRow(
                i + 2, r.day, r.respondent, r.team, r.is_leader, r.question_id, r.score, r.comment
            )
            for i, r in enumerate(rows)
        ],
    )


@pytest.fixture
def story(deps: Deps, bot: ServedBot) -> Deps:
    _import_story(deps, Story())
    return deps


def _reply(emulator: SlackEmulator, user: str, text: str) -> str:
    before = len(emulator.responses())
    assert emulator.send_slash_command(user, text).status == 200
    return wait_for(lambda: ephemeral_texts(emulator)[before:])[0]


def test_trend_team_and_gaps_tell_the_story(story: Deps, emulator: SlackEmulator, org: Org) -> None:
    leader = org.leaders[0]
    trend = _reply(emulator, org.teams["beta"][3], "trend empowerment 6")
    assert "*Empowerment*, week by week" in trend
    assert trend.count("`2026-W") == 6
    assert "Latest week:" in trend

    team = _reply(emulator, leader, "team support")
    assert "*support* this week (2026-W47" in team
    assert "*Empowerment*" in team
    assert "down" in team.split("*Empowerment*")[1].split("\n")[0]

    hidden = _reply(emulator, leader, "team nobody")
    assert "No results to show for a team called `nobody`" in hidden
    assert "`support`" in hidden

    gaps = _reply(emulator, leader, "gaps")
    assert "*Leadership walks the talk*: leaders" in gaps
    assert "*Cross-team collaboration*: success 77%, sales 4%" in gaps  # % favourable
    assert "beyond what normal swings explain" in gaps

    assert "Tell me which dimension" in _reply(emulator, leader, "trend")
    assert "Tell me which dimension" in _reply(emulator, leader, "trend empowerment 99")
    assert "Tell me which team" in _reply(emulator, leader, "team")


def test_posting_the_digest_uploads_the_chart_and_nudges_the_declining_team(
    deps: Deps, bot: ServedBot, emulator: SlackEmulator, org: Org, clock: ManualClock
) -> None:
    # Imported while its last week is still open; a live round joins that week; once both
    # have closed, the week is published (whole) and the scheduled post reports it.
    clock.set(clock.now() - timedelta(days=7))
    _import_story(deps, Story())
    send_round(deps, bot.gateway, kind=RoundKind.SCHEDULED)
    clock.advance(timedelta(days=6))
    report = post_due_digest(deps, bot.gateway)
    assert report is not None
    digest = json.dumps(last_digest(emulator)["blocks"])
    assert "*support: Empowerment* fell to" in digest
    files = emulator.uploaded_files()
    # The trend chart, then the heatmap, both beside the digest.
    assert [f["name"] for f in files] == [
        f"cx-pulse-{report.period}.png",
        f"cx-pulse-{report.period}-heatmap.png",
    ]
    assert all(f["content"].startswith(b"\x89PNG") for f in files)
    assert all(f["channels"] == [LEADERS_CHANNEL] for f in files)
    assert files[0]["alt_txt"].startswith("Small charts of % favourable")
    assert "support: Empowerment fell to" in files[0]["alt_txt"]
    assert files[1]["alt_txt"].startswith("Heatmap of % favourable")
    assert [n.team for n in report.team_nudges] == ["support"]
    # The support team of the import has no lead and no channel here, so no nudge goes out;
    # nothing is posted twice when the job runs again.
    assert post_due_digest(deps, bot.gateway) is None
    assert len(emulator.uploaded_files()) == 2


def test_team_nudges_go_to_the_team_channel_when_one_is_set(
    deps: Deps, bot: ServedBot, emulator: SlackEmulator
) -> None:
    from bot.services.publishing import send_team_nudges

    _import_story(deps, Story())
    emulator.add_channel("C0SUPPORT", "support", [])
    settings = deps.settings.model_copy(update={"team_channels": {"support": "C0SUPPORT"}})
    with_channel = Deps(env=settings, engine=deps.engine, clock=deps.clock, prompts=deps.prompts)
    report = build_digest(with_channel)
    assert send_team_nudges(with_channel, bot.gateway, report) == 1
    nudge = emulator.messages("C0SUPPORT")[-1]["text"]
    assert nudge.startswith("*A nudge for support*: Empowerment has clearly slipped")
    assert "never anyone's individual answers" in nudge


def _week_with(
    emulator: SlackEmulator,
    deps: Deps,
    bot: ServedBot,
    clock: ManualClock,
    users: list[str],
    comment: str | None = None,
) -> None:
    """An ad hoc round in a new week that `users` answer (the first also comments); it closes."""
    from bot.sandbox.people import open_comment_modal, submit_comment

    send_round(deps, bot.gateway, kind=RoundKind.ADHOC)
    before = len(answers(deps))
    for user in users:
        click_score(emulator, user, question_ids(latest_dm(emulator, user))[0], 4)
    wait_for(lambda: len(answers(deps)) == before + len(users))
    if comment is not None:
        view = open_comment_modal(emulator, users[0])
        first = question_ids(latest_dm(emulator, users[0]))[0]
        submit_comment(emulator, users[0], view, first, comment)
        wait_for(lambda: comment in comment_texts(deps))
    clock.advance(timedelta(days=7))


def test_comments_need_their_own_larger_group(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps, clock: ManualClock
) -> None:
    _week_with(emulator, deps, bot, clock, org.participants[:9], "nine is too few")
    report = build_digest(deps)
    assert report.comments == []  # 9 people answered: enough for scores, not for comments
    assert report.participation.respondents == 9
    _week_with(emulator, deps, bot, clock, org.participants[:10], "ten is enough")
    report = build_digest(deps)
    assert [c.text for c in report.comments] == ["ten is enough"]
    # Participation: 10 of 18 answered, exactly (the count says how many, never who).
    assert report.participation.rate == pytest.approx(10 / 18)


def test_when_almost_everyone_answered_the_rate_is_exact(
    bot: ServedBot, emulator: SlackEmulator, org: Org, deps: Deps, clock: ManualClock
) -> None:
    _week_with(emulator, deps, bot, clock, org.participants[:15], None)
    participation = build_digest(deps).participation
    assert participation.respondents == 15
    assert participation.rate == pytest.approx(15 / 18)
    text = _reply(emulator, org.leaders[0], "digest")
    assert "Response rate 83% (15 of 18 people)" in text


def test_the_report_is_warmed_before_the_first_command(
    deps: Deps, bot: ServedBot, emulator: SlackEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.services import digest

    assert not digest.warm_latest_report(deps)  # nothing to report yet: no error either
    _import_story(deps, Story())
    assert digest.warm_latest_report(deps)

    def no_rebuild(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the first /cx reply rebuilt the report")

    monkeypatch.setattr(digest, "build_digest", no_rebuild)
    emulator.send_slash_command(ADMIN, "score")
    wait_for(lambda: any("Empowerment" in text for text in ephemeral_texts(emulator)))
