"""The digest's trend chart: favourable share per week for each dimension, as a PNG.

Only cells that passed the anonymity gate are drawn (the org line per dimension), so the
chart can never show a group the digest would hide.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")  # no display on a server; must precede pyplot

import matplotlib.pyplot as plt

from bot.analytics.cells import PeriodCells
from bot.prompts import Prompts

CHART_WEEKS = 12
MAX_LINES = 6


@dataclass(frozen=True, slots=True)
class Chart:
    png: bytes
    title: str
    alt_text: str


def trend_chart(
    history: Sequence[PeriodCells], prompts: Prompts, *, highlight: Sequence[str] = ()
) -> Chart | None:
    """A line per dimension (the highlighted ones first, at most six), or None without data."""
    weeks = list(history[-CHART_WEEKS:])
    if not weeks:
        return None
    shown = [d.id for d in prompts.bank.dimensions if any(d.id in w.org for w in weeks)]
    ordered = [d for d in highlight if d in shown] + [d for d in shown if d not in highlight]
    chosen = ordered[:MAX_LINES]
    if not chosen:
        return None
    periods = [w.period for w in weeks]
    figure, axes = plt.subplots(figsize=(9, 4.5), dpi=100)
    try:
        for dimension in chosen:
            points = [
                (index, w.org[dimension].dist.favourable_share * 100)
                for index, w in enumerate(weeks)
                if dimension in w.org
            ]
            axes.plot(
                [x for x, _ in points],
                [y for _, y in points],
                marker="o",
                linewidth=2.5 if dimension in highlight else 1.2,
                label=prompts.bank.dimension(dimension).name,
            )
        axes.set_xticks(range(len(periods)), [p[-3:] for p in periods], fontsize=8)
        axes.set_ylim(0, 100)
        axes.set_ylabel("% favourable")
        title = prompts.copy.t("digest.chart_title", period=periods[-1])
        axes.set_title(title)
        axes.grid(alpha=0.3)
        axes.legend(fontsize=7, loc="lower left")
        buffer = io.BytesIO()
        figure.tight_layout()
        figure.savefig(buffer, format="png")
    finally:
        plt.close(figure)
    names = ", ".join(prompts.bank.dimension(d).name for d in chosen)
    alt = prompts.copy.t("digest.chart_alt", dimensions=names, first=periods[0], last=periods[-1])
    return Chart(buffer.getvalue(), title, alt)
