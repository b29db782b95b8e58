"""Per-scope targets on the KPI detail page: the pure builders, then the
page through the real server in Debian's chromium, on the sample's board copy, built like
`make demo` by the demo's set of per-scope targets (dbt/target_overrides/demo/), which has
(among others) XZ's K12
target 0.85 / 0.80 and K13 target 0.92 / 0.87 from 2026-10-15, K13 in rural districts of XZ 0.85 / 0.80 from 2026-10-15, and
K01 flagship stores 0.95 / 0.90 from 2026-09-01. Expected values are read from the board
copy with our own SQL."""

from __future__ import annotations

import json

import duckdb
import pandas as pd
import pytest

from dagster_project.lib.publish import board_path
from dashboards.components.charts import trend_figure
from dashboards.components.issues import kpi_chart_figure
from dashboards.components.tables import (city_breakdown_table, member_grid, member_rows,
                                          with_values)

from .board_grid import all_rows, cell, headers, wait_grid
from .conftest import login

LABELS = {k: k for k in ("value", "target", "status", "green", "amber", "red", "no_data",
                         "red_threshold", "city", "numerator", "denominator", "total",
                         "not_attributed", "member", "scope_target", "scope_red_threshold",
                         "catalog_target")}
K13 = {"kpi_code": "K13", "scale": 1, "target": 0.95, "red_threshold": 0.90, "direction": "up"}


# -- pure builders --------------------------------------------------------------------------

def test_members_are_judged_by_their_own_target_else_the_region_else_the_catalog():
    members = pd.DataFrame({"member": ["D1", "D2", None], "member_name": ["a", "b", None],
                            "numerator": [86, 86, 86], "denominator": [100, 100, 100],
                            "target": [0.85, None, None], "red_threshold": [0.80, None, None]})
    # D1: own scope 0.85 -> green; D2 and the unattributed row: the region's 0.92 / 0.87 -> red
    judged = with_values(members, K13, (0.92, 0.87))
    assert list(judged["status"]) == ["green", "red", "red"]
    assert list(judged["own_target"]) == [0.85, 0.92, 0.92]
    # without a region target (the province): the catalog's 0.95 / 0.90 -> red
    assert list(with_values(members, K13)["own_target"]) == [0.85, 0.95, 0.95]
    rows = member_rows(judged, "ratio", LABELS, catalog_target=0.95)
    assert [r["target_overridden"] for r in rows] == [True] * 3
    assert rows[0]["target_note"] == "catalog_target 95.0%"
    grid = member_grid(judged, "ratio", LABELS, "drill-district", "district",
                       catalog_target=0.95).children[1]
    target = grid.columnDefs[4]
    assert (target["field"], target["headerName"]) == ("own_target", "scope_target")
    assert target["cellClassRules"] == {"target-override": "params.data.target_overridden"}


def test_city_table_marks_only_the_targets_that_differ():
    cities = pd.DataFrame({
        "city_code": ["NJ", "XZ"], "city_name_zh": ["南京", "徐州"],
        "city_name_en": ["Nanjing", "Xuzhou"], "day_numerator": [9, 43],
        "day_denominator": [10, 50], "day_value": [0.9, 0.86], "day_status": ["green", "green"],
        "day_target": [0.90, 0.85], "month_numerator": [80, 80], "month_denominator": [100, 100],
        "month_value": [0.8, 0.8], "month_status": ["red", "amber"],
        "month_target": [0.90, 0.85]})
    table = city_breakdown_table(cities, "ratio", "en", LABELS, "Day", "Month",
                                 catalog_target=0.90)
    nj, xz = table.children[1].children
    assert nj.children[4].children == "90.0%" and "data-overridden" not in nj.children[4].to_plotly_json()["props"]
    assert xz.children[4].children.children == "85.0%"
    assert xz.children[4].className == "num target-override"


def test_trend_draws_the_own_target_only_where_it_differs():
    days = pd.to_datetime(["2026-10-14", "2026-10-15"])
    points = pd.DataFrame({"period_start": days, "value": [0.84, 0.84], "status": ["red", "amber"],
                           "numerator": [42, 42], "denominator": [50, 50],
                           "scope_target": [0.90, 0.85], "scope_red_threshold": [0.85, 0.80]})
    figure = trend_figure(points, 0.90, 0.85, "ratio", LABELS)
    assert [tr["name"] for tr in figure["data"]] == [
        "value", "target", "red_threshold", "scope_target", "scope_red_threshold"]
    assert list(figure["data"][3]["y"]) == [0.90, 0.85]
    same = points.assign(scope_target=[0.90, 0.90], scope_red_threshold=[0.85, 0.85])
    assert len(trend_figure(same, 0.90, 0.85, "ratio", LABELS)["data"]) == 3


def test_issue_chart_draws_the_regions_own_target():
    days = pd.to_datetime(["2026-10-14", "2026-10-15"])
    series = pd.DataFrame({"period_start": days, "value": [0.84, 0.84], "status": ["red", "amber"],
                           "scope_target": [0.90, 0.85]})
    figure = kpi_chart_figure(series, "ratio", 0.90, 0.85, [], "en")
    own = [tr for tr in figure.data if tr.name == "Own target"]
    assert len(own) == 1 and list(own[0].y) == [90.0, 85.0]
    same = series.assign(scope_target=[0.90, 0.90])
    assert not [tr for tr in kpi_chart_figure(same, "ratio", 0.90, 0.85, [], "en").data
                if tr.name == "Own target"]


# -- through the real server -----------------------------------------------------------------

@pytest.fixture(scope="module")
def db(board_home):
    con = duckdb.connect(str(board_path(board_home)), read_only=True)
    yield con
    con.close()


def _pct(value) -> str:
    return "—" if value is None else f"{float(value) * 100:.1f}%"


def test_kpi_page_shows_the_city_target_beside_the_catalog(page, board_url, db):
    login(page, board_url, "demo_qm")
    page.goto(f"{board_url}/kpi/K12?region=XZ")
    page.wait_for_selector("#kpi-city-table")
    # the month column (a small sample's latest day may have no K12 row for XZ)
    day = db.execute("select max(period_start) from fct_kpi_values where kpi_code = 'K12' "
                     "and period_type = 'day'").fetchone()[0]
    expected = {r[0]: r[1:] for r in db.execute(
        "select region_code, scope_target, scope_status, status from fct_kpi_values "
        "where kpi_code = 'K12' and period_type = 'month' and period_start = ?",
        [day.replace(day=1)]).fetchall()}
    assert float(expected["XZ"][0]) == 0.85 and float(expected["NJ"][0]) == 0.90
    rows = page.locator("#kpi-city-table tbody tr")
    checked = set()
    for i in range(rows.count()):
        row = rows.nth(i)
        city = json.loads(row.get_attribute("id"))["city"]
        if city not in expected:
            continue
        target, scope_status, _ = expected[city]
        cell = row.locator("[data-field=month-target]")
        assert cell.inner_text() == _pct(target), city
        assert (cell.get_attribute("data-overridden") == "true") == (city == "XZ"), city
        # the colour follows the city's own status
        assert row.locator("[data-field=month-status] .rag").get_attribute(
            "data-status") == scope_status, city
        checked.add(city)
    assert {"XZ", "NJ"} <= checked
    # the catalog's target stays in the header; the overrides are listed with their reasons
    assert "90.0%" in page.locator("#kpi-facts").inner_text()
    overrides = page.locator("#kpi-target-overrides tbody tr")
    assert overrides.count() == db.execute(
        "select count(*) from dim_kpi_target_overrides where kpi_code = 'K12'").fetchone()[0] == 2
    assert "徐州" in overrides.first.inner_text()
    # the trend of XZ draws the own target beside the catalog's (value, 2 catalog, 2 own),
    # and says what its hollow markers are: every K12 city-day of the sample has n < 20
    page.wait_for_selector("#kpi-trend .js-plotly-plot .main-svg", timeout=20_000)
    names = page.evaluate("Array.from(document.querySelector('#kpi-trend .js-plotly-plot')"
                          ".data, d => d.name)")
    assert names == ["数值", "目标", "红线", "本地目标", "本地红线", "样本量不足（n < 20）"]


def test_district_drilldown_shows_each_districts_own_target(page, board_url, db):
    login(page, board_url, "demo_qm")
    page.goto(f"{board_url}/kpi/K13?region=XZ")
    wait_grid(page, "drill-district")
    day = db.execute("select max(period_start) from fct_kpi_values where kpi_code = 'K13' "
                     "and period_type = 'day'").fetchone()[0]
    # rural districts of XZ: 0.85 (rural in XZ); urban ones: XZ's own 0.92
    expected = {r[0]: (r[1], r[2]) for r in db.execute("""
        select d.district_code, any_value(d.scope_target), x.area_type
        from fct_kpi_drilldown as d join dim_districts as x using (district_code)
        where d.kpi_code = 'K13' and d.city_code = 'XZ' and d.activity_date = ?
        group by d.district_code, x.area_type
    """, [day]).fetchall()}
    assert {float(t) for t, area in expected.values() if area == "rural"} <= {0.85}
    assert {float(t) for t, area in expected.values() if area == "urban"} <= {0.92}
    seen = 0
    for row in all_rows(page, "drill-district"):
        member = row["member_key"]
        if member in expected:
            assert _pct(row["own_target"]) == _pct(expected[member][0]), member
            assert cell(page, "drill-district", member, "own_target").inner_text() == _pct(
                expected[member][0])
            seen += 1
    assert seen == len(expected) > 0
    # and in English (the switch lands on the overview: come back)
    page.click("#switch-language")
    page.wait_for_selector("#scorecard")
    page.goto(f"{board_url}/kpi/K13?region=XZ")
    wait_grid(page, "drill-district")
    assert "Own target" in headers(page, "drill-district")
    assert "Targets by scope" in page.locator("#kpi-target-overrides-block summary").inner_text()


def test_flagship_stores_have_their_own_target(page, board_url, db):
    login(page, board_url, "demo_qm")
    page.goto(f"{board_url}/kpi/K01?region=NJ")
    wait_grid(page, "drill-store")
    levels = dict(db.execute("select store_id, store_level from dim_stores "
                             "where city_code = 'NJ'").fetchall())
    checked = set()
    for row in all_rows(page, "drill-store"):
        store = row["member_key"]
        if store in levels:
            want = "95.0%" if levels[store] == "flagship" else "90.0%"
            assert _pct(row["own_target"]) == want, store
            assert cell(page, "drill-store", store, "own_target").inner_text() == want, store
            checked.add(levels[store])
    assert "flagship" in checked


def test_overview_judges_each_region_by_its_own_target(page, board_url, db):
    # XZ's month view: K12 and K13 show XZ's own targets (marked, the catalog's in the
    # tooltip) and the status detection judges; a KPI without override stays unmarked.
    month = db.execute("select max(period_start) from fct_kpi_values "
                       "where period_type = 'month' and region_code = 'XZ'").fetchone()[0]
    expected = {r[0]: r[1:] for r in db.execute(
        "select kpi_code, scope_target, scope_status from fct_kpi_values where period_type = "
        "'month' and region_code = 'XZ' and period_start = ?", [month]).fetchall()}
    login(page, board_url, "demo_qm")
    page.goto(f"{board_url}/?region=XZ&period_type=month&period={month.isoformat()}")
    page.wait_for_function("() => document.querySelectorAll('#scorecard tbody tr').length == 15")
    for kpi, overridden in (("K12", True), ("K13", True), ("K02", False)):
        row = page.locator(f"#scorecard tbody tr[id*='\"{kpi}\"']")
        target, status = expected[kpi]
        cell = row.locator("[data-field=target]")
        assert cell.inner_text() == _pct(target), kpi
        assert (cell.get_attribute("data-overridden") == "true") is overridden, kpi
        assert row.locator(".rag").get_attribute("data-status") == status, kpi
