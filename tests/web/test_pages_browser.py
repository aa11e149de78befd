"""The report's pages in a real browser (Debian's chromium, headless, through selenium), on
the served bot behind Sign in with Slack, with a published story (bot/sandbox/report_story.py:
twelve weeks, a team below the minimum, cells hidden for both reasons, comments, commitments,
two posted digests).

A leader, a team lead and an employee sign in through the emulator's authorize page; each
sees exactly what their role allows. Every page is photographed at 1280 and 390 px wide into
CX_TEST_ARTIFACTS (test-artifacts/), and checked on the way: no CSP violation, no user ID or
pseudonym anywhere in it, every chart with a text equivalent, every control with a label.
"""

from __future__ import annotations

import csv
import io

import pytest
from selenium.webdriver.common.by import By

from bot.sandbox.report_story import (
    MARKUP_COMMENT,
    SMALL_TEAM,
    TINY_TEAM,
    ReportStory,
    build_report_story,
    story_people,
)
from tests.web.conftest import (
    ADMIN,
    EMPLOYEE,
    LEADER,
    TEAM_LEAD,
    Browser,
    Site,
    WebSession,
    sign_in,
)

MAX_PAGE_BYTES = 100_000


@pytest.fixture
def site_env() -> dict[str, str]:
    """UALPHA1 leads support (shown) and tiny (never shown) in the story."""
    return {"CX_TEAM_LEADS": f"support={TEAM_LEAD},{TINY_TEAM}={TEAM_LEAD}"}


@pytest.fixture
def story(site: Site) -> ReportStory:
    found = build_report_story(site.deps, site.bot.gateway, admin=ADMIN)
    # The employee who signs in is a support member with answers of their own.
    site.emulator.add_user(found.employee, "emma.support")
    return found


@pytest.fixture
def story_site(site: Site, story: ReportStory) -> Site:
    return site


def heading(browser: Browser) -> str:
    return str(browser.driver.find_element(By.TAG_NAME, "h1").text)


def identities(site: Site) -> set[str]:
    """Every Slack user ID of the story and site, with each one's pseudonym."""
    people = {*site.org.participants, LEADER, TEAM_LEAD, EMPLOYEE, ADMIN, *story_people()}
    return people | {site.deps.respondent(p) for p in people}


def check_page(browser: Browser, site: Site) -> None:
    """What every page must do, whoever looks at it."""
    errors = [e for e in browser.console_errors() if "Content Security Policy" in e]
    assert not errors, errors
    source = browser.html
    leaked = sorted(i for i in identities(site) if i in source)
    assert not leaked, f"{browser.path} shows {leaked}"
    driver = browser.driver
    for svg in driver.find_elements(By.CSS_SELECTOR, "main svg"):
        assert svg.get_attribute("role") == "img"
        labels = (svg.get_attribute("aria-labelledby") or "").split()
        assert labels
        assert all(driver.find_element(By.ID, i).get_attribute("textContent") for i in labels)
        figure = svg.find_element(By.XPATH, "ancestor::figure")
        assert figure.find_elements(By.CSS_SELECTOR, "table tbody tr"), "a chart without numbers"
    for button in driver.find_elements(By.CSS_SELECTOR, "button"):
        assert (button.get_attribute("textContent") or "").strip(), "a button without a label"
    for control in driver.find_elements(By.CSS_SELECTOR, "select, input:not([type=hidden])"):
        assert control.find_elements(By.XPATH, "ancestor::label") or control.get_attribute(
            "aria-label"
        ), "a control without a label"


def visit(browser: Browser, site: Site, path: str, name: str) -> str:
    browser.get(path)
    browser.wait_for(lambda d: d.execute_script("return document.readyState") == "complete")
    check_page(browser, site)
    browser.screenshots(name)
    return heading(browser)


def test_a_leader_sees_the_organisation_and_every_team(
    story_site: Site, browser: Browser, web_session: WebSession
) -> None:
    sign_in(browser, LEADER)
    overview = visit(browser, story_site, "/report", "leader-overview")
    assert "2026-W47" in overview
    text = browser.text
    assert "support: Empowerment" in text  # a team's finding
    assert "Silo on Cross-team collaboration" in text
    figures = browser.driver.find_elements(By.CSS_SELECTOR, "figure.trend")
    assert len(figures) == len(story_site.deps.prompts.bank.dimensions)
    # A real change marked on its trend, with its text equivalent.
    assert browser.driver.find_elements(By.CSS_SELECTOR, "figure.trend line.marker") or (
        "No change beyond normal swings" in text
    )
    # Each chart's numbers, a click away (a <details>, no script needed).
    figures[1].find_element(By.TAG_NAME, "summary").click()
    rows = figures[1].find_elements(By.CSS_SELECTOR, "table.numbers tbody tr")
    assert rows[-1].find_element(By.TAG_NAME, "th").text == "2026-W47"
    assert rows[-1].find_elements(By.TAG_NAME, "td")[0].text.endswith("%")
    browser.screenshot("leader-overview-numbers", 390)

    assert "2026-W47" in visit(browser, story_site, "/report/heatmap", "leader-heatmap")
    rows = browser.driver.find_elements(By.CSS_SELECTOR, "tbody[data-sortable] tr")
    teams = [r.find_element(By.CSS_SELECTOR, "th .name").text for r in rows]
    assert "support" in teams
    assert SMALL_TEAM in teams
    assert TINY_TEAM not in teams
    assert "hidden" in browser.text
    assert "fewer than 5" in browser.text
    assert "protects a smaller group" in browser.text
    _sorts_by_a_column(browser)
    browser.screenshots("leader-heatmap-sorted")
    _keeps_team_names_in_view_on_a_phone(browser)
    shown = _heatmap_cells(browser)

    # The CSV is exactly what the heatmap shows this viewer.
    sign_in(web_session, LEADER)
    download = web_session.get("/report/heatmap.csv")
    assert download.status == 200
    assert download.header("Content-Type") == "text/csv; charset=utf-8"
    assert (download.header("Content-Disposition") or "").startswith("attachment;")
    table = list(csv.DictReader(io.StringIO(download.text)))
    in_csv = {
        (r["group"], r["dimension"]): (
            r["favourable_percent"] + "%"
            if r["favourable_percent"].isdigit()
            else r["favourable_percent"]
        )
        for r in table
    }
    assert in_csv == shown

    assert "support" in visit(browser, story_site, "/report/teams/support", "leader-team-support")
    assert browser.driver.find_elements(By.CSS_SELECTOR, "figure.trend")
    assert SMALL_TEAM in visit(
        browser, story_site, f"/report/teams/{SMALL_TEAM}", "leader-team-ops"
    )
    visit(browser, story_site, f"/report/teams/{TINY_TEAM}", "leader-team-tiny")
    assert "No results to show for tiny this week: fewer than 5 people" in browser.text
    assert "%" not in browser.driver.find_element(By.TAG_NAME, "main").text

    visit(browser, story_site, "/report/comments", "leader-comments")
    quotes = [q.text for q in browser.driver.find_elements(By.CSS_SELECTOR, ".comments blockquote")]
    assert MARKUP_COMMENT in quotes  # shown as the text it is, never run or rendered
    assert not browser.driver.find_elements(By.CSS_SELECTOR, "main script, main b")
    visit(browser, story_site, "/report/comments?week=2026-W44", "leader-comments-earlier")

    visit(browser, story_site, "/report/actions", "leader-actions")
    text = browser.text
    assert "Front-line staff can now refund up to $200 without asking." in text
    assert "In progress" in text
    assert "Followed up earlier" in text
    visit(browser, story_site, "/report/me", "leader-mine")


def _sorts_by_a_column(browser: Browser) -> None:
    driver = browser.driver
    header = driver.find_elements(By.CSS_SELECTOR, "table.heatmap thead th")[2]  # Empowerment
    button = header.find_element(By.TAG_NAME, "button")
    assert button.is_enabled()  # the script enabled it
    button.click()
    assert header.get_attribute("aria-sort") == "descending"
    values = [
        r.find_elements(By.CSS_SELECTOR, "td")[1].get_attribute("data-value")
        for r in driver.find_elements(By.CSS_SELECTOR, "tbody[data-sortable] tr")
    ]
    numbers = [float(v) for v in values if v]
    assert numbers == sorted(numbers, reverse=True)
    assert values[len(numbers) :] == [""] * (len(values) - len(numbers))  # hidden ones last
    button.click()
    assert header.get_attribute("aria-sort") == "ascending"


def _keeps_team_names_in_view_on_a_phone(browser: Browser) -> None:
    """At 390 px the table scrolls sideways inside its box; the team names stay put."""
    driver = browser.driver
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 390, "height": 900, "deviceScaleFactor": 1, "mobile": True},
    )
    try:
        sizes = driver.execute_script(
            "var s = document.querySelector('.scroll');"
            "s.scrollLeft = s.scrollWidth;"
            "var head = s.querySelector('tbody[data-sortable] th').getBoundingClientRect();"
            "return [document.documentElement.scrollWidth, window.innerWidth, s.scrollLeft,"
            " Math.round(head.left - s.getBoundingClientRect().left)];"
        )
        page_width, viewport, scrolled, offset = sizes
        assert page_width <= viewport  # the page itself never scrolls sideways
        assert scrolled > 0
        assert offset <= 2  # sticky: still at the box's left edge
        browser.screenshot("leader-heatmap-scrolled", 390)
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def _heatmap_cells(browser: Browser) -> dict[tuple[str, str], str]:
    """(group, dimension) -> the value each cell shows: "63%", "hidden" or "not asked"."""
    driver = browser.driver
    names = [
        h.get_attribute("textContent").replace("Sort by", "").strip()
        for h in driver.find_elements(By.CSS_SELECTOR, "table.heatmap thead th")[1:]
    ]
    out = {}
    for row in driver.find_elements(By.CSS_SELECTOR, "table.heatmap tbody tr"):
        group = row.find_element(By.CSS_SELECTOR, "th .name").get_attribute("textContent")
        for name, cell in zip(names, row.find_elements(By.CSS_SELECTOR, "td"), strict=True):
            value = cell.find_element(By.CSS_SELECTOR, ".v").get_attribute("textContent")
            words = value.replace("▼", "").replace("▲", "").split()
            out[(group, name)] = words[-1] if words[-1].endswith("%") else " ".join(words)
    return out


def test_a_team_lead_sees_the_headline_and_their_own_teams(
    story_site: Site, browser: Browser, web_session: WebSession
) -> None:
    sign_in(browser, TEAM_LEAD)
    visit(browser, story_site, "/report", "lead-overview")
    text = browser.text
    assert "support: Empowerment" in text  # their own team's finding
    assert "Say-do gap" in text  # the organisation's
    assert "Silo on" not in text  # names other teams
    assert not browser.driver.find_elements(By.CSS_SELECTOR, "figure.trend")
    nav = browser.driver.find_element(By.CSS_SELECTOR, "header nav").text
    assert "Team support" in nav
    assert "Comments" not in nav
    visit(browser, story_site, "/report/teams/support", "lead-team-support")
    assert browser.driver.find_elements(By.CSS_SELECTOR, "figure.trend")
    visit(browser, story_site, f"/report/teams/{TINY_TEAM}", "lead-team-tiny")
    assert "No results to show for tiny" in browser.text
    assert visit(browser, story_site, "/report/teams/sales", "lead-team-not-theirs") == (
        "Nothing here"
    )
    assert visit(browser, story_site, "/report/heatmap", "lead-heatmap-refused") == (
        "This page isn't part of your view"
    )
    visit(browser, story_site, "/report/me", "lead-mine")

    # The same answer, status and body, for a team not theirs and a team that doesn't exist.
    sign_in(web_session, TEAM_LEAD)
    other, missing = web_session.get("/report/teams/sales"), web_session.get("/report/teams/nope")
    assert other.status == missing.status == 404
    assert other.body == missing.body
    for path in ("/report/heatmap", "/report/heatmap.csv", "/report/comments", "/report/actions"):
        assert web_session.get(path).status == 403, path


def test_an_employee_sees_the_organisations_findings_and_their_own_answers(
    story_site: Site, story: ReportStory, browser: Browser, web_session: WebSession
) -> None:
    employee = story.employee
    sign_in(browser, employee)
    visit(browser, story_site, "/report", "employee-overview")
    text = browser.text
    assert "Say-do gap" in text
    assert "support:" not in text
    assert "Silo on" not in text
    assert not browser.driver.find_elements(By.CSS_SELECTOR, "figure.trend")
    nav = browser.driver.find_element(By.CSS_SELECTOR, "header nav").text
    assert nav.split("\n") == ["Overview", "My answers"]
    visit(browser, story_site, "/report/me", "employee-mine")
    answers = browser.driver.find_elements(By.CSS_SELECTOR, "table.answers tbody tr")
    assert answers
    assert "Week 2026-W47" in browser.text
    visit(browser, story_site, "/report/teams/support", "employee-team-refused")
    assert heading(browser) == "Nothing here"
    visit(browser, story_site, "/report/comments", "employee-comments-refused")

    sign_in(web_session, employee)
    assert web_session.get("/report/heatmap").status == 403
    assert web_session.get("/report/teams/support").status == 404
    for path in ("/report", "/report/me"):
        page = web_session.get(path)
        assert page.status == 200
        assert len(page.body) < MAX_PAGE_BYTES


def test_every_page_is_light_enough_for_a_phone(story_site: Site, web_session: WebSession) -> None:
    sign_in(web_session, LEADER)
    for path in (
        "/report",
        "/report/heatmap",
        "/report/teams/support",
        "/report/comments",
        "/report/actions",
        "/report/me",
        "/report/static/report.css",
        "/report/static/sort.js",
    ):
        page = web_session.get(path)
        assert page.status == 200, path
        assert len(page.body) < MAX_PAGE_BYTES, (path, len(page.body))
