"""One process's first `/cx score` reply after start-up, as the history benchmark runs it:
settings, dependencies (the migration check included), the report and its Block Kit reply."""

from __future__ import annotations

from bot.render.replies import score_message
from bot.runtime import build_deps
from bot.services.digest import latest_report
from bot.settings import Settings


def main() -> None:
    deps = build_deps(Settings())
    try:
        message = score_message(latest_report(deps), deps.prompts, None)
        assert message.blocks
    finally:
        deps.engine.dispose()


if __name__ == "__main__":
    main()
