"""`cxpulse digest --json`: the report's findings for BI tools, through the same gate.

The keys below are a contract (see the README); add keys freely, never rename or drop one.
"""

from __future__ import annotations

from typing import Any

from bot.analytics.findings import Reading, Verdict
from bot.analytics.kudos import KudosSummary, Naming
from bot.analytics.themes import WeekThemes
from bot.services.digest import Report

DISTRIBUTION_FACTOR = 2


def _change(verdict: Verdict) -> dict[str, Any]:
    return {"delta": _round(verdict.delta), "real": verdict.real}


def _round(value: float | None, places: int = 4) -> float | None:
    return None if value is None else round(value, places)


def _reading(reading: Reading, minimum: int) -> dict[str, Any]:
    return {
        "id": reading.dimension,
        "period": reading.period,
        "respondents": reading.respondents,
        "favourable_share": _round(reading.favourable_share),
        "unfavourable_share": _round(reading.unfavourable_share),
        "mean": _round(reading.mean),
        # Whole distributions only for groups of at least twice the minimum: in a smaller group
        # a member who subtracts their own answer learns too much about the rest (README).
        "distribution": list(reading.distribution.counts)
        if reading.respondents >= DISTRIBUTION_FACTOR * minimum
        else None,
        "change_vs_previous": {
            **_change(reading.vs_previous),
            "previous_period": reading.previous_period,
        },
        "change_vs_baseline": _change(reading.vs_baseline),
        "change_recent": _change(reading.recent),
        "change_quarter": _change(reading.quarter),
        "direction": reading.real_direction,
    }


def _kudos(summary: KudosSummary | None) -> dict[str, Any] | None:
    """The week's kudos: counts per recipient team (small teams and people in none together
    under `other_teams`) and the quoted story. No user IDs: this JSON is kept (App Home's
    snapshot) where forget-me could not reach them."""
    if summary is None:
        return None
    quote = summary.quote
    return {
        "total": summary.tally.total,
        "teams": [{"team": t.team, "count": t.count} for t in summary.tally.teams],
        "other_teams": summary.tally.other,
        "quote": None
        if quote is None
        else {
            "story": quote.story,
            "named": quote.recipient.naming is Naming.NAMED,
            "team": quote.recipient.team,
        },
    }


def _themes(found: WeekThemes | None) -> dict[str, Any] | None:
    if found is None:
        return None
    return {
        "comments": found.comments,
        "main": None if found.main is None else found.main.dimension,
        "counts": [{"dimension": t.dimension, "comments": t.comments} for t in found.themes],
    }


def report_json(report: Report) -> dict[str, Any]:
    findings = report.findings
    share = report.participation
    return {
        "period": report.period,
        # Kept for the contract: only published (closed, frozen) weeks are ever reported now,
        # and the response rate is exact, so these two never carry anything.
        "provisional": False,
        "response_rate_at_least": None,
        "min_group_size": report.min_group_size,
        "respondents": share.respondents,
        "invited": share.invited,
        "response_rate": _round(share.rate),
        "open_week": None
        if report.open_week is None
        else {
            "period": report.open_week.period,
            "closes_at": report.open_week.closes_at.isoformat(),
            "answered_at_least": None
            if report.open_week.share_step is None
            else report.open_week.share_step / 10,
        },
        "dimensions": [_reading(r, report.min_group_size) for r in findings.dimensions],
        "say_do_gaps": [
            {
                "dimension": g.dimension,
                "leaders_mean": _round(g.leaders_mean),
                "others_mean": _round(g.others_mean),
                "gap": _round(g.gap),
                "leaders_favourable": _round(g.leaders_favourable),
                "others_favourable": _round(g.others_favourable),
                "real": g.verdict.real,
            }
            for g in findings.say_do
        ],
        "silos": [
            {
                "dimension": s.dimension,
                "spread": _round(s.spread),
                "real": s.verdict.real,
                "teams": s.teams,
                "highest": s.highest,
                "lowest": s.lowest,
                "highest_favourable": _round(s.highest_favourable),
                "lowest_favourable": _round(s.lowest_favourable),
            }
            for s in findings.silos
        ],
        "drivers": [
            {
                "dimension": d.dimension,
                "rho": _round(d.rho),
                "low": _round(d.low),
                "high": _round(d.high),
                "pairs": d.pairs,
                "real": d.real,
            }
            for d in findings.drivers
        ],
        "teams": [
            {
                "team": team.team,
                "respondents": team.respondents,
                "dimensions": [
                    {
                        "id": r.dimension,
                        "favourable_share": _round(r.favourable_share),
                        "mean": _round(r.mean),
                        "change_vs_previous": _change(r.vs_previous),
                        "change_vs_baseline": _change(r.vs_baseline),
                        "change_recent": _change(r.recent),
                        "direction": r.real_direction,
                    }
                    for r in team.readings
                ],
            }
            for team in findings.teams
        ],
        "hidden_teams": report.hidden_teams,
        "focus": None if report.focus is None else report.focus.dimension,
        "focus_nudge": None if report.focus is None else report.focus.nudge,
        "team_nudges": [{"team": n.team, "dimension": n.dimension} for n in report.team_nudges],
        "follow_ups": [
            {
                "dimension": f.dimension,
                "since": f.since,
                "delta": _round(f.delta),
                "real": f.real,
                "due_on": f.due_on.isoformat() if f.due_on else None,
                "favourable_now": _round(f.now),
                "favourable_before": _round(f.before),
            }
            for f in report.follow_ups
        ],
        # What the digest leads with, biggest first, in % favourable (0-1 shares).
        "findings": [
            {
                "kind": h.kind.value,
                "dimension": h.dimension,
                "team": h.team,
                "direction": h.direction,
                "favourable_now": _round(h.now),
                "favourable_before": _round(h.before),
                "likely_low": _round(h.low),
                "likely_high": _round(h.high),
                "size_points": _round(h.size),
                "highest": h.highest,
                "lowest": h.lowest,
            }
            for h in report.headlines
        ],
        "commitments": [
            {
                "dimension": c.dimension,
                "due_on": c.due_on.isoformat() if c.due_on else None,
                "since": c.period,
            }
            for c in report.commitments
        ],
        "tests": findings.tests,
        "kudos": _kudos(report.kudos),
        # What the shown comments are about, from their words alone (null for weeks published
        # before comments were tagged), and how many went to the admins instead (a count).
        "themes": _themes(report.themes),
        "comments_passed_to_admins": report.comments_passed_to_admins,
    }
