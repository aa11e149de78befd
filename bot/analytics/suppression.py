"""Why a team's cell is not shown, in words a reader can check: too few people answered, or
the gate hid it so that a smaller group cannot be worked out by subtraction. Pure: the
published week's people counts (its atoms, never scores) in, a reason out."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from bot.analytics.anonymity import may_show
from bot.analytics.cells import Atom


class HiddenReason(StrEnum):
    TOO_FEW = "too_few"  # fewer than the minimum in the team answered the dimension
    PROTECTS_SMALLER = "protects_smaller"  # enough answered; hidden so a smaller group can't be


def team_people(atoms: Iterable[Atom], team: str) -> int:
    """How many people of `team` answered, leaders and the rest together."""
    return sum(atom.people for atom in atoms if atom.team == team)


def hidden_reason(atoms: Iterable[Atom], team: str, minimum: int) -> HiddenReason:
    """Why `team`'s cell on a dimension, hidden in a week whose atoms on it are `atoms`, is
    hidden under `minimum` (the minimum it is shown under now)."""
    if may_show(team_people(atoms, team), minimum):
        return HiddenReason.PROTECTS_SMALLER
    return HiddenReason.TOO_FEW


def teams_answering(atoms_by_dimension: Iterable[Iterable[Atom]]) -> set[str]:
    """Every team with anyone answering, on any dimension: the teams a week knows of."""
    return {a.team for atoms in atoms_by_dimension for a in atoms if a.team is not None}
