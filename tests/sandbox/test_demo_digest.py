"""The demo organisation's digest, as `cxpulse digest --blocks` prints it: valid Block Kit
within Slack's limits that leads with the planted findings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

# One demo run serves every demo test: under xdist they share a worker.
pytestmark = pytest.mark.xdist_group("demo")

SECTION_LIMIT = 3000
MAX_BLOCKS = 50


@pytest.fixture
def demo_database(demo_run: tuple[str, Path]) -> Path:
    return demo_run[1]


@pytest.mark.demo
def test_the_demo_removes_only_what_it_wrote(demo_database: Path) -> None:
    assert (demo_database.parent / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert (demo_database.parent / "latest-heatmap.png").read_bytes().startswith(b"\x89PNG")


def _cxpulse(database: Path, *args: str) -> subprocess.CompletedProcess[str]:
    from bot.sandbox.demo import DEMO_PSEUDONYM_KEY

    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "CX_PSEUDONYM_KEY": DEMO_PSEUDONYM_KEY,
        "CX_TIMEZONE": "Europe/London",
        "DATABASE_URL": f"sqlite:///{database}",
    }
    return subprocess.run(  # noqa: S603 - our own CLI, fixed arguments
        [sys.executable, "-m", "bot", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _texts(blocks: list[dict[str, Any]]) -> str:
    parts = []
    for block in blocks:
        text = block.get("text")
        if isinstance(text, dict):
            parts.append(text["text"])
        for element in block.get("elements") or []:
            if isinstance(element, dict) and isinstance(element.get("text"), str):
                parts.append(element["text"])
    return "\n".join(parts)


@pytest.mark.demo
def test_blocks_is_valid_block_kit_that_names_the_planted_findings(demo_database: Path) -> None:
    done = _cxpulse(demo_database, "digest", "--blocks")
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert set(payload) == {"text", "blocks"}
    blocks = payload["blocks"]
    assert len(blocks) <= MAX_BLOCKS
    for raw in blocks:
        parsed = Block.parse(raw)
        assert parsed is not None
        assert parsed.to_dict() == raw  # slack_sdk's models validate it and round-trip it
        if raw["type"] == "section":
            assert len(raw["text"]["text"]) <= SECTION_LIMIT
    # The notification names the planted findings, biggest first, not the response rate.
    text = payload["text"]
    assert "support: Empowerment fell to" in text
    assert "silo on Cross-team collaboration" in text
    assert "say-do gap on Leadership walks the talk" in text
    assert "Response rate" not in text
    # And so does the first section, in % favourable, each with "beyond normal swings".
    first = blocks[1]["text"]["text"]
    assert first.startswith("*What changed*")
    assert "*support: Empowerment* fell to" in first
    assert "*Silo on Cross-team collaboration*" in first
    assert "sales at" in first
    assert first.count("beyond normal swings") == len(first.splitlines()) - 1
    everything = _texts(blocks)
    assert "of 5 " not in everything.replace("of 5 comments", "")  # no mean scores anywhere
    assert "I'll take this on" in json.dumps(blocks)


@pytest.mark.demo
def test_blocks_is_what_post_sends(demo_database: Path) -> None:
    from bot.render.digest import digest_message
    from bot.runtime import build_deps
    from bot.sandbox.demo import DEMO_PSEUDONYM_KEY
    from bot.services.digest import build_digest
    from bot.settings import Settings

    printed = json.loads(_cxpulse(demo_database, "digest", "--blocks").stdout)
    settings = Settings.model_validate(
        {
            "DATABASE_URL": f"sqlite:///{demo_database}",
            "CX_PSEUDONYM_KEY": DEMO_PSEUDONYM_KEY,
            "CX_TIMEZONE": "Europe/London",
        }
    )
    deps = build_deps(settings)
    try:
        message = digest_message(build_digest(deps), deps.prompts, zone_name=settings.timezone)
    finally:
        deps.engine.dispose()
    assert printed == {"text": message.text, "blocks": [b.to_dict() for b in message.blocks]}
