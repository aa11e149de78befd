"""Start-up stays cheap: `cxpulse digest --json` loads no library it does not use."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot.db.engine import make_engine
from bot.db.migrate import upgrade_to_head

HEAVY = ("alembic", "matplotlib", "numpy", "slack_bolt")


def test_digest_json_on_a_migrated_database_imports_nothing_heavy(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cx.db'}"
    upgrade_to_head(make_engine(url))
    probe = (
        "import os, sys\n"
        f"os.environ.update(DATABASE_URL={url!r}, CX_PSEUDONYM_KEY='0123456789abcdef-test')\n"
        "sys.argv = ['cxpulse', 'digest', '--json']\n"
        "from bot.cli import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        f"loaded = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter and probe
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "No week has been published yet" in done.stdout + done.stderr


def test_a_rejected_setting_is_named_but_its_value_never_printed(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cx.db'}",
        "CX_PSEUDONYM_KEY": "tiny-secret",  # too short: refused
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot", "digest", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    output = done.stdout + done.stderr
    assert "CX_PSEUDONYM_KEY" in output
    assert "tiny-secret" not in output
