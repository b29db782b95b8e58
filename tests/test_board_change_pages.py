"""The change pages (/changes, /changes/<id>) through the real server and a real browser:
register a change as its department's owner, veto it as the quality manager, follow the
link to the issue the veto opened and back; refusals and who sees which forms.

The board home is shared by the session's board tests: these tests register their own
changes (and only act on those); the demo story's three changes are only read.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import DEMO_PASSWORD, login
from .qloop_cli import qloop

TIMEOUT = 15_000  # ms


def cli_change(home: Path, change_id: int) -> dict:
    result = qloop("change", str(change_id), "show", "--home", str(home))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def cli_changes(home: Path, *filters: str) -> list[dict]:
    result = qloop("changes", "list", "--json", "--home", str(home), *filters)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def choose(page, dropdown_id: str, *values: str) -> None:
    """Pick values in a Dash 4 dropdown (a button opening a listbox of options)."""
    for value in values:
        page.click(f"#{dropdown_id}")
        page.click(f"[role=option]:has(input[value='{value}'])")
        page.keyboard.press("Escape")


def relogin(page, base_url: str, user: str) -> None:
    page.goto(f"{base_url}/logout")
    login(page, base_url, user)


def wait_change_state(page, state: str) -> None:
    page.wait_for_selector(f"#change-state [data-state={state}]", timeout=TIMEOUT)


def buttons(page) -> list[str]:
    return page.locator("#change-actions .action-button").evaluate_all(
        "b => b.map(x => x.id)")


@pytest.fixture(scope="module")
def viewer(board_home) -> str:
    """A viewer of our own (test_board_auth may throttle demo_viewer's logins)."""
    name = "change_pages_viewer"
    if name not in {u["name"] for u in json.loads(qloop(
            "users", "list", "--json", "--home", str(board_home)).stdout)}:
        added = qloop("users", "add", name, "--role", "viewer", "--password-stdin",
                      "--home", str(board_home), input_text=DEMO_PASSWORD + "\n")
        assert added.returncode == 0, added.stderr
    return name


def register_on_the_board(page, base_url: str, title: str, department: str | None = None
                          ) -> int:
    """Register a K02+K03 x NJ change; `department` is chosen when the user may choose
    (a quality manager; a department owner's form has their department already)."""
    page.goto(f"{base_url}/changes")
    page.wait_for_selector("#change-register", timeout=TIMEOUT)
    page.fill("#register-title", title)
    choose(page, "register-type", "it_release")
    if department:
        choose(page, "register-department", department)
    page.fill("#register-launch-date", "2026-12-28")
    choose(page, "register-kpis", "K02", "K03")
    choose(page, "register-regions", "NJ")
    page.click("#change-action-register")
    page.wait_for_selector("#changes-message [data-kind=ok]", timeout=TIMEOUT)
    href = page.get_attribute("#registered-change-link", "href")
    return int(href.rsplit("/", 1)[1])


def test_register_veto_and_follow_the_linked_issue(page, board_url, board_home):
    login(page, board_url, "demo_hotline")
    change_id = register_on_the_board(page, board_url, "工单系统升级 ticket system upgrade")
    stored = cli_change(board_home, change_id)
    assert (stored["state"], stored["owner_department"], stored["registered_by"],
            stored["change_type"], stored["planned_launch_date"], stored["affects"]) == \
           ("registered", "HOTLINE", "demo_hotline", "it_release", "2026-12-28",
            ["K02:NJ", "K03:NJ"])
    # the new row is in the list the page re-rendered
    page.wait_for_selector(f"#changes-table tr[data-change='{change_id}']", timeout=TIMEOUT)

    page.click("#registered-change-link")
    wait_change_state(page, "registered")
    assert buttons(page) == ["change-action-cancel"]  # the test is the quality manager's
    scope = page.locator("#change-scope tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.scope)")
    assert scope == ["K02:NJ", "K03:NJ"]

    relogin(page, board_url, "demo_qm")
    page.goto(f"{board_url}/changes/{change_id}")
    wait_change_state(page, "registered")
    assert buttons(page) == ["change-action-test_pass", "change-action-test_veto",
                             "change-action-cancel"]
    page.fill("#change-veto-reason", "排队提示音过长 queue prompt too long")
    page.click("#change-action-test_veto")
    wait_change_state(page, "vetoed")
    assert page.get_attribute("#change-message [data-kind]", "data-kind") == "ok"
    assert page.get_attribute("#change-test-result", "data-result") == "veto"
    assert page.is_visible("#change-held")
    assert buttons(page) == ["change-action-cancel"]  # no launch while vetoed

    stored = cli_change(board_home, change_id)
    (issue,) = stored["issues"]
    assert stored["state"] == "vetoed" and issue["state"] == "open"
    assert [e["action"] for e in stored["events"]] == ["register", "test_veto"]
    link = page.locator(f"#change-issues [data-issue='{issue['id']}'] .change-issue-link")
    assert link.get_attribute("href") == f"/issues/{issue['id']}"
    link.click()
    page.wait_for_selector("#issue-body #issue-state [data-state=open]", timeout=TIMEOUT)
    assert page.get_attribute("#issue-change-link", "href") == f"/changes/{change_id}"
    page.click("#issue-change-link")
    wait_change_state(page, "vetoed")
    # the issue list names the change beside the veto issue's KPI
    page.goto(f"{board_url}/issues?department=HOTLINE")
    row = page.locator(f"#issues-table .ag-row[row-id='{issue['id']}']")
    row.wait_for(timeout=TIMEOUT)
    assert row.locator(".issue-change-link").get_attribute("href") == f"/changes/{change_id}"


def test_a_refused_action_shows_its_message_and_changes_nothing(page, board_url, board_home):
    login(page, board_url, "demo_qm")
    change_id = register_on_the_board(page, board_url, "话费账单改版 bill layout", "BILLING")
    before = cli_change(board_home, change_id)
    page.goto(f"{board_url}/changes/{change_id}")
    wait_change_state(page, "registered")
    page.click("#change-action-test_veto")  # no reason given
    page.wait_for_selector("#change-message [data-kind=refused]", timeout=TIMEOUT)
    assert "veto reason is required" in page.inner_text("#change-message")
    wait_change_state(page, "registered")
    assert cli_change(board_home, change_id) == before


def test_registration_refused_without_a_scope(page, board_url, board_home):
    login(page, board_url, "demo_qm")
    count = len(cli_changes(board_home))
    page.goto(f"{board_url}/changes")
    page.wait_for_selector("#change-register", timeout=TIMEOUT)
    page.fill("#register-title", "no scope")
    choose(page, "register-type", "tariff")
    choose(page, "register-department", "BILLING")
    page.click("#change-action-register")
    page.wait_for_selector("#changes-message [data-kind=refused]", timeout=TIMEOUT)
    assert "KPIs and regions" in page.inner_text("#changes-message")
    assert len(cli_changes(board_home)) == count


def test_viewer_reads_filters_and_gets_no_forms(page, board_url, board_home, viewer):
    login(page, board_url, viewer)
    page.click("#nav-nav_changes")
    page.wait_for_selector("#changes-table", timeout=TIMEOUT)
    assert page.locator("#change-register").count() == 0
    page.goto(f"{board_url}/changes?state=launched")
    page.wait_for_selector("#changes-table", timeout=TIMEOUT)
    shown = page.locator("#changes-table tbody tr").evaluate_all(
        "rows => rows.map(r => [r.dataset.change, r.dataset.state])")
    expected = [[str(c["id"]), "launched"] for c in cli_changes(board_home, "--state",
                                                                "launched")]
    assert shown == expected and expected  # the demo's launched change at least
    launched_id = int(expected[0][0])
    page.goto(f"{board_url}/changes/{launched_id}")
    wait_change_state(page, "launched")
    assert page.locator("#change-actions .action-button").count() == 0
    assert page.get_attribute("#change-post-evaluation", "href") == \
        f"/post-evaluation?change={launched_id}"


def test_acting_on_a_stale_page_shows_the_conflict(page, board_url, board_home):
    login(page, board_url, "demo_qm")
    change_id = register_on_the_board(page, board_url, "宽带提速割接 speed cutover", "NETWORK")
    page.goto(f"{board_url}/changes/{change_id}")
    wait_change_state(page, "registered")
    # meanwhile someone passes the test from the command line
    passed = qloop("change", str(change_id), "test", "--pass", "--user", "demo_qm",
                   "--home", str(board_home))
    assert passed.returncode == 0, passed.stderr
    page.fill("#change-veto-reason", "stale page")
    page.click("#change-action-test_veto")
    page.wait_for_selector("#change-message [data-kind=conflict]", timeout=TIMEOUT)
    assert "you acted on version 1" in page.inner_text("#change-message")
    stored = cli_change(board_home, change_id)
    assert (stored["state"], stored["version"], stored["issues"]) == ("passed", 2, [])
    page.click("#change-reload")
    wait_change_state(page, "passed")
    assert buttons(page) == ["change-action-launch", "change-action-cancel"]
