"""The process the directory benchmark measures: one refresh (or the bare paging), then its
time and peak resident memory as one JSON line."""

from __future__ import annotations

import json
import os
import sys
import time

from benchmarks.procstat import peak_rss_mb


def _bare() -> int:
    from bot.settings import Settings
    from bot.slack.gateway import make_web_client

    client = make_web_client(Settings())
    count = 0
    cursor = None
    while True:
        page = client.users_list(limit=200, cursor=cursor)
        count += len(page["members"])
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return count


def _refresh() -> int:
    from bot.db import repositories as repo
    from bot.db.engine import session_scope
    from bot.runtime import build_deps
    from bot.services.directory import refresh_directory
    from bot.settings import Settings
    from bot.slack.gateway import make_gateway

    settings = Settings()
    deps = build_deps(settings)
    gateway = make_gateway(settings)
    with session_scope(deps.engine) as session:
        # As a round does it (bot.services.rounds): forgotten people by their tombstones.
        tombstones = repo.forgotten_pseudonyms(session=session)
        return refresh_directory(
            session=session,
            gateway=gateway,
            leadership_channel=settings.leadership_channel,
            now=deps.clock.now(),
            forgotten=lambda user_id: deps.respondent(user_id) in tombstones,
        )


def main() -> None:
    mode = sys.argv[1]
    started = time.perf_counter()
    people = _bare() if mode == "bare" else _refresh()
    seconds = time.perf_counter() - started
    line = {"seconds": seconds, "peak_rss_mb": peak_rss_mb(os.getpid()), "people": people}
    sys.stdout.write(json.dumps(line) + "\n")


if __name__ == "__main__":
    main()
