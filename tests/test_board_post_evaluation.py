"""The post-evaluation page (变更后评估) through the real server and a real browser, on the
post-evaluation story (tests/post_evaluation_scenario.py: the KPI fixture run for real,
changes launched, verdicts acted on and published): one row per change x KPI x region with
both windows, difference, p-value, coloured verdict, the link to the opened issue; filters
by department and verdict; both languages."""

from __future__ import annotations

import pytest
import requests

from .conftest import login
from .post_evaluation_scenario import PASSWORD
from .qloop_cli import served_board

TIMEOUT = 15_000  # ms
RED, GREEN = "rgb(215, 48, 39)", "rgb(26, 152, 80)"


@pytest.fixture(scope="module")
def story_board(post_evaluation_story):
    """`qloop board` on the story's home, on a free port, stopped after the module."""
    with served_board(post_evaluation_story.home) as url:
        yield url


def row(page, change: int, kpi: str, region: str):
    return page.locator(f"#post-evaluation-table tr[data-change='{change}']"
                        f"[data-kpi='{kpi}'][data-region='{region}']")


def wait_count(page, n: int) -> None:
    page.wait_for_selector(f"#post-evaluation-count[data-count='{n}']", timeout=TIMEOUT)


def choose(page, dropdown_id: str, value: str) -> None:
    """Pick a value in a Dash 4 dropdown (a button opening a listbox of radio options)."""
    page.click(f"#{dropdown_id}")
    page.click(f"[role=option]:has(input[value='{value}'])")


def test_rows_windows_verdict_colours_and_issue_link(page, story_board, post_evaluation_story):
    login(page, story_board, "qm", PASSWORD)
    page.click("#nav-nav_post_evaluation")
    wait_count(page, 7)  # change 4 was never launched
    assert page.locator("#post-evaluation-table tbody tr").count() == 7

    k02 = row(page, 1, "K02", "NJ")
    cells = k02.locator("td")
    assert "66.7%" in cells.nth(5).inner_text() and "(2/3)" in cells.nth(5).inner_text()
    assert "2026-10-01 – 2026-10-01" in cells.nth(5).inner_text()
    assert "0.0%" in cells.nth(6).inner_text() and "(0/2)" in cells.nth(6).inner_text()
    assert "2026-10-03 – 2026-10-03" in cells.nth(6).inner_text()
    assert cells.nth(7).inner_text() == "-66.7 pp"
    assert cells.nth(8).inner_text() == "0.1360"
    badge = k02.locator(".verdict")
    assert badge.inner_text() == "变差"
    assert badge.evaluate("e => getComputedStyle(e).backgroundColor") == RED

    k06 = row(page, 2, "K06", "NJ")
    assert "93.00" in k06.locator("td").nth(5).inner_text()
    assert k06.locator("td").nth(7).inner_text() == "-77.50 (×0.17)"
    assert k06.locator(".verdict").evaluate("e => getComputedStyle(e).backgroundColor") == GREEN
    assert k06.locator("a.issue-link").count() == 0  # improved: no issue
    assert row(page, 1, "K04", "NJ").get_attribute("data-verdict") == "pending"

    opened = post_evaluation_story.first.detection.opened[0]
    link = k02.locator("a.issue-link")
    assert link.get_attribute("href") == f"/issues/{opened}"
    link.click()
    page.wait_for_selector("#issue-title", timeout=TIMEOUT)
    assert page.url.endswith(f"/issues/{opened}")


def test_filters_by_department_and_verdict(page, story_board):
    login(page, story_board, "qm", PASSWORD)
    page.goto(f"{story_board}/post-evaluation")
    wait_count(page, 7)
    choose(page, "post-evaluation-department", "SERVICE")
    wait_count(page, 3)
    choose(page, "post-evaluation-verdict", "improved")
    wait_count(page, 2)
    assert {r.get_attribute("data-region") for r in
            page.locator("#post-evaluation-table tbody tr").all()} == {"NJ", "JS"}
    # the filters are query parameters too; an unknown value is ignored
    page.goto(f"{story_board}/post-evaluation?verdict=pending")
    wait_count(page, 2)
    page.goto(f"{story_board}/post-evaluation?verdict=worse&department=HOTLINE")
    wait_count(page, 2)
    page.goto(f"{story_board}/post-evaluation?department=NOPE")
    wait_count(page, 7)
    page.goto(f"{story_board}/post-evaluation?verdict=worse&department=BILLING")
    page.wait_for_selector(".empty-state", timeout=TIMEOUT)


def test_the_change_pages_link_shows_that_changes_rows_only(page, story_board):
    # /changes/<id> links to /post-evaluation?change=<id>
    login(page, story_board, "qm", PASSWORD)
    page.goto(f"{story_board}/post-evaluation")
    wait_count(page, 7)
    changes = [r.get_attribute("data-change") for r in
               page.locator("#post-evaluation-table tbody tr").all()]
    first = changes[0]
    assert 0 < changes.count(first) < 7
    page.goto(f"{story_board}/post-evaluation?change={first}")
    wait_count(page, changes.count(first))
    assert {r.get_attribute("data-change") for r in
            page.locator("#post-evaluation-table tbody tr").all()} == {first}
    choose(page, "post-evaluation-verdict", "pending")  # the filters keep the change
    page.wait_for_timeout(500)
    assert {r.get_attribute("data-change") for r in
            page.locator("#post-evaluation-table tbody tr").all()} <= {first}


def test_english_labels(page, story_board):
    login(page, story_board, "qm", PASSWORD)
    page.goto(f"{story_board}/lang/en")
    page.goto(f"{story_board}/post-evaluation")
    wait_count(page, 7)
    assert page.inner_text("h2") == "Post-evaluation"
    assert page.inner_text("#nav-nav_post_evaluation") == "Post-evaluation"
    assert row(page, 1, "K02", "NJ").locator(".verdict").inner_text() == "Worse"
    assert row(page, 2, "K05", "WX").locator(".verdict").inner_text() == "No data"
    assert "launch day is in neither" in page.inner_text("#post-evaluation-note")


def test_anonymous_visitor_is_sent_to_the_login_form(story_board):
    response = requests.get(f"{story_board}/post-evaluation", headers={"Accept": "text/html"},
                            allow_redirects=False, timeout=10)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login?next=/post-evaluation")
