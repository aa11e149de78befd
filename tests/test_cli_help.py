"""Every `cxpulse` command and sub-command answers `--help`, with a one-line summary."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import typer
from typer.core import TyperGroup
from typer.main import get_command
from typer.testing import CliRunner

from bot.cli import app


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every command under `command` (typer's own click-style objects), depth first."""
    yield path, command
    if isinstance(command, TyperGroup):
        context = typer.Context(command)
        for name in command.list_commands(context):
            sub = command.get_command(context, name)
            assert sub is not None
            yield from _commands(sub, (*path, name))


def test_every_command_has_a_one_line_help_and_answers_help() -> None:
    root = get_command(app)
    found = list(_commands(root))
    names = {" ".join(path) for path, _ in found}
    # The walk reaches the nested group and the commands README.md lists.
    assert {"pulse send", "digest", "import", "export", "demo", "migrate"} <= names
    runner = CliRunner()
    for path, command in found:
        summary = (command.help or "").strip().split("\n\n")[0]
        assert summary, f"`cxpulse {' '.join(path)}` has no help"
        assert "\n" not in summary, f"`cxpulse {' '.join(path)}`: summary is not one line"
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert summary.split()[0] in result.output
        assert "Usage:" in result.output
