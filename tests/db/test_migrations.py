from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlmodel import Session, SQLModel, select

import bot.db.models  # noqa: F401  (registers the tables)
from bot.db.engine import make_engine
from bot.db.migrate import alembic_config, upgrade_to_head
from bot.db.models import Delivery
from bot.pseudonym import pseudonym


def test_migrations_build_exactly_the_models_and_are_idempotent(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade_to_head(engine)
    upgrade_to_head(engine)  # a second run is a no-op, as every command migrates on start
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []
        tables = set(inspect(connection).get_table_names())
    assert {"member", "question", "pulse_round", "round_question", "delivery", "answer"} <= tables
    engine.dispose()


def _upgrade_to(engine: Engine, revision: str, *, pseudonym_key: str | None = None) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        config.attributes["pseudonym_key"] = pseudonym_key
        command.upgrade(config, revision)


def _answers_before_pseudonyms(engine: Engine) -> None:
    """One answer as revision 0003 stored it: tied to a delivery, and so to a member."""
    statements = [
        "INSERT INTO member (id, slack_user_id, team, is_leader, active, opted_out, updated_at)"
        " VALUES (1, 'U0ALICE', 'Support', false, true, false, :now)",
        "INSERT INTO question (id, dimension, text, source, is_outcome, active)"
        " VALUES ('q.one', 'empowerment', 'I can fix it', 'seed.md', false, true)",
        "INSERT INTO pulse_round (id, kind, schedule_key, period, sequence, opened_at, closes_at)"
        " VALUES (1, 'scheduled', '2026-W47', '2026-W47', 1, :now, :now)",
        "INSERT INTO delivery (id, round_id, member_id, team, is_leader, status, attempts)"
        " VALUES (1, 1, 1, 'Support', true, 'sent', 1)",
        "INSERT INTO answer (id, delivery_id, question_id, score, comment, created_at, updated_at)"
        " VALUES (1, 1, 'q.one', 4, 'more time please', :now, :now)",
    ]
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement), {"now": "2026-11-17 10:00:00"})


def test_existing_answers_move_to_pseudonyms_and_lose_their_link_to_people(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    _upgrade_to(engine, "0003")
    _answers_before_pseudonyms(engine)
    upgrade_to_head(engine, pseudonym_key="a-key-of-sixteen-chars")
    with engine.connect() as connection:
        columns = {c["name"] for c in inspect(connection).get_columns("answer")}
        row = connection.execute(text("SELECT round_id, respondent, score FROM answer")).one()
        comment = connection.execute(
            text("SELECT round_id, question_id, text FROM pending_comment")
        ).one()
    engine.dispose()
    # Nothing joins the answer to a person any more: no delivery, member, team, leader flag,
    # row id or time; and its comment is stored apart, with its round and statement only.
    assert columns == {"round_id", "respondent", "question_id", "score", "click_order"}
    assert tuple(row) == (1, pseudonym(b"a-key-of-sixteen-chars", "U0ALICE"), 4)
    assert tuple(comment) == (1, "q.one", "more time please")


def test_moving_existing_answers_without_the_key_stops_and_changes_nothing(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    _upgrade_to(engine, "0003")
    _answers_before_pseudonyms(engine)
    with pytest.raises(RuntimeError, match="CX_PSEUDONYM_KEY"):
        upgrade_to_head(engine)
    with engine.connect() as connection:
        version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        kept = connection.execute(text("SELECT delivery_id, score FROM answer")).one()
    engine.dispose()
    assert version == "0003"
    assert tuple(kept) == (1, 4)


def test_existing_deliveries_become_due_when_their_round_opened(database_url: str) -> None:
    engine = make_engine(database_url)
    _upgrade_to(engine, "0007")
    statements = [
        "INSERT INTO member (id, slack_user_id, is_leader, active, opted_out, updated_at)"
        " VALUES (1, 'U0ALICE', false, true, false, '2026-11-01 08:00:00'),"
        " (2, 'U0BOB', false, true, false, '2026-11-01 08:00:00')",
        "INSERT INTO pulse_round (id, kind, schedule_key, period, sequence, opened_at, closes_at)"
        " VALUES (1, 'scheduled', '2026-W47', '2026-W47', 1, '2026-11-17 10:00:00',"
        " '2026-11-22 10:00:00'),"
        " (2, 'adhoc', NULL, '2026-W48', 2, '2026-11-25 15:30:00', '2026-11-30 15:30:00')",
        "INSERT INTO delivery (id, round_id, member_id, is_leader, status, attempts) VALUES"
        " (1, 1, 1, false, 'sent', 1), (2, 1, 2, false, 'pending', 0),"
        " (3, 2, 1, false, 'pending', 0)",
    ]
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))
    upgrade_to_head(engine)
    with Session(engine) as session:
        due = {d.id: d.due_at for d in session.exec(select(Delivery)).all()}
    with engine.connect() as connection:
        indexes = {i["name"] for i in inspect(connection).get_indexes("delivery")}
        nullable = {c["name"]: c["nullable"] for c in inspect(connection).get_columns("delivery")}
    engine.dispose()
    assert due == {
        1: datetime(2026, 11, 17, 10, 0, tzinfo=UTC),
        2: datetime(2026, 11, 17, 10, 0, tzinfo=UTC),
        3: datetime(2026, 11, 25, 15, 30, tzinfo=UTC),
    }
    assert "ix_delivery_due_at" in indexes
    assert nullable["due_at"] is False


def test_0009_publishes_fully_purged_weeks_and_strips_answers_of_what_names_people(
    database_url: str,
) -> None:
    """Before 0009: a purged week kept per-round aggregates; answers kept team, leader flag,
    row ids and times; an imported round's team and leader flag lived in its answers."""
    engine = make_engine(database_url)
    _upgrade_to(engine, "0008")
    now = "2026-11-17 10:00:00"
    statements = [
        "INSERT INTO question (id, dimension, text, source, is_outcome, active)"
        " VALUES ('q.one', 'empowerment', 'I can fix it', 'seed.md', false, true)",
        "INSERT INTO pulse_round (id, kind, schedule_key, period, sequence, opened_at, closes_at,"
        " answers_purged_at) VALUES"
        " (1, 'scheduled', '2026-W40', '2026-W40', 1, :now, :now, :now),"
        " (2, 'adhoc', NULL, '2026-W40', 2, :now, :now, :now),"
        " (3, 'imported', 'import:2026-W41', '2026-W41', 3, :now, :now, NULL)",
        "INSERT INTO answer_aggregate (round_id, question_id, group_kind, group_name,"
        " respondents, score_1, score_2, score_3, score_4, score_5) VALUES"
        " (1, 'q.one', 'org', '', 6, 0, 1, 1, 2, 2),"
        " (2, 'q.one', 'org', '', 5, 1, 0, 1, 2, 1),"
        " (1, 'q.one', 'team', 'a', 5, 0, 1, 1, 2, 1)",
        "INSERT INTO answer (id, round_id, respondent, team, is_leader, question_id, score,"
        " comment, created_at, updated_at, clicked_at) VALUES"
        " (7, 3, 'p1', 'Support', true, 'q.one', 4, NULL, :now, :now, :now),"
        " (8, 3, 'p2', NULL, false, 'q.one', 2, 'hi', :now, :now, :now)",
    ]
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement), {"now": now})
    upgrade_to_head(engine)
    with engine.connect() as connection:
        weeks = connection.execute(text("SELECT period FROM published_week")).scalars().all()
        cells = connection.execute(
            text(
                "SELECT period, group_kind, group_name, people, score_1, score_2, score_3,"
                " score_4, score_5 FROM published_cell"
            )
        ).all()
        answers = connection.execute(
            text("SELECT round_id, respondent, score FROM answer ORDER BY respondent")
        ).all()
        comments = connection.execute(text("SELECT round_id, text FROM pending_comment")).all()
        roster = connection.execute(
            text("SELECT round_id, respondent, team, is_leader FROM pending_roster")
        ).all()
        tables = set(inspect(connection).get_table_names())
    engine.dispose()
    assert weeks == ["2026-W40"]
    # The org cell sums both rounds; team a was kept in one round only, so it is left out.
    assert [tuple(c) for c in cells] == [("2026-W40", "org", "", 6, 1, 1, 2, 4, 3)]
    assert [tuple(a) for a in answers] == [(3, "p1", 4), (3, "p2", 2)]
    assert [tuple(c) for c in comments] == [(3, "hi")]  # apart from the answers (0012)
    assert sorted((r, p, t, bool(lead)) for r, p, t, lead in roster) == [
        (3, "p1", "Support", True),
        (3, "p2", None, False),
    ]
    assert "answer_aggregate" not in tables


def test_0010_keeps_answers_in_key_order_without_rowid_and_accepts_doesnt_apply(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    _upgrade_to(engine, "0009")
    now = "2026-11-17 10:00:00"
    statements = [
        "INSERT INTO question (id, dimension, text, source, is_outcome, active)"
        " VALUES ('q.one', 'empowerment', 'I can fix it', 'seed.md', false, true)",
        "INSERT INTO pulse_round (id, kind, schedule_key, period, sequence, opened_at, closes_at)"
        " VALUES (1, 'scheduled', '2026-W40', '2026-W40', 1, :now, :now)",
        "INSERT INTO answer (round_id, respondent, question_id, score, comment, click_order)"
        " VALUES (1, 'pz', 'q.one', 4, NULL, 9), (1, 'pa', 'q.one', 2, 'hi', 3)",
    ]
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement), {"now": now})
    upgrade_to_head(engine)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO answer (round_id, respondent, question_id, score, click_order)"
                " VALUES (1, 'pm', 'q.one', 0, 5)"
            )
        )
        rows = connection.execute(text("SELECT respondent, score, click_order FROM answer")).all()
    with engine.connect() as connection, pytest.raises(Exception, match=r"ck_answer|check|CHECK"):
        connection.execute(
            text(
                "INSERT INTO answer (round_id, respondent, question_id, score, click_order)"
                " VALUES (1, 'px', 'q.one', 6, 1)"
            )
        )
    if engine.dialect.name == "sqlite":
        assert [r[0] for r in rows] == ["pa", "pm", "pz"]  # stored in key order
        with engine.connect() as connection, pytest.raises(Exception, match="rowid"):
            connection.execute(text("SELECT rowid FROM answer"))
    assert sorted(tuple(r) for r in rows) == [("pa", 2, 3), ("pm", 0, 5), ("pz", 4, 9)]
    engine.dispose()


def test_the_head_revision_constant_is_alembics_head() -> None:
    """Start-up trusts HEAD_REVISION to skip Alembic on a database already at head."""
    from bot.db.migrate import HEAD_REVISION, head_revision

    assert head_revision() == HEAD_REVISION


def test_a_database_at_head_is_checked_without_importing_alembic(tmp_path: Path) -> None:
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'cx.db'}"
    upgrade_to_head(make_engine(url))
    probe = (
        "import sys\n"
        "from bot.db.engine import make_engine\n"
        "from bot.db.migrate import upgrade_once\n"
        f"assert upgrade_once(make_engine({url!r})) is False\n"
        "assert 'alembic' not in sys.modules, 'alembic was imported'\n"
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter and probe
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
