"""The leadership digest as a Block Kit message, within Slack's block and text limits."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.analytics.findings import Reading
from bot.analytics.headlines import Headline, Kind, Span, likely_range, strongest_change
from bot.prompts import Copy, Prompts
from bot.render.escape import clip, escape_text
from bot.render.ids import ActionId, BlockId
from bot.render.kudos import kudos_digest_lines
from bot.render.reply_buttons import comment_sections
from bot.render.timefmt import local_time
from bot.services.digest import Report
from bot.services.ports import OutgoingMessage

SECTION_LIMIT = 2900  # Slack allows 3000 characters per section; keep a margin.
MAX_BLOCKS = 50
MAX_DRIVERS = 3
# The notification names at most this many findings; Slack shows about the first 150
# characters on a phone's lock screen, and the whole text in the channel list.
NOTIFY_FINDINGS = 3
NOTIFY_LIMIT = 600


def pct(share: float) -> str:
    return f"{round(share * 100)}%"


def points(copy: Copy, delta: float) -> str:
    return copy.t("digest.points", value=f"{abs(delta):.1f}")


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text))


def sections(lines: Iterable[str]) -> list[SectionBlock]:
    """Lines packed into as few sections as Slack's 3,000-character limit allows."""
    return [_section(chunk) for chunk in _chunks(lines)]


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=text)])


def _chunks(lines: Iterable[str], limit: int = SECTION_LIMIT) -> list[str]:
    """Pack lines into section-sized texts, never splitting a line."""
    chunks: list[str] = []
    current = ""
    for line in lines:
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit and current:
            chunks.append(current)
            candidate = line
        current = candidate
    if current:
        chunks.append(current)
    return chunks


def dimension_name(prompts: Prompts, dimension: str) -> str:
    try:
        return prompts.bank.dimension(dimension).name
    except KeyError:
        return dimension


def _direction(copy: Copy, delta: float) -> str:
    return copy.t("digest.went_up" if delta > 0 else "digest.went_down")


def _rate_line(copy: Copy, report: Report) -> str:
    share = report.participation
    if share.invited is None:
        return copy.t("digest.rate_unknown")
    if share.rate is None:
        return copy.t("digest.rate_hidden", min_group=report.min_group_size, invited=share.invited)
    text = copy.t(
        "digest.rate",
        rate=pct(share.rate),
        respondents=share.respondents,
        invited=share.invited,
    )
    if report.previous_rate is not None:
        change = round((share.rate - report.previous_rate) * 100)
        text += " " + copy.t(
            "digest.rate_trend",
            change=copy.t(
                "digest.rate_points",
                direction=copy.t("digest.went_up" if change >= 0 else "digest.went_down"),
                value=abs(change),
            ),
        )
    return text


def _group(copy: Copy, team: str | None) -> str:
    return copy.t("digest.group_org") if team is None else escape_text(team)


def _verb(copy: Copy, direction: str) -> str:
    return copy.t("digest.verb_rose" if direction == "up" else "digest.verb_fell")


def _span(copy: Copy, headline: Headline) -> str:
    span = headline.span or Span.BASELINE
    return copy.t(f"digest.span_{span}", previous=headline.previous_period or "")


def _owner(copy: Copy, owner: str | None) -> str:
    return f"<@{owner}>" if owner else copy.t("digest.owner_unknown")


def headline_text(copy: Copy, prompts: Prompts, report: Report, h: Headline, *, short: bool) -> str:
    """One finding in one sentence a manager understands (`short`: for the notification)."""
    name = dimension_name(prompts, h.dimension)
    suffix = "_short" if short else ""
    if h.kind is Kind.CHANGE:
        key = "digest.finding_change_mixed" if h.mixed and not short else "digest.finding_change"
        return copy.t(
            key + ("" if key.endswith("mixed") else suffix),
            group=_group(copy, h.team),
            name=name,
            verb=_verb(copy, h.direction),
            now=pct(h.now or 0.0),
            before=pct(h.before or 0.0),
            low=pct(h.low or 0.0),
            high=pct(h.high or 0.0),
            span=_span(copy, h),
            mean=f"{abs(h.mean_delta or 0.0):.1f}",
        )
    if h.kind is Kind.SAY_DO:
        return copy.t(
            "digest.finding_say_do" + suffix,
            name=name,
            leaders=pct(h.now or 0.0),
            others=pct(h.before or 0.0),
        )
    if h.kind is Kind.SILO:
        return copy.t(
            "digest.finding_silo" + suffix,
            name=name,
            highest=escape_text(h.highest or ""),
            lowest=escape_text(h.lowest or ""),
            high=pct(h.now or 0.0),
            low=pct(h.before or 0.0),
        )
    follow = report.follow_ups[h.follow_up or 0]
    action = escape_text(clip(follow.action, 80 if short else 200))
    if h.real:
        return copy.t(
            "digest.finding_follow_up_moved" + suffix,
            name=name,
            action=action,
            owner=_owner(copy, follow.owner),
            verb=_verb(copy, h.direction),
            now=pct(h.now or 0.0),
            before=pct(h.before or 0.0),
            since=follow.since,
        )
    if h.now is None:
        return copy.t(
            "digest.finding_follow_up_unmeasured" + suffix,
            name=name,
            action=action,
            owner=_owner(copy, follow.owner),
            since=follow.since,
        )
    level = copy.t("digest.follow_up_level", now=pct(h.now))
    return copy.t(
        "digest.finding_follow_up_flat" + suffix,
        name=name,
        action=action,
        owner=_owner(copy, follow.owner),
        since=follow.since,
        level=level,
    )


def _extremes(report: Report) -> tuple[Reading, Reading] | None:
    readings = report.findings.dimensions
    if not readings:
        return None
    strongest = max(readings, key=lambda r: (r.favourable_share, r.dimension))
    weakest = min(readings, key=lambda r: (r.favourable_share, r.dimension))
    return strongest, weakest


def _no_findings(copy: Copy, prompts: Prompts, report: Report) -> str:
    extremes = _extremes(report)
    if extremes is None:
        return copy.t("digest.no_dimensions", min_group=report.min_group_size)
    strongest, weakest = extremes
    return copy.t(
        "digest.no_findings",
        strongest=dimension_name(prompts, strongest.dimension),
        strong_share=pct(strongest.favourable_share),
        weakest=dimension_name(prompts, weakest.dimension),
        weak_share=pct(weakest.favourable_share),
    )


def notification_text(report: Report, prompts: Prompts) -> str:
    """What a phone shows: the biggest findings first, or that nothing really changed."""
    copy = prompts.copy
    found = report.headlines
    if not found:
        return copy.t(
            "digest.notification",
            period=report.period,
            findings=_no_findings(copy, prompts, report),
        )
    shown = [headline_text(copy, prompts, report, h, short=True) for h in found[:NOTIFY_FINDINGS]]
    text = "; ".join(shown)
    if len(found) > NOTIFY_FINDINGS:
        text += " " + copy.t("digest.notification_more", count=len(found) - NOTIFY_FINDINGS)
    return clip(copy.t("digest.notification", period=report.period, findings=text), NOTIFY_LIMIT)


def _what_changed(copy: Copy, prompts: Prompts, report: Report) -> list[str]:
    lines = [copy.t("digest.changed_heading")]
    if not report.headlines:
        lines.append(_no_findings(copy, prompts, report))
        return lines
    lines += ["• " + headline_text(copy, prompts, report, h, short=False) for h in report.headlines]
    return lines


def verdict_words(copy: Copy, reading: Reading) -> str:
    """A reading's verdict in % favourable (for `/cx` replies)."""
    found = strongest_change(reading)
    if found:
        favourable = found[1].delta_favourable or 0.0
        return copy.t(
            "digest.verdict_real",
            direction=_direction(copy, found[1].delta or 0.0),
            points=points(copy, favourable * 100),
        )
    if all(v.delta is None for v in reading.verdicts()):
        return copy.t("digest.verdict_first")
    return copy.t("digest.verdict_noise")


def _standing_lines(copy: Copy, prompts: Prompts, report: Report) -> list[str]:
    """Dimensions that really moved, each with its likely range; the rest in one line."""
    lines = [copy.t("digest.dimensions_heading")]
    steady = []
    for reading in report.findings.dimensions:
        found = strongest_change(reading)
        name = dimension_name(prompts, reading.dimension)
        share = pct(reading.favourable_share)
        if reading.period != report.period:
            share += copy.t("digest.asked_marker")
        if found is None:
            steady.append(copy.t("digest.steady_item", name=name, share=share))
            continue
        low, high = likely_range(reading)
        favourable = found[1].delta_favourable or 0.0
        lines.append(
            copy.t(
                "digest.standing_changed",
                name=name,
                now=share,
                low=pct(low),
                high=pct(high),
                verb=_verb(copy, "up" if (found[1].delta or 0.0) > 0 else "down"),
                before=pct(min(1.0, max(0.0, reading.favourable_share - favourable))),
            )
        )
    if steady:
        lines.append(copy.t("digest.steady_line", dimensions=", ".join(steady)))
    if any(r.period != report.period for r in report.findings.dimensions):
        lines.append(copy.t("digest.asked_note"))
    if len(lines) == 1:
        lines.append(copy.t("digest.no_dimensions", min_group=report.min_group_size))
    return lines


def gaps_and_silos_lines(copy: Copy, prompts: Prompts, report: Report) -> list[str]:
    lines = [copy.t("digest.say_do_heading")]
    gaps = [g for g in report.findings.say_do if g.verdict.real]
    for gap in sorted(gaps, key=lambda g: -abs(g.leaders_favourable - g.others_favourable)):
        lines.append(
            copy.t(
                "digest.say_do_line",
                name=dimension_name(prompts, gap.dimension),
                leaders=pct(gap.leaders_favourable),
                others=pct(gap.others_favourable),
            )
        )
    if not gaps:
        lines.append(copy.t("digest.say_do_none"))
    lines.append("")
    lines.append(copy.t("digest.silos_heading"))
    silos = [s for s in report.findings.silos if s.verdict.real]
    for silo in sorted(silos, key=lambda s: -abs(s.highest_favourable - s.lowest_favourable)):
        lines.append(
            copy.t(
                "digest.silo_line",
                name=dimension_name(prompts, silo.dimension),
                highest=escape_text(silo.highest),
                lowest=escape_text(silo.lowest),
                high=pct(silo.highest_favourable),
                low=pct(silo.lowest_favourable),
            )
        )
    if not silos:
        lines.append(copy.t("digest.silos_none"))
    return lines


def _drivers(copy: Copy, prompts: Prompts, report: Report) -> list[str]:
    lines = [copy.t("digest.drivers_heading")]
    real = [d for d in report.findings.drivers if d.real and d.rho > 0][:MAX_DRIVERS]
    for driver in real:
        lines.append(
            copy.t(
                "digest.driver_line",
                name=dimension_name(prompts, driver.dimension),
                rho=f"{driver.rho:.2f}",
                low=f"{driver.low:.2f}",
                high=f"{driver.high:.2f}",
                pairs=driver.pairs,
            )
        )
    if not real:
        lines.append(copy.t("digest.drivers_none"))
    return lines


def _commitment_lines(copy: Copy, prompts: Prompts, report: Report) -> list[str]:
    lines = [copy.t("digest.commitments_heading")]
    for commitment in report.commitments:
        lines.append(
            copy.t(
                "digest.commitment_line",
                name=dimension_name(prompts, commitment.dimension),
                action=escape_text(clip(commitment.text, 200)),
                owner=_owner(copy, commitment.owner),
                due=commitment.due_on.isoformat() if commitment.due_on else "-",
            )
        )
    return lines


def _teams_line(copy: Copy, report: Report) -> str:
    line = copy.t("digest.heatmap_pointer", teams=len(report.findings.teams))
    if report.hidden_teams:
        line += " " + copy.t(
            "digest.hidden_teams", count=report.hidden_teams, min_group=report.min_group_size
        )
    return line


def _focus_block(copy: Copy, prompts: Prompts, report: Report) -> SectionBlock | None:
    focus = report.focus
    if focus is None:
        return None
    reading = report.reading(focus.dimension)
    reason = (
        copy.t("digest.focus_declined")
        if focus.declined or reading is None
        else copy.t("digest.focus_weakest", favourable=pct(reading.favourable_share))
    )
    text = copy.t(
        "digest.focus",
        name=dimension_name(prompts, focus.dimension),
        reason=reason,
        nudge=escape_text(focus.nudge),
    )
    button = ButtonElement(
        action_id=ActionId.COMMIT_FOCUS,
        text=copy.t("digest.focus_button"),
        value=f"{report.period}|{focus.dimension}",
        style="primary",
    )
    return SectionBlock(
        block_id=BlockId.DIGEST_FOCUS, text=MarkdownTextObject(text=text), accessory=button
    )


def theme_lines(copy: Copy, prompts: Prompts, report: Report) -> list[str]:
    """What the shown comments are about: the main theme when it clearly leads ("most
    comments this week are about X (7 of 23)"), else the few themes worth naming."""
    found = report.themes
    if found is None:
        return []
    if found.main is not None:
        return [
            copy.t(
                "themes.digest_main",
                name=dimension_name(prompts, found.main.dimension),
                count=found.main.comments,
                total=found.comments,
            )
        ]
    if not found.few:
        return []
    named = ", ".join(
        copy.t("themes.digest_theme", name=dimension_name(prompts, t.dimension), count=t.comments)
        for t in found.few
    )
    return [copy.t("themes.digest_few", themes=named)]


def alerts_line(copy: Copy, report: Report) -> str:
    """How many of the week's comments went to the admins instead: a count, never a text."""
    count = report.comments_passed_to_admins
    if count == 1:
        return copy.t("alerts.digest_passed_one")
    return copy.t("alerts.digest_passed_many", count=count)


def _comment_blocks(copy: Copy, report: Report, themes: list[str]) -> list[Block]:
    lines = [
        copy.t(
            "digest.comments_heading",
            shown=len(report.comments),
            total=report.comments_total,
        ),
        *themes,
    ]
    # Each comment whose author asked for replies gets its Reply button (bot.slack.replies).
    blocks: list[Block] = comment_sections(copy, lines, report.comments)
    if report.comments_total > len(report.comments):
        blocks.append(
            ActionsBlock(
                block_id=BlockId.DIGEST_COMMENTS,
                elements=[
                    ButtonElement(
                        action_id=ActionId.READ_ALL_COMMENTS,
                        text=copy.t("digest.read_all_button", total=report.comments_total),
                        value=report.period,
                    )
                ],
            )
        )
    return blocks


def _kudos_blocks(copy: Copy, report: Report) -> list[Block]:
    """The week's kudos per team and one story: what the seeds call rewarding what we ask for."""
    assert report.kudos is not None
    chunks = _chunks(kudos_digest_lines(copy, report.kudos))
    return [
        SectionBlock(
            block_id=BlockId.DIGEST_KUDOS if index == 0 else None,
            text=MarkdownTextObject(text=chunk),
        )
        for index, chunk in enumerate(chunks)
    ]


def digest_message(report: Report, prompts: Prompts, *, zone_name: str) -> OutgoingMessage:
    """In the order a leader reads: what changed, what to do, where things stand, the
    commitments running, drivers, teams, their words, and how many answered."""
    copy = prompts.copy
    blocks: list[Block] = [
        HeaderBlock(
            block_id=BlockId.DIGEST_HEADER, text=copy.t("digest.title", period=report.period)
        )
    ]
    blocks += sections(_what_changed(copy, prompts, report))
    focus = _focus_block(copy, prompts, report)
    if focus is not None:
        blocks.append(focus)
    if report.commitments:
        blocks += sections(_commitment_lines(copy, prompts, report))
    blocks.append(DividerBlock())
    blocks += sections(_standing_lines(copy, prompts, report))
    blocks += sections(_drivers(copy, prompts, report))
    if report.findings.teams or report.hidden_teams:
        blocks.append(_context(_teams_line(copy, report)))
    if report.comments:
        blocks.append(DividerBlock())
        blocks += _comment_blocks(copy, report, theme_lines(copy, prompts, report))
    if report.comments_passed_to_admins:
        if not report.comments:
            blocks.append(DividerBlock())
        blocks.append(_context(alerts_line(copy, report)))
    if report.kudos is not None:
        blocks.append(DividerBlock())
        blocks += _kudos_blocks(copy, report)
    blocks.append(DividerBlock())
    blocks.append(_context(_rate_line(copy, report)))
    if report.open_week is not None:
        blocks.append(_context(open_week_line(copy, report, zone_name)))
    blocks.append(
        _context(
            copy.t(
                "digest.footer",
                min_group=report.min_group_size,
                comment_min=report.comment_minimum,
            )
        )
    )
    if len(blocks) > MAX_BLOCKS:
        # Never more than Slack accepts (a safety net: a digest needs about 20).
        blocks = [*blocks[: MAX_BLOCKS - 1], blocks[-1]]
    return OutgoingMessage(text=notification_text(report, prompts), blocks=blocks)


def is_digest(message: dict[str, Any]) -> bool:
    """Whether a message from a channel's history (Slack's JSON) is a digest."""
    return any(b.get("block_id") == BlockId.DIGEST_HEADER for b in message.get("blocks") or [])


def open_week_line(copy: Copy, report: Report, zone_name: str) -> str:
    """The week still open, as anyone may see it: a coarse share answered, nothing else."""
    week = report.open_week
    assert week is not None
    closes = local_time(week.closes_at, zone_name, copy)
    if week.share_step is None:
        return copy.t(
            "digest.open_week_few",
            period=week.period,
            closes=closes,
            min_group=report.min_group_size,
        )
    return copy.t(
        "digest.open_week", period=week.period, closes=closes, share=f"{week.share_step * 10}%"
    )


def team_nudge_message(
    prompts: Prompts, team: str, dimension: str, nudge: str, *, to_lead: bool = False
) -> OutgoingMessage:
    """A team's nudge: posted in its channel, or worded for each of its leads by DM."""
    text = prompts.copy.t(
        "team_leads.nudge" if to_lead else "digest.team_nudge",
        team=escape_text(team),
        name=dimension_name(prompts, dimension),
        nudge=escape_text(nudge),
    )
    return OutgoingMessage(text=text, blocks=[_section(text)])
