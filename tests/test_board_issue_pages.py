"""The board's issue pages through the real server and a real browser: the issue list and
its filters, one issue's page with its action forms, the department closure list and its
downloads, and the server refusing what the page does not offer.

The board home is shared by the session's board tests: these tests pick their issues by
state (via the CLI) at run time, change only the issues they pick, and never cancel any.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import openpyxl
import pytest
import requests

from dagster_project.lib.publish import board_path
from dagster_project.lib.remediation.closure_list import FIRST_DATA_ROW
from dagster_project.lib.remediation.loop import workflow_session
from dagster_project.lib.remediation.schema import ACTIVE_STATES
from dagster_project.lib.remediation.workflow import Signal
from dagster_project.lib.settings import Settings

from .board_grid import (all_rows, drawn_count, drawn_ids, headers, wait_grid,
                         wait_rows)
from .conftest import DEMO_PASSWORD, login
from .qloop_cli import qloop, served_board

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
TIMEOUT = 15_000  # ms, for the browser waits


# -- helpers ---------------------------------------------------------------------------------

def cli_issues(home: Path, *filters: str) -> list[dict]:
    result = qloop("issues", "list", "--json", "--home", str(home), *filters)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def cli_issue(home: Path, issue_id: int) -> dict:
    result = qloop("issue", str(issue_id), "show", "--home", str(home))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def published(home: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(board_path(home)), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def owner_of(issue: dict) -> str:
    return f"demo_{issue['owner_department'].lower()}"


def pick(home: Path, state: str, skip_departments: tuple[str, ...] = ()) -> dict:
    """The first issue in `state` whose department is not skipped."""
    found = [i for i in cli_issues(home, "--state", state)
             if i["owner_department"] not in skip_departments]
    assert found, f"no {state} issue outside {skip_departments}"
    return found[0]


def open_issue(page, base_url: str, issue_id: int) -> None:
    page.goto(f"{base_url}/issues/{issue_id}")
    page.wait_for_selector("#issue-body #issue-state", timeout=TIMEOUT)


def wait_state(page, state: str) -> None:
    page.wait_for_selector(f"#issue-state [data-state={state}]", timeout=TIMEOUT)


def choose(page, dropdown_id: str, value: str) -> None:
    """Pick a value in a Dash 4 dropdown (a button opening a listbox of radio options)."""
    page.click(f"#{dropdown_id}")
    page.click(f"[role=option]:has(input[value='{value}'])")


def relogin(page, base_url: str, user: str) -> None:
    page.goto(f"{base_url}/logout")
    login(page, base_url, user)


def closure_ids(home: Path, department: str) -> set[int]:
    """What the closure list must hold: active issues, and those closed or cancelled in the
    last 30 days (the workflow's clock is Asia/Shanghai local time)."""
    since = datetime.now(LOCAL_TZ).replace(tzinfo=None) - timedelta(days=30)
    ids = set()
    for issue in cli_issues(home, "--department", department):
        ended = issue["closed_at"] or issue["cancelled_at"]
        if issue["state"] in ACTIVE_STATES or (ended and datetime.fromisoformat(ended) >= since):
            ids.add(issue["id"])
    return ids


@pytest.fixture(scope="module")
def viewer(board_home) -> str:
    """A viewer of our own: test_board_auth throttles demo_viewer's logins (five wrong
    passwords) for 15 minutes of the shared session."""
    name = "issue_pages_viewer"
    if name not in {u["name"] for u in json.loads(qloop(
            "users", "list", "--json", "--home", str(board_home)).stdout)}:
        added = qloop("users", "add", name, "--role", "viewer", "--password-stdin",
                      "--home", str(board_home), input_text=DEMO_PASSWORD + "\n")
        assert added.returncode == 0, added.stderr
    return name


# -- the list ---------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["quality_manager", "viewer", "department_owner"])
def test_every_role_opens_the_list_an_issue_and_the_department(page, board_url, board_home,
                                                               viewer, role):
    user = {"quality_manager": "demo_qm", "viewer": viewer,
            "department_owner": "demo_field"}[role]
    login(page, board_url, user)
    page.goto(f"{board_url}/issues")
    page.wait_for_selector("#issues-count", timeout=TIMEOUT)
    wait_grid(page, "issues-table")
    expected = cli_issues(board_home)
    assert page.get_attribute("#issues-count", "data-count") == str(len(expected))
    assert [r["issue_id"] for r in all_rows(page, "issues-table")] == [i["id"] for i in expected]
    assert drawn_count(page, "issues-table") == min(len(expected), 100)

    first = expected[0]
    page.click(f"#issues-table .ag-row[row-id='{first['id']}'] a.issue-link")
    page.wait_for_selector("#issue-title", timeout=TIMEOUT)
    assert page.url.endswith(f"/issues/{first['id']}")
    assert first["kpi_code"] in page.inner_text("#issue-title")
    page.wait_for_selector("#issue-chart .main-svg", timeout=TIMEOUT)
    assert page.locator("#events-table tbody tr").count() == len(
        cli_issue(board_home, first["id"])["events"])
    assert page.locator("#evidence-table tbody tr").count() >= 1

    page.goto(f"{board_url}/department")
    page.wait_for_selector("#department-picker", timeout=TIMEOUT)
    if user == "demo_field":  # a department owner lands on their own department
        assert page.get_attribute("#department-title", "data-department") == "FIELD"
    else:  # everyone else picks one
        assert page.locator("#closure-table").count() == 0
        page.click("#dept-link-FIELD")
        page.wait_for_selector("#department-title[data-department=FIELD]", timeout=TIMEOUT)
    wait_grid(page, "closure-table")
    shown = {r["issue_id"] for r in all_rows(page, "closure-table")}
    assert shown == closure_ids(board_home, "FIELD")


def shown_ids(page) -> list[int]:
    return [r["issue_id"] for r in all_rows(page, "issues-table")]


def wait_count(page, n: int) -> None:
    """The count above the grid and the grid itself show n issues."""
    page.wait_for_selector(f"#issues-count[data-count='{n}']", timeout=TIMEOUT)
    wait_rows(page, "issues-table", n)


def test_issue_list_filters(page, board_url, board_home):
    login(page, board_url, "demo_qm")
    # as query parameters
    page.goto(f"{board_url}/issues?state=open")
    page.wait_for_selector("#issues-count", timeout=TIMEOUT)
    wait_grid(page, "issues-table")
    open_issues = cli_issues(board_home, "--state", "open")
    assert page.get_attribute("#issues-count", "data-count") == str(len(open_issues))
    assert {r["state_code"] for r in all_rows(page, "issues-table")} == {"open"}
    assert page.locator("#issues-table .ag-row [data-state]").evaluate_all(
        "badges => [...new Set(badges.map(b => b.dataset.state))]") == ["open"]

    # as controls: add the department; the address follows, so the view is a link
    expected = cli_issues(board_home, "--state", "open", "--department", "FIELD")
    choose(page, "issues-filter-department", "FIELD")
    wait_count(page, len(expected))
    assert shown_ids(page) == [i["id"] for i in expected]
    page.wait_for_function("() => location.search.includes('department=FIELD')")
    assert page.url == f"{board_url}/issues?state=open&department=FIELD"
    page.goto(page.url)
    wait_count(page, len(expected))
    assert shown_ids(page) == [i["id"] for i in expected]

    # overdue only (query parameter, then the checkbox off again)
    overdue = cli_issues(board_home, "--overdue")
    page.goto(f"{board_url}/issues?overdue=1")
    wait_count(page, len(overdue))
    assert page.locator("#issues-table .ag-row.overdue").count() == min(len(overdue), 100)
    page.locator("#issues-filter-overdue input[type=checkbox]").uncheck()
    everything = cli_issues(board_home)
    wait_count(page, len(everything))
    page.wait_for_function("() => location.search === ''")
    # every overdue row of the full list is highlighted, and only those
    flagged = [r["issue_id"] for r in all_rows(page, "issues-table") if r["overdue"]]
    assert flagged == [i["id"] for i in overdue]
    on_page = set(drawn_ids(page, "issues-table"))
    highlighted = page.locator("#issues-table .ag-center-cols-container .ag-row.overdue"
                               ).evaluate_all("rows => rows.map(r => r.getAttribute('row-id'))")
    assert set(highlighted) == {str(i["id"]) for i in overdue if str(i["id"]) in on_page}


def _counts(page, kind: str) -> dict[str, int]:
    return dict(page.locator(f"#issues-by-{kind} .count-chip[data-{kind}]").evaluate_all(
        f"chips => chips.map(c => [c.dataset.{kind}, Number(c.dataset.count)])"))


def test_a_filtered_link_shows_exactly_the_cli_subset(page, board_url, board_home):
    login(page, board_url, "demo_qm")
    # the link of the issue: every filter at once, on the values of an existing issue
    some = cli_issues(board_home, "--severity", "P2")[-1]
    flags = {"kpi": some["kpi_code"], "state": some["state"], "severity": "P2",
             "department": some["owner_department"], "region": some["region_code"]}
    links = [flags, {"kpi": "K02", "state": "open", "severity": "P1", "department": "FIELD",
                     "region": "NJ"}, {"severity": "P2", "overdue": "1"}]
    assert cli_issues(board_home, *(a for k, v in flags.items() for a in (f"--{k}", v)))
    for query in links:
        cli = [a for name, value in query.items()
               for a in ((f"--{name}",) if name == "overdue" else (f"--{name}", value))]
        expected = cli_issues(board_home, *cli)
        page.goto(f"{board_url}/issues?" + "&".join(f"{k}={v}" for k, v in query.items()))
        wait_count(page, len(expected))
        assert shown_ids(page) == [i["id"] for i in expected], query
        # counts by state and by severity, of the filtered set, above the grid
        states, severities = {}, {}
        for issue in expected:
            states[issue["state"]] = states.get(issue["state"], 0) + 1
            severities[issue["severity"]] = severities.get(issue["severity"], 0) + 1
        assert _counts(page, "state") == states, query
        assert _counts(page, "severity") == severities, query
        for name in ("kpi", "state", "severity", "department", "region"):
            value = query.get(name)
            shown = page.inner_text(f"#issues-filter-{name}")
            assert (value in shown) if value and name != "state" else True, (name, shown)

    # values the page does not offer are ignored: the whole list
    page.goto(f"{board_url}/issues?kpi=K99&state=bogus&severity=P9&department=NOPE&region=ZZ")
    wait_count(page, len(cli_issues(board_home)))


@pytest.fixture(scope="module")
def crowded_board(board_home, tmp_path_factory):
    """A copy of the board's home with a red day for every KPI and region that has no
    active issue, opened by the detection service, served apart: the sample alone opens
    fewer issues than one page of the grid holds."""
    home = tmp_path_factory.mktemp("crowded-board") / "home"
    shutil.copytree(board_home, home, ignore=shutil.ignore_patterns("*.wal", "*.lock"))
    (as_of_date,), = published(home, "select as_of_date from dim_as_of")
    active = {(i["kpi_code"], i["region_code"]) for i in cli_issues(home)
              if i["state"] in ACTIVE_STATES}
    signals = [Signal(kpi, region, "R1", "P2", "day", as_of_date - timedelta(days=1))
               for kpi, in published(home, "select kpi_code from dim_kpi")
               for region in ["JS", *(c for c, in published(home, "select city_code "
                                                                  "from dim_cities"))]
               if (kpi, region) not in active]
    with workflow_session(Settings(home=home, inbox=home / "inbox")) as workflow:
        outcome = workflow.apply_signals(signals, datetime.combine(as_of_date,
                                                                   datetime.min.time()))
    assert len(outcome.opened) == len(signals)
    with served_board(home) as url:
        yield home, url


def test_the_grid_sorts_pages_and_exports_the_filtered_rows(page, crowded_board, tmp_path):
    board_home, board_url = crowded_board
    login(page, board_url, "demo_qm")
    everything = cli_issues(board_home)
    assert len(everything) > 100, "more issues than one page"
    page.goto(f"{board_url}/issues")
    wait_grid(page, "issues-table")
    # pages of at most 100 rows; the next page shows the rest
    ids = [str(i["id"]) for i in everything]
    assert drawn_ids(page, "issues-table") == ids[:100]
    page.click("#issues-table .ag-paging-button:has(.ag-icon-next)")
    page.wait_for_function("first => !document.querySelector("
                           "`#issues-table .ag-row[row-id='${first}']`)", arg=ids[0])
    assert drawn_ids(page, "issues-table") == ids[100:200]

    # sorting: by id descending (the second click on its header)
    page.goto(f"{board_url}/issues")
    wait_grid(page, "issues-table")
    label = "#issues-table .ag-header-cell[col-id=issue_id] .ag-header-cell-label"
    page.click(label)
    page.click(label)
    page.wait_for_function("last => document.querySelector(\"#issues-table "
                           ".ag-row[row-index='0']\").getAttribute('row-id') === last",
                           arg=ids[-1])
    assert drawn_ids(page, "issues-table") == list(reversed(ids))[:100]

    # the export: the grid's filtered rows (here the overdue ones), formulas neutralised
    overdue = cli_issues(board_home, "--overdue")
    page.goto(f"{board_url}/issues?overdue=1")
    wait_count(page, len(overdue))
    page.evaluate("""async () => {
        const api = await dash_ag_grid.getApiAsync({type: "grid", grid: "issues-table"});
        api.applyTransaction({add: [{issue_id: 999999, kpi: '=HYPERLINK("http://x")',
                                     responsible: '-1+2', days_overdue: -3, overdue: true}]});
    }""")
    with page.expect_download() as info:
        page.click("#issues-table .grid-export")
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    assert target.name == "issues.csv"
    lines = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8-sig"))))
    assert lines[0][:3] == ["编号", "指标", "区域"]
    exported = {int(line[0]): line for line in lines[1:]}
    assert set(exported) == {i["id"] for i in overdue} | {999999}
    forged = dict(zip(lines[0], exported[999999]))
    assert forged["指标"] == '\'=HYPERLINK("http://x")'
    assert forged["责任人"] == "'-1+2" and forged["逾期天数"] == "-3"


def test_headers_in_english_after_switching(page, board_url, board_home):
    login(page, board_url, "demo_qm")
    page.goto(f"{board_url}/issues")
    wait_grid(page, "issues-table")
    assert headers(page, "issues-table")[:5] == ["编号", "指标", "区域", "严重程度", "状态"]
    page.click("#switch-language")
    page.wait_for_selector("#scorecard", timeout=TIMEOUT)
    page.goto(f"{board_url}/issues")
    wait_grid(page, "issues-table")
    assert headers(page, "issues-table") == [
        "ID", "KPI", "Region", "Severity", "State", "Owner department", "Opened",
        "Current deadline", "Days overdue", "Escalation", "Responsible", "Change"]
    # the column choice: hide one, the grid draws the rest
    page.click("#issues-table .grid-columns summary")
    page.click("#issues-table .grid-column-list input[value='responsible']")
    page.wait_for_function("() => !document.querySelector("
                           "'#issues-table .ag-header-cell[col-id=responsible]')")
    assert "Responsible" not in headers(page, "issues-table")
    page.goto(f"{board_url}/department/FIELD")
    wait_grid(page, "closure-table")
    assert headers(page, "closure-table")[:3] == ["ID", "KPI", "Region"]


# -- one issue's whole life -------------------------------------------------------------------

def verifiable_open_issue(home: Path) -> tuple[dict, str]:
    """An open issue of a daily KPI, and the latest fix date at least 10 days back after
    which its first 7 complete days with a value are all green, so `qloop issues verify`
    will verify it."""
    (as_of_date, report_date), = published(home, "select as_of_date, report_date from dim_as_of")
    daily = {code for code, in published(home, "select kpi_code from dim_kpi "
                                                "where grain = 'day' and kpi_code <> 'K04'")}
    for issue in cli_issues(home, "--state", "open"):
        if issue["kpi_code"] not in daily:
            continue
        days = published(home, """
            select period_start, scope_status from fct_kpi_values
            where period_type = 'day' and kpi_code = ? and region_code = ?
              and period_start <= ? and scope_status <> 'no_data'
            order by period_start""", [issue["kpi_code"], issue["region_code"], report_date])
        for back in range(10, 61):
            fix_date = as_of_date - timedelta(days=back)
            statuses = [status for day, status in days if day > fix_date]
            if len(statuses) >= 7 and set(statuses[:7]) == {"green"}:
                return issue, fix_date.isoformat()
    pytest.fail("no open issue whose KPI held green for 7 days after the fix date")


def test_an_open_issue_through_its_whole_life(page, board_url, board_home):
    issue, fix_date = verifiable_open_issue(board_home)
    issue_id, owner = issue["id"], owner_of(issue)
    events_before = len(cli_issue(board_home, issue_id)["events"])

    login(page, board_url, owner)
    open_issue(page, board_url, issue_id)
    wait_state(page, "open")
    page.fill("#ack-responsible", "李娜 Li Na")
    page.click("#action-acknowledge")
    wait_state(page, "acknowledged")
    assert page.get_attribute("#issue-message [data-kind]", "data-kind") == "ok"
    assert page.inner_text("#field-col_responsible") == "李娜 Li Na"

    choose(page, "plan-category", "staffing")
    page.fill("#plan-root-cause", "晚班人手不足 evening shift understaffed")
    page.fill("#plan-actions", "增加晚班 add an evening shift")
    page.click("#action-plan")
    wait_state(page, "in_progress")

    page.fill("#fix-date", fix_date)
    page.fill("#fix-note", "晚班已增加 evening shift added")
    page.click("#action-claim_fix")
    wait_state(page, "verifying")
    assert page.inner_text("#field-fix_date") == fix_date
    assert page.inner_text("#field-verification_progress") == "0/7"
    assert page.locator(".action-button").evaluate_all("b => b.map(x => x.id)") == [
        "action-comment"]  # nothing else is the owner's to do while the system verifies

    verify = qloop("issues", "verify", "--home", str(board_home))
    assert verify.returncode == 0, verify.stderr
    assert cli_issue(board_home, issue_id)["state"] == "verified", verify.stdout

    relogin(page, board_url, "demo_qm")
    open_issue(page, board_url, issue_id)
    wait_state(page, "verified")
    page.fill("#signoff-comment", "连续7天达标，同意销项 held 7 days")
    page.click("#action-sign_off")
    wait_state(page, "closed")
    assert page.inner_text("#field-closed_at") != "—"

    events = cli_issue(board_home, issue_id)["events"][events_before:]
    assert [(e["action"], e["actor"], e["from_state"], e["to_state"]) for e in events] == [
        ("acknowledge", owner, "open", "acknowledged"),
        ("plan", owner, "acknowledged", "in_progress"),
        ("claim_fix", owner, "in_progress", "verifying"),
        ("verify", "system", "verifying", "verified"),
        ("sign_off", "demo_qm", "verified", "closed"),
    ]
    shown = page.locator("#events-table tbody tr").evaluate_all(
        "rows => rows.map(r => [r.dataset.action, r.dataset.actor])")
    assert shown[events_before:] == [[e["action"], e["actor"]] for e in events]
    assert cli_issue(board_home, issue_id)["state"] == "closed"


# -- who sees which buttons, and the server refusing anyway ------------------------------------

def test_viewer_and_other_departments_get_no_action_buttons(page, board_url, board_home,
                                                            viewer):
    issue = pick(board_home, "acknowledged", skip_departments=("FIELD",))
    for user, buttons in ((viewer, []), ("demo_field", []),
                          (owner_of(issue), ["action-plan", "action-comment"]),
                          ("demo_qm", ["action-cancel", "action-comment"])):
        relogin(page, board_url, user)
        open_issue(page, board_url, issue["id"])
        shown = page.locator("#issue-body button.action-button").evaluate_all(
            "b => b.map(x => x.id)")
        assert shown == buttons, user
        if not buttons:
            assert page.locator("#issue-actions .muted").count() == 1


def test_the_server_refuses_a_plan_posted_by_the_viewer(board_url, board_home, viewer):
    issue = pick(board_home, "acknowledged", skip_departments=("FIELD",))
    session = requests.Session()
    assert session.post(f"{board_url}/login", data={"username": viewer,
                                                    "password": DEMO_PASSWORD},
                        allow_redirects=False, timeout=10).status_code == 302
    dependencies = session.get(f"{board_url}/_dash-dependencies", timeout=10).json()
    plan = next(d for d in dependencies
                if d["inputs"] == [{"id": "action-plan", "property": "n_clicks"}])
    outputs = [dict(zip(("id", "property"), part.rsplit(".", 1)))
               for part in plan["output"].strip(".").split("...")]
    values = {"plan-category": "process", "plan-root-cause": "viewer was here",
              "plan-actions": "none", "plan-target-date": "2099-01-01",
              "issue-id": issue["id"], "issue-version": issue["version"]}
    response = session.post(f"{board_url}/_dash-update-component", timeout=10, json={
        "output": plan["output"], "outputs": outputs,
        "inputs": [{"id": "action-plan", "property": "n_clicks", "value": 1}],
        "state": [{**s, "value": values[s["id"]]} for s in plan["state"]],
        "changedPropIds": ["action-plan.n_clicks"]})
    assert response.status_code == 200
    answer = response.json()["response"]
    assert "issue-body" not in answer  # nothing re-rendered: nothing changed
    message = answer["issue-message"]["children"]["props"]
    assert message["data-kind"] == "refused"
    assert f"{viewer} is a viewer" in message["children"]
    after = cli_issue(board_home, issue["id"])
    assert {k: after[k] for k in issue if k not in ("days_open", "overdue", "days_overdue",
                                                    "escalation_level")} == {
        k: v for k, v in issue.items() if k not in ("days_open", "overdue", "days_overdue",
                                                    "escalation_level")}
    # and anonymous callbacks never reach the workflow
    assert requests.post(f"{board_url}/_dash-update-component", json={}, timeout=10
                         ).status_code == 401


def test_acting_on_a_stale_version_shows_the_conflict(page, browser, board_url, board_home):
    issue = pick(board_home, "acknowledged", skip_departments=("FIELD",))
    issues_of_dept = [i for i in cli_issues(board_home, "--state", "acknowledged")
                      if i["owner_department"] == issue["owner_department"]]
    issue = issues_of_dept[-1]  # not the one the other tests use
    login(page, board_url, "demo_qm")
    other = browser.new_context(viewport={"width": 1400, "height": 900})
    owner_page = other.new_page()
    errors: list[str] = []
    owner_page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        login(owner_page, board_url, owner_of(issue))
        open_issue(page, board_url, issue["id"])
        open_issue(owner_page, board_url, issue["id"])

        page.fill("#comment-text", "请先确认根因 please confirm the root cause first")
        page.click("#action-comment")
        page.wait_for_selector("#issue-message [data-kind=ok]", timeout=TIMEOUT)
        assert page.locator("#events-table tr[data-action=comment]").count() >= 1

        choose(owner_page, "plan-category", "process")
        owner_page.fill("#plan-root-cause", "stale")
        owner_page.fill("#plan-actions", "stale")
        owner_page.click("#action-plan")
        owner_page.wait_for_selector("#issue-message [data-kind=conflict]", timeout=TIMEOUT)
        text = owner_page.inner_text("#issue-message")
        assert "重新加载" in text and "demo_qm" in text
        wait_state(owner_page, "acknowledged")  # the page still shows what it had
        owner_page.click("#issue-reload")
        owner_page.wait_for_selector("#events-table tr[data-action=comment]", timeout=TIMEOUT)
        assert errors == []
    finally:
        other.close()
    after = cli_issue(board_home, issue["id"])
    assert after["state"] == "acknowledged"
    assert after["events"][-1]["action"] == "comment"
    assert after["events"][-1]["actor"] == "demo_qm"


def test_a_refused_action_shows_its_message_and_changes_nothing(page, board_url, board_home):
    issue = pick(board_home, "acknowledged", skip_departments=("FIELD",))
    login(page, board_url, owner_of(issue))
    open_issue(page, board_url, issue["id"])
    page.click("#action-plan")  # no category, no text: the workflow refuses
    page.wait_for_selector("#issue-message [data-kind=refused]", timeout=TIMEOUT)
    assert "root-cause category" in page.inner_text("#issue-message")
    wait_state(page, "acknowledged")
    now = cli_issue(board_home, issue["id"])
    assert (now["state"], now["version"]) == ("acknowledged", issue["version"])


# -- the closure list downloads -----------------------------------------------------------------

def test_closure_list_downloads(page, board_url, board_home, viewer, tmp_path):
    login(page, board_url, "demo_field")
    page.goto(f"{board_url}/department")
    page.wait_for_selector("#download-xlsx", timeout=TIMEOUT)
    today = datetime.now(LOCAL_TZ)
    with page.expect_download() as info:
        page.click("#download-xlsx")
    download = info.value
    assert download.suggested_filename == f"closure_list_FIELD_{today:%Y%m%d}.xlsx"
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    sheet = openpyxl.load_workbook(target).active
    ids = {sheet.cell(row, 1).value for row in range(FIRST_DATA_ROW, sheet.max_row + 1)}
    assert ids == closure_ids(board_home, "FIELD")
    assert int(page.get_attribute("#closure-summary", "data-count")) == len(ids)

    session = requests.Session()
    session.post(f"{board_url}/login", data={"username": viewer,
                                                "password": DEMO_PASSWORD}, timeout=10)
    csv = session.get(f"{board_url}/download/closure-list/FIELD.csv", timeout=30)
    assert csv.status_code == 200 and csv.headers["Content-Type"].startswith("text/csv")
    assert (f"filename=closure_list_FIELD_{today:%Y%m%d}.csv"
            in csv.headers["Content-Disposition"])
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("issue_id,kpi_code,")
    assert {int(line.split(",")[0]) for line in lines[1:]} == closure_ids(board_home, "FIELD")
    xlsx = session.get(f"{board_url}/download/closure-list/HOTLINE.xlsx", timeout=30)
    assert xlsx.headers["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert openpyxl.load_workbook(io.BytesIO(xlsx.content)).active.title == "销项清单"
    for path in ("/download/closure-list/NOPE.xlsx", "/download/closure-list/field.csv",
                 "/download/closure-list/FIELD.pdf"):
        assert session.get(f"{board_url}{path}", timeout=10).status_code == 404, path
    anonymous = requests.get(f"{board_url}/download/closure-list/FIELD.xlsx", timeout=10,
                             allow_redirects=False, headers={"Accept": "application/json"})
    assert anonymous.status_code == 401
    browser_like = requests.get(f"{board_url}/download/closure-list/FIELD.xlsx", timeout=10,
                                allow_redirects=False, headers={"Accept": "text/html"})
    assert browser_like.status_code == 302 and "/login?next=" in browser_like.headers["Location"]
