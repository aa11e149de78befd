"""Loads everything people read: the question bank, nudges and message copy from prompts/."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

DEFAULT_PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScalePoint(_Strict):
    score: int = Field(ge=1, le=5)
    label: str = Field(min_length=1, max_length=40)


class QuestionSpec(_Strict):
    id: str = Field(pattern=r"^[a-z_]+\.[a-z0-9_]+$", max_length=80)
    text: str = Field(min_length=10, max_length=200)
    source: str = Field(min_length=1, max_length=120)


class DimensionSpec(_Strict):
    id: str = Field(pattern=r"^[a-z_]+$", max_length=40)
    name: str = Field(min_length=1, max_length=30)
    short: str = Field(min_length=1, max_length=5)  # column heading in the team heatmap
    why: str = Field(min_length=1, max_length=240)
    source: str
    questions: tuple[QuestionSpec, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _ids_prefixed(self) -> DimensionSpec:
        for question in self.questions:
            if not question.id.startswith(f"{self.id}."):
                raise ValueError(f"question {question.id} must start with '{self.id}.'")
        return self


class QuestionBank(_Strict):
    """The statements people answer, grouped by dimension; order drives the rotation."""

    version: int
    scale: tuple[ScalePoint, ...]
    outcome_question: str
    dimensions: tuple[DimensionSpec, ...] = Field(min_length=2)

    @model_validator(mode="after")
    def _consistent(self) -> QuestionBank:
        if [p.score for p in self.scale] != [1, 2, 3, 4, 5]:
            raise ValueError("the scale must list scores 1 to 5 in order")
        ids = [q.id for d in self.dimensions for q in d.questions]
        if len(ids) != len(set(ids)):
            raise ValueError("question ids must be unique")
        if len({d.id for d in self.dimensions}) != len(self.dimensions):
            raise ValueError("dimension ids must be unique")
        if self.outcome_question not in ids:
            raise ValueError(f"outcome_question {self.outcome_question} is not in the bank")
        outcome_dim = self.outcome_question.split(".", 1)[0]
        if len(self.dimension(outcome_dim).questions) != 1:
            raise ValueError("the outcome dimension holds exactly the outcome question")
        return self

    def dimension(self, dimension_id: str) -> DimensionSpec:
        for dimension in self.dimensions:
            if dimension.id == dimension_id:
                return dimension
        raise KeyError(dimension_id)

    @property
    def outcome_dimension(self) -> str:
        return self.outcome_question.split(".", 1)[0]

    @property
    def rotating_dimensions(self) -> tuple[DimensionSpec, ...]:
        return tuple(d for d in self.dimensions if d.id != self.outcome_dimension)

    @cached_property
    def questions_by_id(self) -> dict[str, tuple[DimensionSpec, QuestionSpec]]:
        return {q.id: (d, q) for d in self.dimensions for q in d.questions}

    def label(self, score: int) -> str:
        return self.scale[score - 1].label


class NudgeSpec(_Strict):
    id: str = Field(pattern=r"^[a-z_]+\.[a-z0-9_]+$")
    text: str = Field(min_length=10, max_length=240)
    source: str


class NudgeLibrary(_Strict):
    version: int
    nudges: dict[str, tuple[NudgeSpec, ...]]

    def for_dimension(self, dimension_id: str) -> tuple[NudgeSpec, ...]:
        return self.nudges.get(dimension_id, ())


class Copy:
    """Message templates keyed by dotted name; `.t()` fills `{placeholders}`."""

    def __init__(self, templates: Mapping[str, str]) -> None:
        self._templates = dict(templates)

    def t(self, key: str, **values: Any) -> str:
        try:
            template = self._templates[key]
        except KeyError:
            raise KeyError(f"no copy for {key!r} in prompts/messages.yaml") from None
        return template.format(**values) if values else template

    def keys(self) -> set[str]:
        return set(self._templates)


def _flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = str(value).rstrip("\n")
    return flat


class Prompts:
    """Question bank, nudge library and copy, loaded together and checked against each other."""

    def __init__(self, bank: QuestionBank, nudges: NudgeLibrary, copy: Copy) -> None:
        missing = [d.id for d in bank.dimensions if not nudges.for_dimension(d.id)]
        if missing:
            raise ValueError(f"nudges.yaml has no nudge for: {', '.join(missing)}")
        self.bank = bank
        self.nudges = nudges
        self.copy = copy


def _read_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def load_prompts(directory: Path | str | None = None) -> Prompts:
    """Read and validate prompts/ (or another directory with the same three files)."""
    root = Path(directory) if directory else DEFAULT_PROMPTS_DIR
    bank = QuestionBank.model_validate(_read_yaml(root / "questions.yaml"))
    nudges = NudgeLibrary.model_validate(_read_yaml(root / "nudges.yaml"))
    copy = Copy(_flatten(_read_yaml(root / "messages.yaml")))
    return Prompts(bank, nudges, copy)
