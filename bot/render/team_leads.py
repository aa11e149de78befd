"""What team leads read: their own team's results in `/cx team` and App Home, and the admins'
summary of who leads which team."""

from __future__ import annotations

from collections.abc import Mapping

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from bot.prompts import Prompts
from bot.render.digest import dimension_name, pct, verdict_words
from bot.render.escape import escape_text
from bot.render.replies import team_message, text_reply
from bot.services.digest import Report
from bot.services.ports import OutgoingMessage
from bot.services.team_leads import OwnTeams


def own_team_message(report: Report, prompts: Prompts, team: str) -> OutgoingMessage:
    """`/cx team` for a lead: their team as the report shows it; when it is hidden, why, and
    no list of the other teams (those are not theirs to browse)."""
    if any(t.team == team for t in report.findings.teams):
        return team_message(report, prompts, team)
    return text_reply(
        prompts.copy.t(
            "team_leads.own_team_hidden", team=escape_text(team), min_group=report.min_group_size
        )
    )


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text))


def own_teams_blocks(summary: OwnTeams, prompts: Prompts) -> list[Block]:
    """App Home's section for a lead: each team they lead, from the latest published week."""
    copy = prompts.copy
    blocks: list[Block] = [_section(copy.t("team_leads.home_title"))]
    if summary.period is None:
        return [*blocks, _section(copy.t("team_leads.home_none"))]
    for own in summary.teams:
        found = own.shown
        if found is None:
            blocks.append(
                _section(
                    copy.t(
                        "team_leads.home_hidden",
                        team=escape_text(own.team),
                        period=summary.period,
                        min_group=summary.min_group_size,
                    )
                )
            )
            continue
        lines = [
            copy.t(
                "team_leads.home_heading",
                team=escape_text(found.team),
                period=summary.period,
                n=found.respondents,
            )
        ]
        lines += [
            copy.t(
                "team_leads.home_line",
                name=dimension_name(prompts, reading.dimension),
                favourable=pct(reading.favourable_share),
                mean=f"{reading.mean:.1f}",
                verdict=verdict_words(copy, reading),
            )
            for reading in found.readings
        ]
        blocks.append(_section("\n".join(lines)))
    footer = copy.t("team_leads.home_footer", min_group=summary.min_group_size)
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=footer)]))
    return blocks


def team_leads_summary(team_leads: Mapping[str, tuple[str, ...]], prompts: Prompts) -> str | None:
    """Who leads which team, for the admins' settings summary; None without any lead."""
    if not team_leads:
        return None
    parts = [
        f"{escape_text(team)}: {', '.join(f'<@{user}>' for user in users)}"
        for team, users in sorted(team_leads.items())
    ]
    return prompts.copy.t("team_leads.admin_summary", leads="; ".join(parts))
