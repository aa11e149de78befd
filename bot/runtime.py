"""Assembling the real dependencies from settings: engine (migrated), prompts, clock, client."""

from __future__ import annotations

from sqlalchemy import Engine

from bot.analytics.rotation import check_rotation
from bot.clock import Clock, SystemClock
from bot.db import repositories as repo
from bot.db.engine import make_engine, session_scope
from bot.db.models import Question
from bot.metrics import Metrics
from bot.prompts import Prompts, language_of, load_prompts
from bot.pseudonym import MissingPseudonymKey
from bot.services.context import Deps
from bot.settings import Settings


def sync_question_bank(engine: Engine, prompts: Prompts) -> None:
    """Mirror the bank into the question table: the statements asked now are active; retired
    ones (reworded in a later version) stay, inactive, so their answers keep their ids and
    count in their dimension. A fresh database gets the retired rows too, so an old export
    with their ids can still be imported."""
    bank = prompts.bank
    questions = [
        Question(
            id=q.id,
            dimension=d.id,
            text=q.text,
            source=q.source,
            is_outcome=d.id == bank.outcome_dimension,
        )
        for d in bank.dimensions
        for q in d.questions
    ]
    for retired in bank.retired:
        dimension = retired.id.split(".", 1)[0]
        questions.append(
            Question(
                id=retired.id,
                dimension=dimension,
                text=retired.text,
                source=retired.source,
                is_outcome=dimension == bank.outcome_dimension,
                active=False,
            )
        )
    with session_scope(engine) as session:
        repo.sync_questions(session=session, questions=questions)


def build_deps(
    settings: Settings,
    *,
    clock: Clock | None = None,
    engine: Engine | None = None,
    migrate: bool = True,
    metrics: Metrics | None = None,
) -> Deps:
    """Migrate the database, load and check prompts/, mirror the question bank.

    `migrate=False` is for a helper process of one that already did both (the DM refresh
    child): it writes nothing, and it never imports Alembic, which is 11 MB of its memory.
    `metrics` is the process's own (bot.metrics), shared by every Deps it builds.
    """
    if settings.pseudonym_key is None:
        raise MissingPseudonymKey()
    prompts = load_prompts(settings.prompts_dir)
    organisation = organisation_prompts(prompts, settings.locale)
    check_rotation(len(prompts.bank.rotating_dimensions), settings.questions_per_round)
    # Every sending worker may hold a connection while Bolt's listener threads need theirs too.
    engine = engine or make_engine(
        settings.database_url, pool_size=settings.send_workers + 5, max_overflow=20
    )
    if migrate:
        from bot.db.migrate import upgrade_once

        # Once per process and database, however many scheduled jobs start at the same moment.
        upgrade_once(
            engine,
            pseudonym_key=settings.pseudonym_key.get_secret_value(),
            # In English, whatever the organisation's language.
            then=lambda: sync_question_bank(engine, prompts),
        )
        from bot.services.pseudonym_keys import ensure_key

        # A process given another key than the stored answers' (the old one, after a
        # rotation) stops here, before it files anyone's answers under a second pseudonym.
        ensure_key(engine, settings.pseudonym_key.get_secret_value(), now=SystemClock().now())
    return Deps(
        env=settings,
        engine=engine,
        clock=clock or SystemClock(),
        prompts=organisation,
        metrics=metrics or Metrics(),
    )


def organisation_prompts(prompts: Prompts, locale: str) -> Prompts:
    """The prompts in CX_LOCALE's language, refusing a language prompts/ does not have."""
    chosen = prompts.for_locale(locale)
    if chosen.language != language_of(locale):
        raise ValueError(
            f"CX_LOCALE={locale}: prompts/ has no translation for it "
            f"(languages: {', '.join(prompts.languages)})"
        )
    return chosen
