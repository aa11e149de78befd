"""Benchmark 9: comment themes and sensitive-comment alerts, measured against labelled sets.

The labelled sets (benchmarks/data/) were written from the seeds' failure modes before any
lexicon. Each is split in two, stratified by each comment's first label and alternating in file
order (so every dimension and category has examples in both halves): the lexicons in prompts/
were tuned on the tuning half only, and the figures reported are the held-out half's.

Timing: the tagger and the screen over 1,000 comments (the labelled ones, repeated), against
a baseline measured in the same run: folding and splitting the same comments into words, the
least any method reading them must do. The lexicons are loaded (and their patterns compiled)
once beforehand, as a process does at its first comment; that load is timed on its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import yaml

from bot.analytics.sensitive import Category, SensitiveScreen
from bot.analytics.themes import ThemeTagger
from bot.lexicons import sensitive_screen, theme_tagger
from bot.prompts import load_prompts

DATA = Path(__file__).parent / "data"
COMMENTS_FILE = DATA / "comments_labelled.yaml"
SENSITIVE_FILE = DATA / "sensitive_labelled.yaml"
FRESH_FILE = DATA / "comments_fresh.yaml"
SENSITIVE_FRESH_FILE = DATA / "sensitive_fresh.yaml"
TIMED_COMMENTS = 1000
TIME_BUDGET_S = 10.0
Half = Literal["tune", "held_out", "all"]


@dataclass(frozen=True, slots=True)
class Labelled:
    text: str
    language: str
    labels: tuple[str, ...]
    half: Literal["tune", "held_out"]


def _load(path: Path, key: str) -> list[Labelled]:
    with path.open(encoding="utf-8") as handle:
        rows: list[dict[str, Any]] = yaml.safe_load(handle)
    seen: dict[str, int] = {}
    out = []
    for row in rows:
        labels = tuple(row[key])
        stratum = labels[0] if labels else ""
        index = seen.get(stratum, 0)
        seen[stratum] = index + 1
        half: Literal["tune", "held_out"] = "tune" if index % 2 == 0 else "held_out"
        out.append(Labelled(row["text"], row["lang"], labels, half))
    return out


def labelled_comments() -> list[Labelled]:
    """The ordinary comments, labelled with the dimensions they speak to."""
    return _load(COMMENTS_FILE, "dims")


def labelled_sensitive() -> list[Labelled]:
    """Comments to pass to admins (labelled with categories) and near misses (no label)."""
    return _load(SENSITIVE_FILE, "alert")


def fresh() -> tuple[list[Labelled], list[Labelled]]:
    """The set written after the lexicons were frozen, never tuned on: (its comments labelled
    with dimensions, leaving out those to pass to admins, which are never published; all of
    them labelled with alert categories)."""
    with FRESH_FILE.open(encoding="utf-8") as handle:
        rows: list[dict[str, Any]] = yaml.safe_load(handle)
    themes = [
        Labelled(r["text"], r["lang"], tuple(r["dims"]), "held_out") for r in rows if not r["alert"]
    ]
    alerts = [Labelled(r["text"], r["lang"], tuple(r["alert"]), "held_out") for r in rows]
    return themes, alerts


def sensitive_fresh() -> list[Labelled]:
    """The sensitive set written after the lexicons were broadened, never tuned on."""
    with SENSITIVE_FRESH_FILE.open(encoding="utf-8") as handle:
        rows: list[dict[str, Any]] = yaml.safe_load(handle)
    return [Labelled(r["text"], r["lang"], tuple(r["alert"]), "held_out") for r in rows]


def half(items: Sequence[Labelled], which: Half) -> list[Labelled]:
    return [i for i in items if which in ("all", i.half)]


@dataclass(frozen=True, slots=True)
class Agreement:
    label: str
    support: int  # comments carrying the label
    true_positive: int
    false_positive: int
    false_negative: int

    @property
    def precision(self) -> float | None:
        found = self.true_positive + self.false_positive
        return None if not found else self.true_positive / found

    @property
    def recall(self) -> float | None:
        return None if not self.support else self.true_positive / self.support


def agreement(
    items: Sequence[Labelled], predict: Callable[[str], Sequence[str]], labels: Sequence[str]
) -> list[Agreement]:
    """Precision and recall per label (multi-label: each label judged on its own), and a last
    row, "(micro)", over every label together."""
    predicted = [set(predict(i.text)) for i in items]
    rows = []
    totals = [0, 0, 0, 0]
    for label in labels:
        tp = sum(
            1 for i, p in zip(items, predicted, strict=True) if label in p and label in i.labels
        )
        fp = sum(
            1 for i, p in zip(items, predicted, strict=True) if label in p and label not in i.labels
        )
        fn = sum(
            1 for i, p in zip(items, predicted, strict=True) if label not in p and label in i.labels
        )
        support = sum(1 for i in items if label in i.labels)
        rows.append(Agreement(label, support, tp, fp, fn))
        for n, value in enumerate((support, tp, fp, fn)):
            totals[n] += value
    rows.append(Agreement("(micro)", *totals))
    return rows


@dataclass(frozen=True, slots=True)
class ThemesBench:
    themes: list[Agreement]  # held-out half, per dimension, then micro
    themes_tuning: Agreement  # the tuning half's micro row, for comparison
    alerts: list[Agreement]  # held-out half, per category, then micro
    alert_any: Agreement  # held-out: alert or not, whatever the category
    alert_any_tuning: Agreement
    false_alarms: int  # held-out ordinary comments that would alert
    ordinary: int  # held-out ordinary comments
    fresh_themes: list[Agreement]  # the set written after the lexicons were frozen
    fresh_alerts: list[Agreement]
    fresh_alert_any: Agreement
    fresh_sizes: tuple[int, int]  # its comments for themes, and for alerts
    # The sensitive set written after the sensitive lexicons were broadened.
    fresh2_alerts: list[Agreement]
    fresh2_alert_any: Agreement
    fresh2_size: int
    comments: int  # comments timed
    seconds: float  # tagging and screening them
    baseline_s: float  # folding and splitting them into words
    load_s: float  # loading the lexicons (once per process)
    sizes: tuple[int, int]  # labelled comments, labelled sensitive comments

    @property
    def ratio(self) -> float:
        return self.seconds / self.baseline_s if self.baseline_s else float("inf")


def _binary(items: Sequence[Labelled], screen: SensitiveScreen) -> Agreement:
    tp = sum(1 for i in items if i.labels and screen.screen(i.text))
    fp = sum(1 for i in items if not i.labels and screen.screen(i.text))
    fn = sum(1 for i in items if i.labels and not screen.screen(i.text))
    return Agreement("any category", sum(1 for i in items if i.labels), tp, fp, fn)


def _baseline(texts: Sequence[str]) -> int:
    from bot.analytics.phrases import fold

    return sum(len(fold(t).split()) for t in texts)


def _best_of(runs: int, action: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - started)
    return best


def run_themes(comments: int = TIMED_COMMENTS) -> ThemesBench:
    prompts = load_prompts()
    dimensions = tuple(d.id for d in prompts.bank.dimensions)
    theme_tagger.cache_clear()
    sensitive_screen.cache_clear()
    started = time.perf_counter()
    tagger: ThemeTagger = theme_tagger(None, dimensions)
    screen: SensitiveScreen = sensitive_screen(None)
    load_s = time.perf_counter() - started

    ordinary, sensitive = labelled_comments(), labelled_sensitive()
    categories = [c.value for c in Category]
    held_sensitive = half(sensitive, "held_out")
    # Ordinary comments are near misses too: none of them should alert.
    held_ordinary = [replace(i, labels=()) for i in half(ordinary, "held_out")]
    alert_items = held_sensitive + held_ordinary

    fresh_themes, fresh_alerts = fresh()
    second = sensitive_fresh()
    texts = [i.text for i in [*ordinary, *sensitive]]
    timed = [texts[n % len(texts)] for n in range(comments)]

    def tag_and_screen() -> None:
        for text in timed:
            tagger.tag(text)
            screen.screen(text)

    baseline_s = _best_of(3, lambda: _baseline(timed))
    seconds = _best_of(3, tag_and_screen)
    return ThemesBench(
        themes=agreement(half(ordinary, "held_out"), tagger.tag, dimensions),
        themes_tuning=agreement(half(ordinary, "tune"), tagger.tag, dimensions)[-1],
        alerts=agreement(
            alert_items, lambda t: [c.value for c in screen.categories(t)], categories
        ),
        alert_any=_binary(alert_items, screen),
        alert_any_tuning=_binary(
            half(sensitive, "tune") + [replace(i, labels=()) for i in half(ordinary, "tune")],
            screen,
        ),
        false_alarms=sum(1 for i in held_ordinary if screen.screen(i.text)),
        ordinary=len(held_ordinary),
        fresh_themes=agreement(fresh_themes, tagger.tag, dimensions),
        fresh_alerts=agreement(
            fresh_alerts, lambda t: [c.value for c in screen.categories(t)], categories
        ),
        fresh_alert_any=_binary(fresh_alerts, screen),
        fresh_sizes=(len(fresh_themes), len(fresh_alerts)),
        fresh2_alerts=agreement(
            second, lambda t: [c.value for c in screen.categories(t)], categories
        ),
        fresh2_alert_any=_binary(second, screen),
        fresh2_size=len(second),
        comments=comments,
        seconds=seconds,
        baseline_s=baseline_s,
        load_s=load_s,
        sizes=(len(ordinary), len(sensitive)),
    )


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def agreement_table(rows: Sequence[Agreement], names: dict[str, str] | None = None) -> str:
    """A Markdown table of precision and recall (for the README and the bench notes)."""
    names = names or {}
    lines = ["| label | comments | precision | recall |", "|---|---|---|---|"]
    for row in rows:
        name = names.get(row.label, row.label)
        lines.append(f"| {name} | {row.support} | {_pct(row.precision)} | {_pct(row.recall)} |")
    return "\n".join(lines)


if __name__ == "__main__":
    found = run_themes()
    bank = load_prompts().bank
    names = {d.id: d.name for d in bank.dimensions}
    print(agreement_table(found.themes, names))
    print()
    print(agreement_table([*found.alerts, found.alert_any]))
    print()
    print(agreement_table(found.fresh_themes, names))
    print()
    print(agreement_table([*found.fresh_alerts, found.fresh_alert_any]))
    print()
    print(agreement_table([*found.fresh2_alerts, found.fresh2_alert_any]))
    print(f"{found.comments} comments: {found.seconds:.3f} s, baseline {found.baseline_s:.3f} s")
