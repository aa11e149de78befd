"""Loads everything people read: the question bank, nudges and message copy from prompts/.

English lives in prompts/*.yaml and holds the structure (ids, sources, rotation order). Each
other language is a directory named by its language code (prompts/fr/) with the same three
file names, holding only the translatable text keyed by the English ids; it must translate
every English entry, nothing else, with the same {placeholders}, within the same limits.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from string import Formatter
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

# prompts/ at the top of the repository, where people edit it. bot/_data/prompts links to it
# so that the wheel, and so a container image, carries the same files inside the package.
DEFAULT_PROMPTS_DIR = (Path(__file__).parent / "_data" / "prompts").resolve()
DEFAULT_LANGUAGE = "en"
PROMPT_FILES = ("questions.yaml", "nudges.yaml", "messages.yaml")
_LANGUAGE_DIR = re.compile(r"^[a-z]{2}$")

# Slack's limits on the plain-text fields these copy keys fill (Block Kit reference: view
# title/submit/close 24, button text 75, confirm dialog title 100 / text 300 / buttons 30,
# input placeholder 150, input label 2000). Checked for every language at load time.
SLACK_TEXT_LIMITS: dict[str, int] = {
    "comment_modal.title": 24,
    "comment_modal.submit": 24,
    "comment_modal.close": 24,
    "comment_modal.text_placeholder": 150,
    "comment_modal.question_label": 2000,
    "comment_modal.text_label": 2000,
    "pulse.comment_button": 75,
    "commands.forget_me_confirm_button": 75,
    "commands.forget_me_cancel_button": 75,
    "scheduling.confirm_button": 75,
    "scheduling.cancel_button": 75,
    "commands.forget_me_dialog_title": 100,
    "commands.forget_me_dialog_text": 300,
    "commands.forget_me_dialog_confirm": 30,
    "commands.forget_me_dialog_deny": 30,
    "kudos.modal_title": 24,
    "kudos.modal_submit": 24,
    "kudos.modal_close": 24,
    "kudos.story_placeholder": 150,
    # Confidential replies (bot/render/reply_*.py, the comment modal's opt-in).
    "comment_modal.replies_label": 2000,
    "comment_modal.replies_option": 75,
    "comment_modal.replies_hint": 2000,
    "replies.reply_button": 75,
    "replies.answer_button": 75,
    "replies.close_button": 75,
    "replies.close_dialog_title": 100,
    "replies.close_dialog_text": 300,
    "replies.close_dialog_confirm": 30,
    "replies.close_dialog_deny": 30,
    "replies.send": 24,
    "replies.cancel": 24,
    "replies.done": 24,
    "replies.notice_title": 24,
    "replies.leader_modal_title": 24,
    "replies.author_modal_title": 24,
    "replies.leader_modal_label": 2000,
    "replies.author_modal_label": 2000,
    "replies.leader_modal_placeholder": 150,
    "replies.author_modal_placeholder": 150,
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


_Model = TypeVar("_Model", bound=_Strict)


class ScalePoint(_Strict):
    score: int = Field(ge=1, le=5)
    label: str = Field(min_length=1, max_length=40)


class NotApplicablePoint(_Strict):
    """The "doesn't apply to me" choice: stored as score 0 (`bot.db.models.NOT_APPLICABLE`),
    so the person counts as having answered, but the answer is part of no figure's n."""

    score: Literal[0]
    label: str = Field(min_length=1, max_length=40)


class SourceSpec(_Strict):
    """A seed article (../shared/seeds/<file>) as people know it: its real title.

    `title_in_file` is False for a seed whose file starts with the body rather than the title;
    its title is then the original post's, at `url`.
    """

    title: str = Field(min_length=1, max_length=120)
    title_in_file: bool = True
    url: str | None = Field(default=None, pattern=r"^https://")

    @model_validator(mode="after")
    def _title_found_somewhere(self) -> SourceSpec:
        if not self.title_in_file and self.url is None:
            raise ValueError("a title that is not in its seed file needs the url it comes from")
        return self


class QuestionSpec(_Strict):
    id: str = Field(pattern=r"^[a-z_]+\.[a-z0-9_]+$", max_length=80)
    text: str = Field(min_length=10, max_length=200)
    source: str = Field(min_length=1, max_length=120)


class RetiredQuestionSpec(QuestionSpec):
    """A statement no longer asked (reworded or removed). Its answers keep its id and count in
    the dimension its id starts with; `replaced_by` names the statements asked instead."""

    replaced_by: tuple[str, ...] = ()


# Slack shows a dimension's `why` in App Home (a context block's text, 3,000 characters with
# the name) and under `/cx score <dimension>` (a section, 3,000): far more than this.
WHY_MAX_CHARS = 400


class DimensionSpec(_Strict):
    id: str = Field(pattern=r"^[a-z_]+$", max_length=40)
    name: str = Field(min_length=1, max_length=30)
    short: str = Field(min_length=1, max_length=5)  # column heading in the team heatmap
    # Names the seed's real title and quotes the line it draws on (checked against `sources`).
    why: str = Field(min_length=1, max_length=WHY_MAX_CHARS)
    source: str
    questions: tuple[QuestionSpec, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _ids_prefixed(self) -> DimensionSpec:
        for question in self.questions:
            if not question.id.startswith(f"{self.id}."):
                raise ValueError(f"question {question.id} must start with '{self.id}.'")
        return self


class QuestionBank(_Strict):
    """The statements people answer, grouped by dimension; order drives the rotation.

    The outcome dimension holds the outcome items (at least two: customer-first behaviour and
    customer outcomes), all asked every round; the other dimensions rotate. `retired` lists the
    statements of earlier versions that are no longer asked, so old answers keep their ids.
    """

    version: int
    scale: tuple[ScalePoint, ...]
    not_applicable: NotApplicablePoint
    outcome_dimension: str
    sources: dict[str, SourceSpec] = Field(min_length=1)
    dimensions: tuple[DimensionSpec, ...] = Field(min_length=2)
    retired: tuple[RetiredQuestionSpec, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _not_version_1(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "outcome_question" in data:
            raise ValueError(
                "this is a version 1 bank (one `outcome_question`); version 2 names the "
                "`outcome_dimension`, whose two or more items are all asked every round, and "
                "adds `not_applicable`, `sources` and `retired` (see cx-pulse's prompts/)"
            )
        return data

    @model_validator(mode="after")
    def _consistent(self) -> QuestionBank:
        if [p.score for p in self.scale] != [1, 2, 3, 4, 5]:
            raise ValueError("the scale must list scores 1 to 5 in order")
        ids = [q.id for d in self.dimensions for q in d.questions]
        if len(ids) != len(set(ids)):
            raise ValueError("question ids must be unique")
        if len({d.id for d in self.dimensions}) != len(self.dimensions):
            raise ValueError("dimension ids must be unique")
        try:
            outcome = self.dimension(self.outcome_dimension)
        except KeyError:
            raise ValueError(
                f"outcome_dimension {self.outcome_dimension} is not in the bank"
            ) from None
        if len(outcome.questions) < 2:
            raise ValueError(
                "the outcome dimension needs at least two outcome items "
                "(customer-first behaviour and customer outcomes)"
            )
        self._check_sources()
        self._check_retired(set(ids))
        return self

    def _check_sources(self) -> None:
        for dimension in self.dimensions:
            cited = [dimension.source, *(q.source for q in dimension.questions)]
            unknown = sorted(set(cited) - set(self.sources))
            if unknown:
                raise ValueError(
                    f"{dimension.id}: no title under `sources` for {', '.join(unknown)}"
                )
            title = self.sources[dimension.source].title
            if title not in dimension.why:
                raise ValueError(
                    f"{dimension.id}: `why` must name its source by its title, {title!r}"
                )
        unknown = sorted({q.source for q in self.retired} - set(self.sources))
        if unknown:
            raise ValueError(f"retired: no title under `sources` for {', '.join(unknown)}")

    def _check_retired(self, active: set[str]) -> None:
        dimension_ids = {d.id for d in self.dimensions}
        retired = [q.id for q in self.retired]
        if len(retired) != len(set(retired)):
            raise ValueError("retired question ids must be unique")
        for question in self.retired:
            if question.id in active:
                raise ValueError(f"{question.id} is both asked and retired")
            if question.id.split(".", 1)[0] not in dimension_ids:
                raise ValueError(f"retired {question.id} belongs to no dimension of the bank")
            stray = [q for q in question.replaced_by if q not in active]
            if stray:
                raise ValueError(f"retired {question.id} is replaced by unknown {', '.join(stray)}")

    def dimension(self, dimension_id: str) -> DimensionSpec:
        for dimension in self.dimensions:
            if dimension.id == dimension_id:
                return dimension
        raise KeyError(dimension_id)

    @property
    def outcome_questions(self) -> tuple[str, ...]:
        """The outcome items, in bank order: every round ends on all of them."""
        return tuple(q.id for q in self.dimension(self.outcome_dimension).questions)

    @property
    def rotating_dimensions(self) -> tuple[DimensionSpec, ...]:
        return tuple(d for d in self.dimensions if d.id != self.outcome_dimension)

    @cached_property
    def questions_by_id(self) -> dict[str, tuple[DimensionSpec, QuestionSpec]]:
        """The statements asked now (retired ones are in `retired_by_id`)."""
        return {q.id: (d, q) for d in self.dimensions for q in d.questions}

    @cached_property
    def retired_by_id(self) -> dict[str, RetiredQuestionSpec]:
        return {q.id: q for q in self.retired}

    @property
    def known_question_ids(self) -> set[str]:
        """Every statement id answers may carry: those asked now and the retired ones."""
        return set(self.questions_by_id) | set(self.retired_by_id)

    @property
    def choices(self) -> tuple[ScalePoint | NotApplicablePoint, ...]:
        """The buttons under a statement, in order: the scale, then "doesn't apply to me"."""
        return (*self.scale, self.not_applicable)

    def label(self, score: int) -> str:
        """The words for a stored score: a scale point, or "doesn't apply to me" for 0."""
        if score == self.not_applicable.score:
            return self.not_applicable.label
        if not 1 <= score <= len(self.scale):
            raise ValueError(f"no label for score {score}")
        return self.scale[score - 1].label


class NudgeSpec(_Strict):
    id: str = Field(pattern=r"^[a-z_]+\.[a-z0-9_]+$")
    text: str = Field(min_length=10, max_length=240)
    source: str


class NudgeLibrary(_Strict):
    version: int
    nudges: dict[str, tuple[NudgeSpec, ...]]
    # Actions a team lead can take with their own team this week (the team nudge), by dimension.
    team: dict[str, tuple[NudgeSpec, ...]] = Field(default_factory=dict)

    def for_dimension(self, dimension_id: str) -> tuple[NudgeSpec, ...]:
        return self.nudges.get(dimension_id, ())

    def for_team(self, dimension_id: str) -> tuple[NudgeSpec, ...]:
        """The team-level actions for a dimension; a library without any for it (an older
        CX_PROMPTS_DIR) falls back to the dimension's general nudges."""
        return self.team.get(dimension_id) or self.for_dimension(dimension_id)

    @cached_property
    def by_id(self) -> dict[str, NudgeSpec]:
        groups = [*self.nudges.values(), *self.team.values()]
        return {n.id: n for items in groups for n in items}


class Copy:
    """Message templates keyed by dotted name; `.t()` fills `{placeholders}`."""

    def __init__(self, templates: Mapping[str, str], language: str = DEFAULT_LANGUAGE) -> None:
        self._templates = dict(templates)
        self._file = (
            "prompts/messages.yaml"
            if language == DEFAULT_LANGUAGE
            else f"prompts/{language}/messages.yaml"
        )

    def t(self, key: str, **values: Any) -> str:
        try:
            template = self._templates[key]
        except KeyError:
            raise KeyError(f"no copy for {key!r} in {self._file}") from None
        return template.format(**values) if values else template

    def templates(self) -> dict[str, str]:
        """Every raw template by key, placeholders unfilled, in file order."""
        return dict(self._templates)

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
    """Question bank, nudge library and copy, loaded together and checked against each other.

    One Prompts per language; all languages loaded together know each other, so any of them
    answers `for_locale()`. Ids and scores are the same in every language.
    """

    def __init__(
        self,
        bank: QuestionBank,
        nudges: NudgeLibrary,
        copy: Copy,
        *,
        language: str = DEFAULT_LANGUAGE,
    ) -> None:
        missing = [d.id for d in bank.dimensions if not nudges.for_dimension(d.id)]
        if missing:
            raise ValueError(f"nudges.yaml has no nudge for: {', '.join(missing)}")
        uncited = sorted({n.source for n in nudges.by_id.values()} - set(bank.sources))
        if uncited:
            raise ValueError(
                f"nudges.yaml cites {', '.join(uncited)}, which questions.yaml's `sources` lacks"
            )
        self.bank = bank
        self.nudges = nudges
        self.copy = copy
        self.language = language
        self._languages: dict[str, Prompts] = {language: self}

    @property
    def languages(self) -> tuple[str, ...]:
        """The language codes loaded together with this one, English first."""
        return tuple(sorted(self._languages, key=lambda code: (code != DEFAULT_LANGUAGE, code)))

    def for_locale(self, locale: str | None) -> Prompts:
        """The prompts in a Slack locale's language ("fr-FR" -> French); English for None and
        for languages prompts/ has no translation for."""
        found = self._languages.get(language_of(locale))
        if found is not None:
            return found
        return self._languages.get(DEFAULT_LANGUAGE, self)

    def statement(self, question_id: str, default: str) -> str:
        """A question's text in this language, retired ones included; `default` for statements
        the bank does not know at all."""
        found = self.bank.questions_by_id.get(question_id)
        if found is not None:
            return found[1].text
        retired = self.bank.retired_by_id.get(question_id)
        return retired.text if retired is not None else default

    def nudge_text(self, nudge_id: str, default: str) -> str:
        """A nudge's text in this language; `default` for nudges no longer in the library."""
        found = self.nudges.by_id.get(nudge_id)
        return found.text if found is not None else default

    def dimension_name(self, dimension_id: str) -> str:
        """A dimension's name in this language; its id for dimensions no longer in the bank."""
        try:
            return self.bank.dimension(dimension_id).name
        except KeyError:
            return dimension_id

    def _join(self, other: Prompts) -> None:
        if other.language in self._languages:
            raise ValueError(f"language {other.language!r} loaded twice")
        self._languages[other.language] = other
        for member in self._languages.values():
            member._languages = self._languages


def language_of(locale: str | None) -> str:
    """The language code of a Slack locale: "fr-FR" and "fr_CA" -> "fr"; None -> "en"."""
    if not locale:
        return DEFAULT_LANGUAGE
    return re.split(r"[-_]", locale.strip(), maxsplit=1)[0].lower() or DEFAULT_LANGUAGE


# libyaml's loader when PyYAML was built with it: every command reads six prompt files at
# start-up, and the pure-Python parser took half a second of it.
_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_YAML_LOADER)  # noqa: S506 - a safe loader, C or Python


def load_prompts(directory: Path | str | None = None) -> Prompts:
    """Read and validate prompts/ (or another directory with the same three files), with every
    translation in its language subdirectories; returns the English prompts."""
    root = Path(directory) if directory else DEFAULT_PROMPTS_DIR
    bank = QuestionBank.model_validate(_read_yaml(root / "questions.yaml"))
    nudges = NudgeLibrary.model_validate(_read_yaml(root / "nudges.yaml"))
    messages = _flatten(_read_yaml(root / "messages.yaml"))
    _check_copy(messages, _shown(root / "messages.yaml", root))
    english = Prompts(bank, nudges, Copy(messages))
    for language_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        if _LANGUAGE_DIR.match(language_dir.name) and language_dir.name != DEFAULT_LANGUAGE:
            english._join(load_translation(english, language_dir))
    return english


# --- translations ----------------------------------------------------------------------------


def placeholders(template: str, where: str = "") -> set[str]:
    """The `{names}` a template expects ("{value:.1f}" -> "value")."""
    try:
        fields = [name for _, name, _, _ in Formatter().parse(template) if name is not None]
    except ValueError as exc:
        raise ValueError(f"{where}: {exc} in {template!r}") from None
    return {re.split(r"[.\[]", name, maxsplit=1)[0] for name in fields}


# Day and month names are one space-separated list each (see time.* in messages.yaml).
NAME_LISTS = {"time.weekdays": 7, "time.months": 12}


def _check_copy(messages: Mapping[str, str], where: str) -> None:
    for key, count in NAME_LISTS.items():
        names = messages.get(key)
        if names is not None and len(names.split()) != count:
            raise ValueError(f"{where}: {key} must list {count} names separated by spaces")
    for key, limit in SLACK_TEXT_LIMITS.items():
        text = messages.get(key)
        if text is not None and len(text) > limit:
            raise ValueError(
                f"{where}: {key} is {len(text)} characters; Slack allows {limit} there"
            )


def _shown(path: Path, root: Path) -> str:
    """A file as people know it: prompts/fr/messages.yaml."""
    return str(Path(root.name) / path.relative_to(root))


def bank_texts(bank: QuestionBank) -> dict[str, str]:
    """The translatable text of a bank, keyed as a translation file spells it."""
    texts = {f"scale.{p.score}": p.label for p in bank.scale}
    texts["scale.not_applicable"] = bank.not_applicable.label
    for dimension in bank.dimensions:
        for name in ("name", "short", "why"):
            texts[f"dimensions.{dimension.id}.{name}"] = getattr(dimension, name)
    for dimension in bank.dimensions:
        for question in dimension.questions:
            texts[f"questions.{question.id}"] = question.text
    # Retired statements too: a person's App Home lists their answers to them.
    for retired in bank.retired:
        texts[f"questions.{retired.id}"] = retired.text
    return texts


def nudge_texts(nudges: NudgeLibrary) -> dict[str, str]:
    texts: dict[str, str] = {}
    for items in [*nudges.nudges.values(), *nudges.team.values()]:
        for nudge in items:
            if f"nudges.{nudge.id}" in texts:
                raise ValueError(f"nudge id {nudge.id} is used twice")
            texts[f"nudges.{nudge.id}"] = nudge.text
    return texts


def _check_translation(
    english: Mapping[str, str], translated: Mapping[str, str], where: str
) -> None:
    """Same keys, same placeholders: a complete translation and nothing else."""
    stray = sorted(set(translated) - set(english))
    if stray:
        raise ValueError(
            f"{where}: no English counterpart for {', '.join(stray)} "
            "(a translation holds only the English ids' text, never structure)"
        )
    missing = [key for key in english if key not in translated]
    if missing:
        raise ValueError(f"{where}: no translation for {', '.join(missing)}")
    for key, text in english.items():
        expected = placeholders(text, f"English {key}")
        found = placeholders(translated[key], f"{where}: {key}")
        if found != expected:
            raise ValueError(
                f"{where}: {key} has placeholders {{{', '.join(sorted(found))}}}, "
                f"the English has {{{', '.join(sorted(expected))}}}"
            )


def _readable_location(data: Any, loc: tuple[int | str, ...]) -> str:
    """A pydantic error location with list indexes replaced by the entry's id or score."""
    parts: list[str] = []
    node = data
    for step in loc:
        if isinstance(step, int) and isinstance(node, list | tuple) and step < len(node):
            node = node[step]
            label = node.get("id", node.get("score", step)) if isinstance(node, dict) else step
            parts.append(str(label))
        else:
            node = node.get(step) if isinstance(node, dict) else None
            parts.append(str(step))
    return ".".join(parts)


def _revalidate(model: type[_Model], data: dict[str, Any], where: str) -> _Model:
    """Validate translated data with the English model, so its limits apply to it too."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{_readable_location(data, tuple(e['loc']))}: {e['msg']}" for e in exc.errors()
        )
        raise ValueError(f"{where}: {problems}") from None


def _texts_only(tree: Mapping[Any, Any], where: str, prefix: str = "") -> None:
    """Every leaf of a translation is a non-empty string (not a number, a list or nothing)."""
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            _texts_only(value, where, f"{name}.")
        elif not isinstance(value, str) or not value.strip():
            raise ValueError(f"{where}: {name} must be a non-empty text, not {value!r}")


def load_translation(english: Prompts, directory: Path) -> Prompts:
    """Read one language directory (prompts/fr/) against the English prompts."""
    language, root = directory.name, directory.parent
    flat: dict[str, dict[str, str]] = {}
    for name in PROMPT_FILES:
        path = directory / name
        if not path.is_file():
            raise ValueError(
                f"{_shown(path, root)} is missing: a translation needs all of {PROMPT_FILES}"
            )
        tree = _read_yaml(path) or {}
        if not isinstance(tree, Mapping):
            raise ValueError(f"{_shown(path, root)}: expected a mapping of ids to text")
        flat[name] = _flatten(tree)
        _texts_only(tree, _shown(path, root))

    bank_path = _shown(directory / "questions.yaml", root)
    texts = flat["questions.yaml"]
    _check_translation(bank_texts(english.bank), texts, bank_path)
    bank_data = english.bank.model_dump()
    for point in bank_data["scale"]:
        point["label"] = texts[f"scale.{point['score']}"]
    bank_data["not_applicable"]["label"] = texts["scale.not_applicable"]
    for dimension in bank_data["dimensions"]:
        for name in ("name", "short", "why"):
            dimension[name] = texts[f"dimensions.{dimension['id']}.{name}"]
        for question in dimension["questions"]:
            question["text"] = texts[f"questions.{question['id']}"]
    for retired in bank_data["retired"]:
        retired["text"] = texts[f"questions.{retired['id']}"]
    bank = _revalidate(QuestionBank, bank_data, bank_path)

    nudges_path = _shown(directory / "nudges.yaml", root)
    texts = flat["nudges.yaml"]
    _check_translation(nudge_texts(english.nudges), texts, nudges_path)
    nudge_data = english.nudges.model_dump()
    for items in [*nudge_data["nudges"].values(), *nudge_data["team"].values()]:
        for nudge in items:
            nudge["text"] = texts[f"nudges.{nudge['id']}"]
    nudges = _revalidate(NudgeLibrary, nudge_data, nudges_path)

    messages_path = _shown(directory / "messages.yaml", root)
    english_messages = english.copy.templates()
    _check_translation(english_messages, flat["messages.yaml"], messages_path)
    _check_copy(flat["messages.yaml"], messages_path)
    return Prompts(bank, nudges, Copy(flat["messages.yaml"], language), language=language)
