"""Satisfaction post-evaluation of a closed issue through the real pipeline.

On a copy of the sample home: an issue of a KPI and city that detection left alone is opened
on 2026-10-01 09:00 and taken to closed through the `Workflow` service (owner acknowledges,
plans and claims the fix of 10-01; verification against the warehouse's real statuses finds
seven green days 10-02..10-08; the quality manager signs off on 10-09 10:00). `qloop run`
then copies it into the warehouse and dbt evaluates it. The sample's T is 2026-11-09, so
the windows are, by the bounds of docs/decisions.md:
    before = 2026-09-01 .. 2026-09-30 (the 30 days before the opening day 10-01)
    after  = 2026-10-10 .. 2026-11-08 (the 30 days after the closing day 10-09; complete,
             since 11-08 is the last day before T)
The expected counts are taken straight from the accepted surveys (int_surveys) with these
dates written out by hand, not through the K05 records the mart reads.
"""

from __future__ import annotations

import csv
import io
import shutil
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest
from openpyxl import load_workbook

from dagster_project.lib.remediation.closure_list import COLUMN_KEYS, FIRST_DATA_ROW
from dagster_project.lib.remediation.loop import verify_fixes, write_closure_lists
from dagster_project.lib.remediation.reference import kpi_catalog
from dagster_project.lib.remediation.rules import DEPARTMENT_OWNER, QUALITY_MANAGER, LoopSettings
from dagster_project.lib.remediation.store import open_store
from dagster_project.lib.remediation.workflow import Signal, Workflow, local_now
from dagster_project.lib.settings import DEMO_TARGET_OVERRIDES, Settings
from dagster_project.lib.warehouse import connect

from .qloop_cli import SAMPLE, qloop_run

BEFORE = (date(2026, 9, 1), date(2026, 9, 30))
AFTER = (date(2026, 10, 10), date(2026, 11, 8))
OPENED = datetime(2026, 10, 1, 9, 0)
CLOSED = datetime(2026, 10, 9, 10, 0)
# the KPIs whose survey contact type is one, in seed order (K01 store, K02-K04 hotline, ...)
SINGLE_TYPE = {"K01": "store", "K02": "hotline", "K03": "hotline", "K04": "hotline",
               "K06": "complaint", "K07": "complaint", "K08": "complaint", "K11": "install",
               "K12": "repair", "K14": "repair"}


# -- the mapping and the asset graph (no pipeline run) --------------------------------------

SEED = Path(__file__).resolve().parents[1] / "dbt" / "seeds" / "kpi_survey_contact_types.csv"


def test_every_kpi_of_the_catalog_concerns_some_surveys():
    with open(SEED, encoding="utf-8", newline="") as handle:
        pairs = [(r["kpi_code"], r["contact_type"]) for r in csv.DictReader(handle)]
    assert {kpi for kpi, _ in pairs} == set(kpi_catalog())
    assert {ct for _, ct in pairs} == {"hotline", "store", "install", "repair", "complaint"}
    single = {kpi: [ct for k, ct in pairs if k == kpi] for kpi in SINGLE_TYPE}
    assert single == {kpi: [ct] for kpi, ct in SINGLE_TYPE.items()}
    assert sorted(ct for k, ct in pairs if k == "K05") == [
        "complaint", "hotline", "install", "repair", "store"]


def test_closure_lists_run_after_the_evaluation_and_the_board_gets_it():
    import dagster as dg

    from dagster_project.definitions import defs
    from dagster_project.lib.publish import BOARD_TABLES

    graph = defs.resolve_asset_graph()
    parents = {k.to_user_string() for k in graph.get(dg.AssetKey("closure_lists")).parent_keys}
    assert {"rem_issues", "fct_issue_satisfaction_evaluation"} <= parents
    mart = graph.get(dg.AssetKey("fct_issue_satisfaction_evaluation"))
    assert "stg_remediation__issues" in {k.to_user_string() for k in mart.parent_keys}
    assert "fct_issue_satisfaction_evaluation" in {
        k.to_user_string() for k in graph.get(dg.AssetKey("fct_horizontal_assessment")).parent_keys}
    assert "fct_issue_satisfaction_evaluation" in BOARD_TABLES


def _pick_pair(con: duckdb.DuckDBPyConnection, kpis=tuple(SINGLE_TYPE)) -> tuple[str, str]:
    """A city and a KPI without any issue whose days 10-02..10-08 are all green (so
    verification passes on real data, and a later run finds nothing to reopen)."""
    codes = ", ".join(f"'{c}'" for c in kpis)
    row = con.execute(f"""
        select v.kpi_code, v.region_code
        from fct_kpi_values as v
        where v.period_type = 'day' and v.region_code <> 'JS' and v.kpi_code in ({codes})
          and v.period_start between date '2026-10-02' and date '2026-10-08'
          and not exists (select 1 from rem_issues as i
                          where i.kpi_code = v.kpi_code and i.region_code = v.region_code)
        group by 1, 2
        having count(*) filter (where v.status = 'green') = 7
        order by 1, 2
        limit 1
    """).fetchone()
    assert row is not None, "the sample has no pair to take through the workflow"
    return row


@pytest.fixture(scope="module")
def closed_issue(sample_home, tmp_path_factory):
    source, _ = sample_home
    home = tmp_path_factory.mktemp("satisfaction-home") / "home"
    shutil.copytree(source, home, ignore=shutil.ignore_patterns("*.wal", "*.migrate.lock"))
    settings = Settings(home=home, inbox=SAMPLE)
    con = connect(settings.warehouse)
    kpi, city = _pick_pair(con)
    department = kpi_catalog()[kpi].owner_department

    clock = [OPENED]
    workflow = Workflow(open_store(settings.issues_url), LoopSettings(), clock=lambda: clock[0])
    try:
        workflow.add_user("sat.qm", QUALITY_MANAGER, "s3cret-pass")
        workflow.add_user("sat.owner", DEPARTMENT_OWNER, "s3cret-pass", department)
        # The breach that opens it is hand-made (the sample has no breach for a pair that
        # then holds seven green days); everything after it is the workflow's own doing.
        opened = workflow.apply_signals([Signal(kpi, city, "R1", "P2", "day", date(2026, 9, 30),
                                                "red", detail="satisfaction test")], OPENED)
        issue_id = opened.opened[0]
        workflow.acknowledge(issue_id, "sat.owner", "测试 Tester")
        workflow.plan(issue_id, "sat.owner", "process", "test root cause", "test actions",
                      date(2026, 10, 15))
        workflow.claim_fix(issue_id, "sat.owner", date(2026, 10, 1), "fixed")
        clock[0] = datetime(2026, 10, 9, 8, 0)
        outcome = verify_fixes(con, workflow)
        assert outcome.verified == [issue_id]
        clock[0] = CLOSED
        workflow.sign_off(issue_id, "sat.qm", "held seven days")
        assert workflow.issue(issue_id).state == "closed"

        # A second issue, of K05 (all five contact types), closed today by the real clock:
        # its after window lies past the data, so it stays pending.
        kpi2, city2 = _pick_pair(con, ("K05",))
        clock[0] = local_now()
        opened2 = workflow.apply_signals([Signal(kpi2, city2, "R1", "P2", "day",
                                                 date(2026, 11, 8), "red",
                                                 detail="satisfaction test")],
                                         datetime(2026, 11, 9))
        pending_id = opened2.opened[0]
        workflow.acknowledge(pending_id, "sat.qm", "测试 Tester")
        workflow.add_user("sat.service", DEPARTMENT_OWNER, "s3cret-pass", "SERVICE")
        workflow.plan(pending_id, "sat.service", "process", "cause", "actions", clock[0].date())
        workflow.claim_fix(pending_id, "sat.service", date(2026, 10, 1), "fixed")
        assert verify_fixes(con, workflow).verified == [pending_id]
        workflow.sign_off(pending_id, "sat.qm", "held seven days")
    finally:
        con.close()

    rerun = qloop_run(SAMPLE, home, overrides=DEMO_TARGET_OVERRIDES)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert workflow.issue(issue_id).state == "closed", "the rerun must not reopen it"

    # the closure lists as on 2026-11-08 09:00: the issue closed 30 days before is on them
    clock[0] = datetime(2026, 11, 8, 9, 0)
    lists = write_closure_lists(settings, workflow, out_dir=home / "lists", send=False)
    workflow.store.dispose()
    return dict(home=home, settings=settings, issue_id=issue_id, kpi=kpi, city=city,
                department=department, lists=lists, pending_id=pending_id)


def _expected(home, contact_type: str, city: str) -> dict[str, tuple[int, int]]:
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        counts = {}
        for name, (first, last) in (("before", BEFORE), ("after", AFTER)):
            counts[name] = con.execute("""
                select count(*), count(*) filter (where score >= 4)
                from int_surveys
                where contact_type = $type and city_code = $city and score is not null
                  and cast(responded_at as date) between $first and $last
            """, {"type": contact_type, "city": city, "first": first, "last": last}).fetchone()
        return counts
    finally:
        con.close()


def _evaluation(home, issue_id: int) -> dict:
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        cur = con.execute("select * from fct_issue_satisfaction_evaluation where issue_id = ?",
                          [issue_id])
        names = [d[0] for d in cur.description]
        rows = cur.fetchall()
    finally:
        con.close()
    assert len(rows) == 1
    return dict(zip(names, rows[0]))


def test_the_closed_issue_is_evaluated_over_its_windows(closed_issue):
    home, issue_id = closed_issue["home"], closed_issue["issue_id"]
    got = _evaluation(home, issue_id)
    expected = _expected(home, SINGLE_TYPE[closed_issue["kpi"]], closed_issue["city"])
    (before_n, before_ok), (after_n, after_ok) = expected["before"], expected["after"]
    assert before_n > 0 and after_n > 0, expected  # the sample has surveys in both windows
    assert (got["opened_at"], got["closed_at"]) == (OPENED, CLOSED)
    assert (got["before_start"], got["before_end"]) == BEFORE
    assert (got["after_start"], got["after_end"]) == AFTER
    assert (got["before_surveys"], got["before_satisfied"]) == (before_n, before_ok)
    assert (got["after_surveys"], got["after_satisfied"]) == (after_n, after_ok)
    assert got["before_rate"] == pytest.approx(before_ok / before_n, abs=1e-12)
    assert got["after_rate"] == pytest.approx(after_ok / after_n, abs=1e-12)
    assert got["rate_change"] == pytest.approx(after_ok / after_n - before_ok / before_n,
                                               abs=1e-12)
    assert got["evaluation_status"] == "evaluated" and got["after_days_observed"] == 30
    assert got["contact_types"] == SINGLE_TYPE[closed_issue["kpi"]]


def test_only_closed_issues_are_evaluated(closed_issue):
    con = duckdb.connect(str(closed_issue["home"] / "warehouse.duckdb"), read_only=True)
    try:
        evaluated = con.execute("select issue_id from fct_issue_satisfaction_evaluation").fetchall()
        closed = con.execute("select issue_id from rem_issues where state = 'closed'").fetchall()
    finally:
        con.close()
    # the sample's own issues are all open: ours are the only closed ones
    ids = sorted([(closed_issue["issue_id"],), (closed_issue["pending_id"],)])
    assert sorted(evaluated) == sorted(closed) == ids


def test_an_issue_closed_today_is_pending(closed_issue):
    got = _evaluation(closed_issue["home"], closed_issue["pending_id"])
    assert got["evaluation_status"] == "pending" and got["rate_change"] is None
    assert got["after_days_observed"] == 0 and got["after_surveys"] == 0
    assert got["contact_types"] == "complaint,hotline,install,repair,store"


def test_the_closure_list_shows_the_evaluation(closed_issue):
    home, issue_id = closed_issue["home"], closed_issue["issue_id"]
    got = _evaluation(home, issue_id)
    files = next(f for f in closed_issue["lists"].files
                 if f.department_code == closed_issue["department"])
    with open(files.csv, encoding="utf-8-sig", newline="") as handle:
        records = {int(r["issue_id"]): r for r in csv.DictReader(handle)}
    row = records[issue_id]
    assert float(row["satisfaction_before"]) == got["before_rate"]
    assert float(row["satisfaction_after"]) == got["after_rate"]
    assert float(row["satisfaction_change"]) == got["rate_change"]
    assert (row["satisfaction_status"], row["satisfaction_after_days"]) == ("evaluated", "30")
    # an open issue of the same list has empty satisfaction cells
    others = [r for r in records.values() if r["state"] != "closed"]
    assert others and all(r["satisfaction_before"] == r["satisfaction_status"] == ""
                          for r in others)
    sheet = load_workbook(files.xlsx).active
    for r in range(FIRST_DATA_ROW, sheet.max_row + 1):
        if sheet.cell(r, 1).value == issue_id:
            cell = sheet.cell(r, COLUMN_KEYS.index("satisfaction_change") + 1)
            # Excel keeps 15-17 significant digits of a double
            assert cell.value == pytest.approx(got["rate_change"], abs=1e-15)
            assert cell.number_format.startswith("+")
            break
    else:
        pytest.fail("the closed issue is not in the workbook")


def test_the_ranking_and_its_export_show_the_month_of_closure(closed_issue):
    home, city, department = closed_issue["home"], closed_issue["city"], closed_issue["department"]
    got = _evaluation(home, closed_issue["issue_id"])
    with open(home / "exports" / "horizontal_assessment_202610.csv", encoding="utf-8") as f:
        rows = {(r["scope_type"], r["scope_code"]): r for r in csv.DictReader(f)}
    for scope in (("city", city), ("department", department)):
        row = rows[scope]
        assert row["satisfaction_issues"] == "1" and row["satisfaction_pending_issues"] == "0"
        assert float(row["satisfaction_before"]) == pytest.approx(got["before_rate"], abs=1e-12)
        assert float(row["satisfaction_after"]) == pytest.approx(got["after_rate"], abs=1e-12)
        assert float(row["satisfaction_change"]) == pytest.approx(got["rate_change"], abs=1e-12)
        # beside the score, not in it: the spec's formula still gives the score
        score = 60 * float(row["attainment"]) + 30 * float(row["on_time_share"]) \
            + 10 * (1 - float(row["reopen_rate"]))
        assert abs(score - float(row["score"])) < 1e-9
    others = [r for k, r in rows.items() if k not in (("city", city), ("department", department))]
    assert all(r["satisfaction_issues"] == "0" and r["satisfaction_change"] == "" for r in others)


def test_the_board_copy_has_the_evaluation(closed_issue):
    con = duckdb.connect(str(closed_issue["home"] / "board" / "board.duckdb"), read_only=True)
    try:
        board = con.execute("select issue_id, rate_change from fct_issue_satisfaction_evaluation"
                            ).fetchall()
        ranked = con.execute("""
            select satisfaction_issues from fct_horizontal_assessment
            where month = date '2026-10-01' and scope_type = 'city' and scope_code = ?
        """, [closed_issue["city"]]).fetchall()
    finally:
        con.close()
    assert dict(board) == {
        closed_issue["issue_id"]: _evaluation(closed_issue["home"], closed_issue["issue_id"])[
            "rate_change"], closed_issue["pending_id"]: None}
    assert ranked == [(1,)]


# -- the ranking page in the real browser, served from this home's board copy --------------

@pytest.fixture(scope="module")
def satisfaction_board_url(closed_issue):
    from .qloop_cli import served_board

    with served_board(closed_issue["home"]) as url:
        yield url


def test_ranking_page_shows_the_satisfaction_change(page, satisfaction_board_url, closed_issue):
    from .conftest import login

    url, city = satisfaction_board_url, closed_issue["city"]
    got = _evaluation(closed_issue["home"], closed_issue["issue_id"])
    login(page, url, "sat.qm", "s3cret-pass")
    page.goto(f"{url}/ranking?month=2026-10-01")
    page.wait_for_selector("#ranking-city tbody tr")
    assert "满意率变化" in page.locator("#ranking-city thead").inner_text()
    assert "不计入得分" in page.locator("#ranking-satisfaction-note").inner_text()
    row = page.locator("#ranking-city tbody tr").filter(
        has=page.locator("td a", has_text=city)).first
    cell = lambda field: row.locator(f"[data-field={field}]")  # noqa: E731
    assert cell("satisfaction_issues").inner_text() == "1"
    assert cell("satisfaction_before").inner_text() == f"{got['before_rate'] * 100:.1f}%"
    assert cell("satisfaction_after").inner_text() == f"{got['after_rate'] * 100:.1f}%"
    change = got["rate_change"] * 100
    assert cell("satisfaction_change").inner_text() == f"{change:+.1f} pp"
    css = cell("satisfaction_change").get_attribute("class")
    assert ("change-up" if change > 0 else "change-down" if change < 0 else "change-flat") in css
    # the department's row has it too; a scope without closed issues shows none
    department = page.locator("#ranking-department tbody tr").filter(
        has_text=closed_issue["department"]).first
    assert department.locator("[data-field=satisfaction_issues]").inner_text() == "1"
    others = page.locator("#ranking-city tbody tr")
    dashes = [others.nth(i).locator("[data-field=satisfaction_change]").inner_text()
              for i in range(others.count())]
    assert dashes.count("—") == 12 and others.count() == 13

    page.goto(f"{url}/lang/en")
    page.goto(f"{url}/ranking?month=2026-10-01")
    page.wait_for_selector("#ranking-city tbody tr")
    header = page.locator("#ranking-city thead").inner_text()
    assert "Satisfaction before" in header and "Satisfaction change" in header
    assert "not part of the score" in page.locator("#ranking-satisfaction-note").inner_text()


def test_the_board_download_of_the_closure_list_has_the_cells(satisfaction_board_url,
                                                              closed_issue):
    import requests

    got = _evaluation(closed_issue["home"], closed_issue["pending_id"])
    session = requests.Session()
    session.post(f"{satisfaction_board_url}/login",
                 data={"username": "sat.qm", "password": "s3cret-pass"}, timeout=10)
    response = session.get(f"{satisfaction_board_url}/download/closure-list/SERVICE.csv",
                           timeout=30)
    assert response.status_code == 200
    records = {int(r["issue_id"]): r for r in csv.DictReader(
        io.StringIO(response.content.decode("utf-8-sig")))}
    row = records[closed_issue["pending_id"]]
    assert (row["satisfaction_status"], row["satisfaction_after_days"]) == ("pending", "0")
    assert row["satisfaction_change"] == "" and row["satisfaction_after"] == ""
    expected_before = "" if got["before_rate"] is None else str(got["before_rate"])
    assert row["satisfaction_before"] == expected_before


def test_ranking_table_satisfaction_cells():
    import pandas as pd

    from dashboards.components.tables import ranking_table

    base = dict(name_zh="南京", name_en="Nanjing", rank=1, score=90.0, attainment=0.9,
                kpi_values=10, green_values=9, issues=2, on_time_issues=2, on_time_share=1.0,
                overdue_issues=0, reopened_issues=0, reopen_rate=0.0)
    scores = pd.DataFrame([
        dict(base, scope_code="NJ", satisfaction_issues=2, satisfaction_pending_issues=1,
             satisfaction_before=0.5625, satisfaction_after=0.625, satisfaction_change=0.0625),
        dict(base, scope_code="SZ", satisfaction_issues=1, satisfaction_pending_issues=0,
             satisfaction_before=0.75, satisfaction_after=0.5, satisfaction_change=-0.25),
        dict(base, scope_code="HA", satisfaction_issues=0, satisfaction_pending_issues=3,
             satisfaction_before=None, satisfaction_after=None, satisfaction_change=None),
    ])
    labels = {k: k for k in ("rank", "scope", "score", "attainment", "green_of_values",
                             "on_time_share", "on_time_of_issues", "overdue", "reopen_rate",
                             "satisfaction_issues", "satisfaction_before", "satisfaction_after",
                             "satisfaction_change")} | {"satisfaction_pending": "待评估"}
    table = ranking_table(scores, "zh", labels, "t")
    header = [th.children for th in table.children[0].children.children]
    assert header[-4:] == ["satisfaction_issues", "satisfaction_before", "satisfaction_after",
                           "satisfaction_change"]

    def cells(row):
        return {getattr(td, "data-field", None): (td.children, td.className)
                for td in row.children if getattr(td, "data-field", None)}

    nj, sz, ha = (cells(r) for r in table.children[1].children)
    assert nj["satisfaction_issues"][0] == "2 (+1 待评估)"
    assert (nj["satisfaction_before"][0], nj["satisfaction_after"][0]) == ("56.2%", "62.5%")
    assert nj["satisfaction_change"] == ("+6.2 pp", "num change-up")
    assert sz["satisfaction_change"] == ("-25.0 pp", "num change-down")
    assert ha["satisfaction_issues"][0] == "0 (+3 待评估)"
    assert ha["satisfaction_change"] == ("—", "num change-none")
    assert ha["satisfaction_before"][0] == "—"
