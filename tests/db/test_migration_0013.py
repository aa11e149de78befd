"""Migration 0013 on a database that already has published weeks: their comments stay
untagged (their digests never change), their alert count is 0, and it goes down and up again."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, text

from bot.db.engine import make_engine
from bot.db.migrate import alembic_config, upgrade_to_head
from tests.db.test_migrations import _upgrade_to


def test_0013_leaves_published_weeks_as_they_were_and_goes_down_and_up(database_url: str) -> None:
    engine = make_engine(database_url)
    _upgrade_to(engine, "0012")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO published_week (period, published_at, min_group_size, hidden_teams,"
                " comments_total, drivers, atoms) VALUES ('2026-W40', :now, 5, 0, 1, '[]', '{}')"
            ),
            {"now": "2026-10-05 10:00:00"},
        )
        connection.execute(
            text(
                "INSERT INTO published_comment (id, period, position, text, dimension)"
                " VALUES ('c0ffee', '2026-W40', 7, 'We need more people', NULL)"
            )
        )
    upgrade_to_head(engine)
    with engine.connect() as connection:
        week = connection.execute(text("SELECT comments_alerted FROM published_week")).one()
        comment = connection.execute(text("SELECT themes, text FROM published_comment")).one()
        assert "comment_alert" in inspect(connection).get_table_names()
    assert tuple(week) == (0,)
    assert tuple(comment) == (None, "We need more people")

    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0012")
    with engine.connect() as connection:
        inspector = inspect(connection)
        assert "comment_alert" not in inspector.get_table_names()
        assert "themes" not in {c["name"] for c in inspector.get_columns("published_comment")}
        assert "comments_alerted" not in {
            c["name"] for c in inspector.get_columns("published_week")
        }
    upgrade_to_head(engine)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM published_comment")).scalar() == 1
    engine.dispose()
