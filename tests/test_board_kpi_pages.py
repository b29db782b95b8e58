"""KPI detail, ranking and data health pages: the pure builders (no browser), then the pages
through the real server in a real browser, checked against the published copy with our own
SQL and against the CSV export."""

from __future__ import annotations

import csv
import json
from datetime import date

import duckdb
import pandas as pd
import pytest

from dagster_project.lib.publish import board_path
from dashboards.components.charts import (control_chart_figure, rag_bar_figure,
                                          score_bar_figure, trend_figure)
from dashboards.components.tables import (city_breakdown_table, leaderboards, member_grid,
                                          member_rows, min_denominator, rag_status,
                                          with_values)

from .board_grid import all_rows, drawn_count, wait_grid
from .conftest import DEMO_PASSWORD, login
from .qloop_cli import qloop

LABELS = {k: k for k in ("value", "target", "status", "green", "amber", "red", "no_data",
                         "red_threshold", "baseline", "centre", "out_of_control", "city",
                         "numerator", "denominator", "total", "not_attributed", "member")}
K02 = {"kpi_code": "K02", "scale": 1, "target": 0.90, "red_threshold": 0.85, "direction": "up"}
K14 = {"kpi_code": "K14", "scale": 1, "target": 0.08, "red_threshold": 0.12, "direction": "down"}
VIEWER = "kpi_pages_viewer"


# -- pure builders --------------------------------------------------------------------------

def test_rag_status_is_exact_on_the_boundaries():
    assert rag_status(9, 10, 0.90, 0.85, "up") == "green"         # exactly on target
    assert rag_status(89, 100, 0.90, 0.85, "up") == "amber"
    assert rag_status(85, 100, 0.90, 0.85, "up") == "amber"       # exactly on red: not red
    assert rag_status(84, 100, 0.90, 0.85, "up") == "red"
    assert rag_status(8, 100, 0.08, 0.12, "down") == "green"
    assert rag_status(12, 100, 0.08, 0.12, "down") == "amber"
    assert rag_status(13, 100, 0.08, 0.12, "down") == "red"
    assert rag_status(15, 10_000, 15, 20, "down", scale=10_000) == "green"  # 15.0 per 10k
    assert rag_status(0, 0, 0.9, 0.85, "up") == "no_data"
    assert rag_status(None, None, 0.9, 0.85, "up") == "no_data"


def test_min_denominator_is_the_median_with_a_floor():
    assert min_denominator([1, 1, 1]) == 2
    assert min_denominator([10, 20, 30, 40]) == 25
    assert min_denominator([0, None, 7, 9, 100]) == 9  # zeros and missing are no sample
    assert min_denominator([]) == 2


def test_leaderboards_exclude_small_samples_and_respect_direction():
    members = pd.DataFrame({
        "member": ["a", "b", "c", "d", None],
        "member_name": ["A", "B", "C", "D", None],
        "numerator": [1, 45, 30, 20, 0],
        "denominator": [1, 50, 50, 40, 80],
    })
    valued = with_values(members, K02)
    best, worst = leaderboards(valued.to_dict("records"), "up", min_n=10, size=2)
    assert [m["member"] for m in best] == ["b", "c"]   # a (1/1 = 100%) is too small to win
    assert [m["member"] for m in worst] == ["d", "c"]  # the unattributed row is never ranked
    best_down, _ = leaderboards(with_values(members, K14).to_dict("records"), "down",
                                min_n=10, size=1)
    assert [m["member"] for m in best_down] == ["d"]
    assert list(valued["status"]) == ["green", "green", "red", "red", "red"]


def test_member_grid_totals_and_the_unattributed_row():
    members = with_values(pd.DataFrame({"member": ["T1", None], "member_name": ["Team 1", None],
                                        "numerator": [9, 1], "denominator": [10, 5]}), K02)
    rows = member_rows(members, "ratio", LABELS)
    assert [(r["member_key"], r["member"]) for r in rows] == [("T1", "T1 Team 1"),
                                                              ("(none)", "not_attributed")]
    assert [(r["numerator"], r["denominator"], r["status_code"]) for r in rows] == [
        (9, 10, "green"), (1, 5, "red")]
    grid = member_grid(members, "ratio", LABELS, "drill-team", "team").children[1]
    assert grid.dashGridOptions["pinnedBottomRowData"] == [
        {"member_key": "total", "member": "total", "numerator": 10, "denominator": 15}]
    assert grid.dashGridOptions["paginationPageSize"] == 25  # several grids on one page
    assert [c["headerName"] for c in grid.columnDefs] == [
        "team", "value", "numerator", "denominator", "status"]


def test_city_breakdown_table_has_one_row_per_city_with_both_periods():
    cities = pd.DataFrame({
        "city_code": ["NJ", "SZ"], "city_name_zh": ["南京", "苏州"],
        "city_name_en": ["Nanjing", "Suzhou"], "day_numerator": [9, None],
        "day_denominator": [10, None], "day_value": [0.9, None],
        "day_status": ["green", "no_data"], "month_numerator": [80, 70],
        "month_denominator": [100, 100], "month_value": [0.8, 0.7],
        "month_status": ["red", "red"]})
    table = city_breakdown_table(cities, "ratio", "en", LABELS, "Day", "Month")
    rows = table.children[1].children
    assert [r.id["city"] for r in rows] == ["NJ", "SZ"]
    assert [rows[0].children[1].children[0].children,
            *(c.children for c in rows[0].children[2:4])] == ["90.0%", "9", "10"]
    assert [rows[1].children[1].children[0].children,
            *(c.children for c in rows[1].children[2:4])] == ["—", "—", "—"]
    month_only = city_breakdown_table(cities, "ratio", "en", LABELS, "Day", "Month",
                                      show_day=False)
    assert len(month_only.children[1].children[0].children) == 5


def test_figures():
    days = pd.to_datetime(["2026-10-01", "2026-10-02", "2026-10-03"])
    trend = trend_figure(pd.DataFrame({"period_start": days, "value": [0.9, 0.8, None],
                                       "status": ["green", "red", "no_data"],
                                       "numerator": [9, 8, 0], "denominator": [10, 10, 0]}),
                         0.9, 0.85, "ratio", LABELS)
    assert [tr["name"] for tr in trend["data"]] == ["value", "target", "red_threshold"]
    assert trend["data"][0]["y"] == [0.9, 0.8, None]
    chart = pd.DataFrame({"day": days, "numerator": [95, 80, 96], "denominator": [100] * 3,
                          "p": [0.95, 0.80, 0.96], "centre": [0.95] * 3, "ucl": [1.0] * 3,
                          "lcl": [0.9] * 3, "in_baseline": [True, True, False],
                          "beyond_limit_bad_side": [False, True, False]})
    control = control_chart_figure(chart, LABELS)
    marked = [tr for tr in control["data"] if tr["name"] == "out_of_control"][0]
    assert list(marked["y"]) == [0.80]
    assert control["layout"]["shapes"][0]["type"] == "rect"  # the shaded baseline
    bars = rag_bar_figure(["NJ", "SZ"], [0.9, None], ["green", "no_data"], "ratio", 0.9, LABELS)
    assert bars["data"][0]["marker"]["color"] == ["#1a9850", "#9e9e9e"]
    assert bars["data"][0]["y"] == [0.9, None]
    scores = score_bar_figure(["NJ", "SZ"], [90.0, 80.0], [1, 2])
    assert scores["data"][0]["text"] == ["#1", "#2"]
    # plain dicts that plotly itself takes for a figure
    import plotly.graph_objects as go
    for figure in (trend, control, bars, scores):
        go.Figure(figure)


# -- through the real server -----------------------------------------------------------------

@pytest.fixture(scope="module")
def db(board_home):
    con = duckdb.connect(str(board_path(board_home)), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def viewer(board_home, board_url):
    """A viewer of our own: demo_viewer may be throttled by the login tests."""
    result = qloop("users", "add", VIEWER, "--role", "viewer", "--password-stdin",
                   "--home", str(board_home), input_text=DEMO_PASSWORD + "\n")
    assert result.returncode == 0 or "exists" in (result.stdout + result.stderr).lower(), \
        result.stdout + result.stderr
    return VIEWER


def _latest(db, kpi: str) -> tuple[date, date]:
    day = db.execute("select max(period_start) from fct_kpi_values where kpi_code = ? "
                     "and period_type = 'day'", [kpi]).fetchone()[0]
    return day, day.replace(day=1)


def _city_values(db, kpi: str, period_type: str, start: date) -> dict[str, tuple]:
    return {r[0]: r[1:] for r in db.execute(
        "select region_code, numerator, denominator, value, scope_status from fct_kpi_values "
        "where kpi_code = ? and period_type = ? and period_start = ? and region_code <> 'JS'",
        [kpi, period_type, start]).fetchall()}


def _pct(value) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _int(text: str) -> int:
    return int(text.replace(",", ""))


def _graph_traces(page, graph_id: str) -> int:
    page.wait_for_selector(f"#{graph_id} .js-plotly-plot .main-svg", timeout=20_000)
    return page.evaluate(f"document.querySelector('#{graph_id} .js-plotly-plot').data.length")


def _table_sums(page, grid: str) -> tuple[int, int]:
    """Numerator and denominator summed over every row of a drill-down grid (all pages),
    checked against the total row pinned below it."""
    wait_grid(page, grid)
    rows = all_rows(page, grid)
    sums = (sum(r["numerator"] or 0 for r in rows), sum(r["denominator"] or 0 for r in rows))
    total = page.locator(f"#{grid} .ag-floating-bottom .ag-row")
    assert (_int(total.locator("[col-id=numerator]").inner_text()),
            _int(total.locator("[col-id=denominator]").inner_text())) == sums
    return sums


def test_kpi_k02_charts_city_breakdown_and_hotline_tabs(page, board_url, db):
    login(page, board_url, "demo_qm")
    outputs = []  # the outputs of every callback the page asks the server for
    page.on("request", lambda r: outputs.append(json.loads(r.post_data)["output"])
            if r.url.endswith("/_dash-update-component") else None)
    page.goto(f"{board_url}/kpi/K02")
    assert _graph_traces(page, "kpi-trend") >= 3      # values, target, red threshold
    assert _graph_traces(page, "kpi-control") >= 5    # UCL, LCL, centre, p, out of control
    assert _graph_traces(page, "kpi-city-bar") >= 1

    day, month = _latest(db, "K02")
    expected_day = _city_values(db, "K02", "day", day)
    expected_month = _city_values(db, "K02", "month", month)
    cities = [r[0] for r in db.execute("select city_code from dim_cities").fetchall()]
    rows = page.locator("#kpi-city-table tbody tr")
    assert rows.count() == 13
    shown = set()
    for i in range(rows.count()):
        row = rows.nth(i)
        city = json.loads(row.get_attribute("id"))["city"]
        shown.add(city)
        for prefix, expected in (("day", expected_day), ("month", expected_month)):
            num, den, value, status = expected.get(city, (None, None, None, "no_data"))
            cell = lambda f: row.locator(f"[data-field={prefix}-{f}]")  # noqa: E731
            assert cell("value").locator(".value").inner_text() == _pct(value), (city, prefix)
            if den is not None:
                assert _int(cell("numerator").inner_text()) == num, (city, prefix)
                assert _int(cell("denominator").inner_text()) == den, (city, prefix)
            assert cell("status").locator(".rag").get_attribute("data-status") == status
    assert shown == set(cities)

    # drill-down below the province: skill group, site, team tables, agent leaderboards
    for table in ("drill-skill_group", "drill-site", "drill-team"):
        wait_grid(page, table)
    for table in ("drill-agent-best", "drill-agent-worst"):
        page.wait_for_selector(f"#{table}")
    assert _table_sums(page, "drill-site") == (
        sum(v[0] for v in expected_day.values()), sum(v[1] for v in expected_day.values()))

    # the four hotline levels
    for tab in ("agent", "team", "site", "management"):
        assert page.locator(f"#hotline-tab-{tab}").count() == 1
    assert _graph_traces(page, "hotline-agent-graph") >= 2
    # the team, site and management views are asked for only when their tab opens
    lazy = ("hotline-team-content", "hotline-site-content", "hotline-management-content")
    assert any("hotline-agent-content" in o for o in outputs)
    assert not [o for o in outputs if any(view in o for view in lazy)]
    page.click("#hotline-tab-team")
    wait_grid(page, "hotline-team-table")
    page.click("#hotline-tab-site")
    wait_grid(page, "hotline-site-table")
    page.click("#hotline-tab-management")
    wait_grid(page, "hotline-mgmt-skill_group")
    wait_grid(page, "hotline-mgmt-site")


def test_k01_store_drilldown_sums_back_to_the_city(page, board_url, db):
    login(page, board_url, "demo_qm")
    page.goto(f"{board_url}/kpi/K01?region=NJ")
    day, _ = _latest(db, "K01")
    num, den, _, _ = _city_values(db, "K01", "day", day)["NJ"]
    assert _table_sums(page, "drill-store") == (num, den)
    stores = db.execute("select count(distinct store_id) from fct_kpi_drilldown where "
                        "kpi_code = 'K01' and city_code = 'NJ' and activity_date = ?",
                        [day]).fetchone()[0]
    assert len(all_rows(page, "drill-store")) == stores


def test_k12_team_and_district_drilldown_sum_back_to_the_city_month(page, board_url, db):
    login(page, board_url, "demo_qm")
    page.goto(f"{board_url}/kpi/K12?region=SZ&period_type=month")
    _, month = _latest(db, "K12")
    num, den, _, _ = _city_values(db, "K12", "month", month)["SZ"]
    assert _table_sums(page, "drill-team") == (num, den)
    assert _table_sums(page, "drill-district") == (num, den)
    # switching the region re-renders the drill-down for that city
    page.locator("#kpi-region").click()
    page.locator(".dash-dropdown-option, [role=option]").filter(has_text="NJ").first.click()
    page.wait_for_function("() => document.querySelector('#drill-level-team h4') && "
                           "document.querySelector('#kpi-drilldown h3').innerText.includes('NJ')")
    wait_grid(page, "drill-team")
    num, den, _, _ = _city_values(db, "K12", "month", month)["NJ"]
    assert _table_sums(page, "drill-team") == (num, den)


def test_ranking_matches_the_export(page, board_url, board_home, db):
    login(page, board_url, "demo_qm")
    page.goto(f"{board_url}/ranking")
    page.wait_for_selector("#ranking-city tbody tr")
    as_of = db.execute("select as_of_date from dim_as_of").fetchone()[0]
    months = sorted(p.stem.rsplit("_", 1)[1] for p in
                    (board_home / "exports").glob("horizontal_assessment_*.csv"))
    complete = [m for m in months if
                (date(int(m[:4]) + int(m[4:]) // 12, int(m[4:]) % 12 + 1, 1) <= as_of)]
    month = complete[-1]
    with open(board_home / "exports" / f"horizontal_assessment_{month}.csv",
              encoding="utf-8") as f:
        exported = {(r["scope_type"], r["scope_code"]): r["rank"] for r in csv.DictReader(f)}
    assert page.locator("#ranking-city tbody tr").count() == 13
    assert page.locator("#ranking-department tbody tr").count() == 6
    for scope_type in ("city", "department"):
        rows = page.locator(f"#ranking-{scope_type} tbody tr")
        for i in range(rows.count()):
            row = rows.nth(i)
            scope = json.loads(row.get_attribute("id"))["scope"]
            assert row.locator("[data-field=rank]").inner_text() == exported[(scope_type, scope)]
    assert page.locator("#ranking-month").inner_text().startswith(f"{month[:4]}-{month[4:]}")
    assert _graph_traces(page, "ranking-city-bar") == 1
    # the current month is offered, marked provisional
    page.locator("#ranking-month").click()
    assert page.locator("[role=option]").filter(has_text=months[-1][:4]).count() >= 1


def test_health_lists_rejected_files_and_rows(page, board_url, db):
    login(page, board_url, "demo_qm")
    page.goto(f"{board_url}/health")
    wait_grid(page, "health-rejected-files")
    files = all_rows(page, "health-rejected-files")
    for name, reason in (("crm_survey_20261018.csv", "zero-byte"),
                         ("billing_refund_20261027.csv", "updated_at"),
                         ("crm_complaint_20261029.csv", "encoding")):
        found = [f for f in files if f["file_name"] == name]
        assert len(found) == 1, files
        assert reason in found[0]["reason"]
        assert page.locator("#health-rejected-files .ag-row").filter(has_text=name).count() == 1
    expected = db.execute("select count(*) from fct_rejected_rows").fetchone()[0]
    assert _int(page.locator("#health-rejected-count").inner_text()) == expected
    wait_grid(page, "health-rejected-rows")
    shown = all_rows(page, "health-rejected-rows")
    assert len(shown) == min(expected, 1000) == int(
        page.get_attribute("#health-rejected-rows-title", "data-shown"))
    assert drawn_count(page, "health-rejected-rows") == min(expected, 100)
    newest = db.execute("select file_name, line from fct_rejected_rows order by business_date "
                        "desc nulls last, file_name desc, line limit 1000").fetchall()
    assert [(r["file_name"], r["line"]) for r in shown] == [tuple(n) for n in newest]
    # counts by entity, rule and class of fault: they add up to every reject
    counts = page.locator("#health-rejected-counts tbody tr")
    assert sum(_int(counts.nth(i).locator("td").nth(3).inner_text())
               for i in range(counts.count())) == expected
    classes = db.execute("select count(distinct (entity, rule, reject_class)) "
                         "from fct_rejected_rows").fetchone()[0]
    assert counts.count() == classes > 0
    assert page.locator("#health-freshness tbody tr").count() == db.execute(
        "select count(distinct entity) from fct_files_in_force").fetchone()[0]
    assert page.locator("#health-report_ingest").count() == 1
    assert "green" in page.locator("#health-reconcile-state .rag").get_attribute("data-status")


@pytest.mark.parametrize("path,selector", [
    ("/kpi/K02", "#kpi-city-table"), ("/kpi/K06", "#kpi-city-table"),
    ("/kpi/K12", "#drill-team"), ("/ranking", "#ranking-city"),
    ("/health", "#health-rejected-files")])
def test_pages_open_for_a_viewer(page, board_url, viewer, path, selector):
    """A viewer reads every data page: its table holds rows of the published marts, and the
    page offers nothing to change."""
    login(page, board_url, viewer)
    page.goto(f"{board_url}{path}")
    page.wait_for_selector(f"{selector} tbody tr, {selector} .ag-row")
    assert page.locator(f"{selector} tbody tr, {selector} .ag-row").count() > 0
    assert page.locator("button:has-text('Promote'), button:has-text('Register')").count() == 0


def test_data_docs_route_serves_only_the_docs_folder(tmp_path):
    import flask

    from dashboards.context import CONFIG_KEY
    from dashboards.data_docs import init_data_docs

    class Settings:
        home = tmp_path

    class Context:
        settings = Settings()

    server = flask.Flask("docs-test")
    server.config[CONFIG_KEY] = Context()
    init_data_docs(server)
    client = server.test_client()
    assert client.get("/data-docs/index.html").status_code == 404   # no docs yet
    (tmp_path / "data-docs" / "validations").mkdir(parents=True)
    (tmp_path / "data-docs" / "index.html").write_text("<h1>docs</h1>")
    (tmp_path / "data-docs" / "validations" / "a.html").write_text("a")
    (tmp_path / "secret.key").write_text("s3cret")
    assert client.get("/data-docs/index.html").data == b"<h1>docs</h1>"
    assert client.get("/data-docs/").data == b"<h1>docs</h1>"
    assert client.get("/data-docs/validations/a.html").data == b"a"
    for path in ("/data-docs/../secret.key", "/data-docs/%2e%2e/secret.key",
                 "/data-docs/..%2fsecret.key", "/data-docs/missing.html"):
        response = client.get(path)
        assert response.status_code == 404 and b"s3cret" not in response.data, path


def test_health_shows_every_suite_verdict_and_the_alerts(page, board_url, board_home, db):
    from dagster_project.lib.alerts import raise_alert
    from dagster_project.lib.settings import Settings

    # an alert as a failed run would leave it (the sample run itself raises none)
    raise_alert(Settings(home=board_home, inbox=board_home), "run_failure",
                "run abcd1234 of qualityloop_pipeline failed", "failed steps: raw_landing",
                "abcd1234-run", environ={})
    verdicts = dict(db.execute(
        "select suite, case when blocking_failed then 'red' when success then 'green' else 'amber' end "
        "from fct_quality_suite_results where run_id = (select run_id from fct_quality_suite_results "
        "order by checked_at desc limit 1)").fetchall())
    assert len(verdicts) == 15 and "red" not in verdicts.values()  # the sample blocks nothing
    login(page, board_url, "demo_qm")
    page.goto(f"{board_url}/health")
    page.wait_for_selector("#health-checks tbody tr")
    rows = page.locator("#health-checks tbody tr")
    assert rows.count() == 15
    shown = {rows.nth(i).locator("td").nth(0).inner_text():
             rows.nth(i).locator(".rag").get_attribute("data-status") for i in range(rows.count())}
    assert shown == verdicts
    warned = [s for s, v in verdicts.items() if v == "amber"]
    assert warned, "the sample's planted faults trip some warnings"
    assert rows.filter(has_text=warned[0]).locator("td").nth(4).inner_text().startswith("[warning]")
    alert = page.locator("#health-alerts tbody tr").filter(has_text="abcd1234")
    assert alert.count() == 1 and "failed steps: raw_landing" in alert.inner_text()


def test_province_drilldown_pages_25_rows_at_a_time(page, board_url, db):
    """K01 in the province's month: one row per store (several pages), 25 drawn at a time,
    the last page the rest."""
    login(page, board_url, "demo_qm")
    page.goto(f"{board_url}/kpi/K01?period_type=month")
    wait_grid(page, "drill-store")
    day, month = _latest(db, "K01")
    stores = db.execute("select count(distinct store_id) from fct_kpi_drilldown where "
                        "kpi_code = 'K01' and activity_date between ? and ?",
                        [month, day]).fetchone()[0]
    assert stores > 100
    assert len(all_rows(page, "drill-store")) == stores
    assert drawn_count(page, "drill-store") == 25
    page.click("#drill-store .ag-paging-button:has(.ag-icon-last)")
    page.wait_for_function("n => document.querySelectorAll("
                           "'#drill-store .ag-center-cols-container .ag-row').length === n",
                           arg=stores - 25 * ((stores - 1) // 25))
