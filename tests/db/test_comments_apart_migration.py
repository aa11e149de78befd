"""Migration 0012: comments move apart from answers, published comments lose the keyed tag
that named their author, and the reply relay's tables appear, empty; and back down again."""

from __future__ import annotations

import re

import pytest
from alembic import command
from sqlalchemy import Engine, inspect, text

from bot.db.engine import make_engine
from bot.db.migrate import alembic_config

NOW = "2026-11-17 10:00:00"


def _migrate(engine: Engine, revision: str, *, down: bool = False) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        config.attributes["pseudonym_key"] = None
        (command.downgrade if down else command.upgrade)(config, revision)


def _history(engine: Engine) -> None:
    """A published week (W40) whose comment was copied with its author tag, and an open one
    (W48) whose comment still sits on its answer, as revision 0011 stored them."""
    statements = [
        "INSERT INTO question (id, dimension, text, source, is_outcome, active)"
        " VALUES ('q.one', 'empowerment', 'I can fix it', 'seed.md', false, true)",
        "INSERT INTO pulse_round (id, kind, schedule_key, period, sequence, opened_at, closes_at)"
        " VALUES (1, 'scheduled', '2026-W40', '2026-W40', 1, :now, :now),"
        " (2, 'scheduled', '2026-W48', '2026-W48', 2, :now, :now)",
        "INSERT INTO published_week (period, published_at, min_group_size, hidden_teams,"
        " comments_total, drivers, atoms) VALUES ('2026-W40', :now, 5, 0, 1, '[]', '{}')",
        "INSERT INTO published_comment (id, period, position, text, author_tag, dimension)"
        " VALUES (7, '2026-W40', 42, 'published words', 'a-keyed-tag-of-its-author', NULL)",
        "INSERT INTO answer (round_id, respondent, question_id, score, comment, click_order)"
        " VALUES (1, 'pa', 'q.one', 4, 'published words', 3),"
        " (2, 'pb', 'q.one', 2, 'open words', 9), (2, 'pc', 'q.one', 5, NULL, 1)",
    ]
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement), {"now": NOW})


def test_0012_stores_comments_apart_and_drops_the_author_tag(database_url: str) -> None:
    engine = make_engine(database_url)
    _migrate(engine, "0011")
    _history(engine)
    _migrate(engine, "0012")
    with engine.connect() as connection:
        answer_columns = {c["name"] for c in inspect(connection).get_columns("answer")}
        published_columns = {
            c["name"] for c in inspect(connection).get_columns("published_comment")
        }
        pending = connection.execute(
            text("SELECT id, round_id, question_id, text FROM pending_comment")
        ).all()
        published = connection.execute(
            text("SELECT id, period, position, text FROM published_comment")
        ).all()
        answers = connection.execute(
            text("SELECT respondent, score FROM answer ORDER BY respondent")
        ).all()
        relay_rows = [
            connection.execute(text(f"SELECT count(*) FROM {table}")).scalar()  # noqa: S608
            for table in ("reply_link", "reply_thread", "relay_message", "reply_audit")
        ]
    # No answer holds a comment; the open week's comment waits apart, under a random id,
    # with its round and statement only; the published week's is not copied a second time.
    assert "comment" not in answer_columns
    assert [tuple(a) for a in answers] == [("pa", 4), ("pb", 2), ("pc", 5)]
    ((pending_id, round_id, question, words),) = pending
    assert (round_id, question, words) == (2, "q.one", "open words")
    assert re.fullmatch(r"[0-9a-f]{32}", pending_id)
    # The published comment keeps its week, place and words, and nothing keyed to its author.
    assert "author_tag" not in published_columns
    ((published_id, period, position, words),) = published
    assert (period, position, words) == ("2026-W40", 42, "published words")
    assert re.fullmatch(r"[0-9a-f]{32}", published_id)
    assert relay_rows == [0, 0, 0, 0]
    if engine.dialect.name == "sqlite":
        for table in ("answer", "pending_comment", "reply_link", "relay_message"):
            with engine.connect() as connection, pytest.raises(Exception, match="rowid"):
                connection.execute(text(f"SELECT rowid FROM {table}"))  # noqa: S608

    _migrate(engine, "0011", down=True)
    with engine.connect() as connection:
        tables = set(inspect(connection).get_table_names())
        back = connection.execute(
            text("SELECT id, period, position, text, author_tag FROM published_comment")
        ).one()
        comments = connection.execute(text("SELECT comment FROM answer")).scalars().all()
    engine.dispose()
    assert not {"pending_comment", "reply_link", "reply_thread", "relay_message"} & tables
    assert isinstance(back[0], int)
    assert back[1:4] == ("2026-W40", 42, "published words")
    assert back[4] != "a-keyed-tag-of-its-author"  # a random tag: it links to nobody
    # Nothing ties a comment to an answer any more, so none goes back on one.
    assert comments == [None, None, None]
