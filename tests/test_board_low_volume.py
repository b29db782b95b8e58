"""Low-volume values on the KPI page, and why a red value has an issue or none
(closed-loop.md section 1, "Minimum volume"; docs/decisions.md, the closed loop): the pure
rule and builders on hand-made facts, then the page in a real browser on the sample home,
each mark checked against the published copy and the issue store with our own SQL."""

from __future__ import annotations

import json
import sqlite3
from datetime import date, timedelta

import duckdb
import pandas as pd
import pytest

from dagster_project.lib.publish import board_path
from dashboards.components.charts import trend_figure
from dashboards.components.detection import (DetectionFacts, Judgement, judge, reason_mark,
                                             reason_text)
from dashboards.components.tables import city_breakdown_table, member_rows, with_values
from dashboards.i18n import TEXT

from .board_grid import all_rows, wait_grid
from .conftest import login

# the page's English texts (labels are the builders' only source of words)
LABELS = {k: en for k, (_, en) in TEXT.items()}
K03 = {"kpi_code": "K03", "scale": 1, "target": 0.80, "red_threshold": 0.70,
       "direction": "up", "min_volume": 50}

# A daily KPI as detection saw it on T = 2026-11-09 with a 28-day look-back: complete
# through 2026-11-08, breaches before 2026-10-12 open no issue.
FACTS = DetectionFacts(
    grain="day",
    signalled=frozenset({("NJ", "day", date(2026, 11, 7)), ("NJ", "day", date(2026, 10, 1)),
                         ("SZ", "day", date(2026, 11, 8)), ("JS", "week", date(2026, 10, 26))}),
    evidence={("NJ", "day", date(2026, 11, 7)): 12, ("YZ", "week", date(2026, 11, 2)): 9},
    complete_through=date(2026, 11, 8), oldest_day=date(2026, 10, 12), lookback_days=28)


# -- the rule -------------------------------------------------------------------------------

def test_judge_follows_detection_order():
    red = lambda region, start, period_type="day", low=False, n=100: judge(  # noqa: E731
        FACTS, region, period_type, start, "red", low, n, 50)
    assert judge(FACTS, "NJ", "day", date(2026, 11, 7), "amber", False) is None
    assert red("NJ", date(2026, 11, 7)) == Judgement("issue", issue_id=12)
    assert red("NJ", date(2026, 11, 1), "month").reason == "not_judged"  # a daily KPI's month
    assert red("NJ", date(2026, 11, 9)).reason == "not_complete"          # T itself
    # the week of 11-02 ends on 11-08, a complete day; the week of 11-09 is not complete
    assert red("JS", date(2026, 11, 9), "week").reason == "not_complete"
    assert red("JS", date(2026, 11, 2), "week").reason == "no_signal"
    assert red("JS", date(2026, 10, 26), "week").reason == "pending"
    assert red("YZ", date(2026, 11, 8), low=True, n=18) == Judgement(
        "low_volume", n=18, min_volume=50, week_issue_id=9)  # Sunday of the week of 11-02
    assert red("YZ", date(2026, 11, 9 - 7), low=True, n=3).week_issue_id == 9  # its Monday
    assert red("YZ", date(2026, 11, 1), low=True, n=3).week_issue_id is None   # the week before
    assert red("NJ", date(2026, 10, 1)) == Judgement("too_old", oldest_day=date(2026, 10, 12),
                                                     lookback_days=28)
    assert red("SZ", date(2026, 11, 8)).reason == "pending"     # a signal not acted on yet
    assert red("WX", date(2026, 11, 8)).reason == "no_signal"   # nothing in the warehouse
    monthly = DetectionFacts("month", frozenset({("NJ", "month", date(2026, 10, 1))}), {},
                             date(2026, 11, 8), date(2026, 10, 12), 28)
    assert judge(monthly, "NJ", "month", date(2026, 10, 1), "red", False).reason == "pending"
    assert judge(monthly, "NJ", "month", date(2026, 11, 1), "red", False).reason == \
        "not_complete"  # November ends after T
    # the look-back counts from the breach day: the week of 10-05 ends 10-11, before 10-12
    weekly = DetectionFacts("day", frozenset({("NJ", "week", date(2026, 10, 5)),
                                              ("NJ", "week", date(2026, 10, 6))}), {},
                            date(2026, 11, 8), date(2026, 10, 12), 28)
    assert judge(weekly, "NJ", "week", date(2026, 10, 5), "red", False).reason == "too_old"
    assert judge(weekly, "NJ", "week", date(2026, 10, 6), "red", False).reason == "pending"


def test_reason_texts_in_both_languages():
    low = Judgement("low_volume", n=3, min_volume=30)
    assert reason_text(low, LABELS) == "no issue: low volume (n=3 < 30), R1–R3 do not judge it"
    zh = {k: text for k, (text, _) in TEXT.items()}
    assert "n=3 < 30" in reason_text(low, zh) and "样本量不足" in reason_text(low, zh)
    old = Judgement("too_old", oldest_day=date(2026, 10, 12), lookback_days=28)
    assert "before 2026-10-12, T − 28 days" in reason_text(old, LABELS)
    linked = reason_mark(Judgement("issue", issue_id=12), LABELS)
    assert linked.children.href == "/issues/12" and linked.children.children == \
        "evidence of issue #12"
    week = reason_mark(Judgement("low_volume", n=3, min_volume=30, week_issue_id=9), LABELS)
    assert week.children[2].children.href == "/issues/9"
    assert reason_mark(None, LABELS) is None


# -- the builders ---------------------------------------------------------------------------

def _cities() -> pd.DataFrame:
    """NJ: 2 of 3 answered (66.7%, n=3 < 50, red) on the day, 40 of 60 in the month (n=60:
    not low volume, red); SZ: 45 of 50 on the day (90%, green, n=50 = min_volume: judged)."""
    return pd.DataFrame({
        "city_code": ["NJ", "SZ"], "city_name_zh": ["南京", "苏州"],
        "city_name_en": ["Nanjing", "Suzhou"],
        "day_numerator": [2, 45], "day_denominator": [3, 50], "day_value": [2 / 3, 0.9],
        "day_status": ["red", "green"], "day_low_volume": [True, False],
        "day_min_volume": [50, 50],
        "month_numerator": [40, 45], "month_denominator": [60, 50],
        "month_value": [40 / 60, 0.9], "month_status": ["red", "green"],
        "month_low_volume": [False, False], "month_min_volume": [50, 50]})


def test_city_table_marks_low_volume_and_says_why_no_issue():
    judgements = {("NJ", "day"): Judgement("low_volume", n=3, min_volume=50),
                  ("NJ", "month"): Judgement("not_judged"), ("SZ", "day"): None}
    table = city_breakdown_table(_cities(), "ratio", "en", LABELS, "Day", "Month",
                                 judgements=judgements)
    nj, sz = table.children[1].children
    value, status = nj.children[1], nj.children[4]
    assert value.children[0].children == "66.7%"
    mark = value.children[2]
    assert mark.children == "low volume (n=3)" and mark.title == \
        "n=3 < 50: not judged by R1–R3"
    assert status.children[0].children == "red"
    assert status.children[2].children == ["no issue: low volume (n=3 < 50), R1–R3 do not "
                                           "judge it"]
    month_status = nj.children[8]
    assert month_status.children[2].children[0].startswith("no issue: a daily KPI's month")
    # SZ: n=50 reaches min_volume; green: no mark, no reason
    assert len(sz.children[1].children) == 1 and len(sz.children[4].children) == 1


def test_drilldown_rows_mark_values_below_min_volume():
    members = with_values(pd.DataFrame({
        "member": ["T1", "T2", "T3", "T4"], "member_name": ["a", "b", "c", "d"],
        "numerator": [2, 45, 40, 0], "denominator": [3, 50, 49, 0]}), K03)
    assert list(members["low_volume"]) == [True, False, True, False]  # 0 calls: no value
    rows = member_rows(members, "ratio", LABELS)
    assert [r.get("volume_note") for r in rows] == [
        "low volume (n=3)", None, "low volume (n=49)", None]
    assert rows[0]["volume_title"] == "n=3 < 50: not judged by R1–R3"
    # a KPI without min_volume (an older catalog) marks nothing
    plain = with_values(pd.DataFrame({"member": ["T1"], "member_name": ["a"],
                                      "numerator": [2], "denominator": [3]}),
                        {k: v for k, v in K03.items() if k != "min_volume"})
    assert list(plain["low_volume"]) == [False]


def test_trend_marks_low_volume_points_hollow_with_their_n():
    points = pd.DataFrame({
        "period_start": pd.to_datetime(["2026-11-06", "2026-11-07", "2026-11-08"]),
        "value": [0.9, 2 / 3, 0.6], "status": ["green", "red", "red"],
        "numerator": [90, 2, 60], "denominator": [100, 3, 100],
        "low_volume": [False, True, False], "min_volume": [50, 50, 50]})
    figure = trend_figure(points, 0.8, 0.7, "ratio", LABELS,
                          reasons=["", "why 1", "evidence of issue #12"])
    values = figure["data"][0]
    assert values["marker"]["symbol"] == ["circle", "circle-open", "circle"]
    assert [c[2] for c in values["customdata"]] == [
        "", "<br>n=3 < 50<br>why 1", "<br>evidence of issue #12"]
    assert [tr["name"] for tr in figure["data"]] == [
        "Value", "Target", "Red threshold", "low volume (n < 50)"]
    no_low = trend_figure(points.assign(low_volume=False), 0.8, 0.7, "ratio", LABELS)
    assert [tr["name"] for tr in no_low["data"]] == ["Value", "Target", "Red threshold"]
    assert no_low["data"][0]["marker"]["symbol"] == ["circle"] * 3


# -- through the real server, on the sample home -------------------------------------------

@pytest.fixture(scope="module")
def db(board_home):
    con = duckdb.connect(str(board_path(board_home)), read_only=True)
    yield con
    con.close()


def _evidence(board_home, kpi: str) -> dict[tuple[str, str, date], int]:
    con = sqlite3.connect(board_home / "issues.sqlite")
    try:
        return {(r, pt, date.fromisoformat(ps)): i for r, pt, ps, i in con.execute(
            "select region_code, period_type, period_start, issue_id from issue_evidence "
            "where kpi_code = ? order by issue_id", [kpi])}
    finally:
        con.close()


def _expected_reason(db, evidence, kpi: str, region: str, period_type: str, start: date,
                     low: bool, min_volume: int) -> str:
    """The test's own reading of the rule, from the published copy and the issue store."""
    as_of, = db.execute("select as_of_date from dim_as_of").fetchone()
    complete = as_of - timedelta(days=4 if kpi == "K04" else 1)
    end = start + timedelta(days=6) if period_type == "week" else start
    if period_type == "month":
        end = (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    if (region, period_type, start) in evidence:
        return "issue"
    if period_type == "month":
        return "not_judged"  # the KPIs below are daily
    if end > complete:
        return "not_complete"
    if low:
        return "low_volume"
    signalled = db.execute(
        "select count(*) from fct_kpi_breach_signals where kpi_code = ? and region_code = ? "
        "and period_type = ? and period_start = ? and rule <> 'R4'",
        [kpi, region, period_type, start]).fetchone()[0]
    if not signalled:
        return "no_signal"
    return "too_old" if end < as_of - timedelta(days=28) else "pending"


def test_k03_city_table_marks_and_reasons(page, board_url, board_home, db):
    """K03 on the latest day: every city whose n is below 50 carries 'low volume (n=…)', every
    red value its issue link or the reason there is none."""
    kpi = "K03"
    day, = db.execute("select max(period_start) from fct_kpi_values where kpi_code = ? and "
                      "period_type = 'day'", [kpi]).fetchone()
    month = day.replace(day=1)
    min_volume, = db.execute("select min_volume from dim_kpi where kpi_code = ?",
                             [kpi]).fetchone()
    assert min_volume == 50
    evidence = _evidence(board_home, kpi)
    login(page, board_url, "demo_qm")
    page.goto(f"{board_url}/kpi/{kpi}")
    page.wait_for_selector("#kpi-city-table tbody tr")
    reasons_seen = set()
    for period_type, start in (("day", day), ("month", month)):
        values = db.execute(
            "select region_code, denominator, scope_status from fct_kpi_values where "
            "kpi_code = ? and period_type = ? and period_start = ? and region_code <> 'JS'",
            [kpi, period_type, start]).fetchall()
        assert values
        for city, n, status in values:
            row = page.locator(f"#kpi-city-table tbody tr[id*='\"{city}\"']")
            value = row.locator(f"[data-field={period_type}-value]")
            mark = value.locator(".low-volume")
            low = n < min_volume  # the rule by hand, not the warehouse's flag
            assert mark.count() == (1 if low else 0), (city, period_type, n)
            if low:
                assert mark.inner_text() == f"low volume (n={n})" or \
                    mark.inner_text() == f"样本量不足（n={n}）"
            reason = row.locator(f"[data-field={period_type}-status] .issue-reason")
            if status != "red":
                assert reason.count() == 0, (city, period_type)
                continue
            expected = _expected_reason(db, evidence, kpi, city, period_type, start, low,
                                        min_volume)
            assert reason.get_attribute("data-reason") == expected, (city, period_type)
            reasons_seen.add(expected)
            if expected == "issue":
                issue = evidence[(city, period_type, start)]
                assert reason.locator("a").get_attribute("href") == f"/issues/{issue}"
    # the sample's K03 has red cities that are low volume on the latest day (n < 50)
    assert "low_volume" in reasons_seen


def test_k02_province_trend_hollow_points_and_red_list(page, board_url, board_home, db):
    """The province's K02 trend: hollow markers exactly on the low-volume days, and the list
    of red days, each linked to its issue or told why none (the sample has red province days
    older than T - 28 days that opened nothing)."""
    kpi, region = "K02", "JS"
    day, = db.execute("select max(period_start) from fct_kpi_values where kpi_code = ? and "
                      "period_type = 'day'", [kpi]).fetchone()
    points = db.execute(
        "select period_start, denominator, scope_status from fct_kpi_values where kpi_code = ? "
        "and region_code = ? and period_type = 'day' and period_start > ? order by 1",
        [kpi, region, day - timedelta(days=90)]).fetchall()
    evidence = _evidence(board_home, kpi)
    login(page, board_url, "demo_qm")
    page.goto(f"{board_url}/kpi/{kpi}?region={region}")
    page.wait_for_selector("#kpi-trend .js-plotly-plot .main-svg", timeout=20_000)
    symbols = page.evaluate(
        "document.querySelector('#kpi-trend .js-plotly-plot').data[0].marker.symbol")
    assert symbols == ["circle-open" if n < 50 else "circle" for _, n, _ in points]
    red = [(d, n) for d, n, status in points if status == "red"]
    rows = page.locator("#kpi-trend-red tbody tr")
    assert rows.count() == len(red) > 0
    shown = {}
    for i in range(rows.count()):
        row = rows.nth(i)
        shown[json.loads(row.get_attribute("id"))["day"]] = row.locator(
            ".issue-reason").get_attribute("data-reason")
    expected = {d.isoformat(): _expected_reason(db, evidence, kpi, region, "day", d, n < 50, 50)
                for d, n in red}
    assert shown == expected
    assert "too_old" in shown.values() and "issue" in shown.values()


def test_k03_drilldown_grid_marks_low_volume_members(page, board_url, db):
    """K03 in YZ on the latest day, by team: a team with fewer than 50 calls has its value
    marked 'low volume (n=…)' in the grid, the others not."""
    day, = db.execute("select max(activity_date) from fct_kpi_drilldown where kpi_code = "
                      "'K03'").fetchone()
    teams = dict(db.execute(
        "select coalesce(team_id, '(none)'), sum(denominator) from fct_kpi_drilldown where "
        "kpi_code = 'K03' and city_code = 'YZ' and activity_date = ? group by 1",
        [day]).fetchall())
    login(page, board_url, "demo_qm")
    page.goto(f"{board_url}/kpi/K03?region=YZ")
    wait_grid(page, "drill-team")
    rows = all_rows(page, "drill-team")
    assert {r["member_key"]: r["denominator"] for r in rows} == teams
    assert len(rows) <= 100  # one page: every row is drawn
    marked = 0
    for r in rows:
        low = 0 < r["denominator"] < 50
        assert bool(r.get("low_volume")) == low, r
        cell = page.locator(f"#drill-team .ag-row[row-id='{r['member_key']}'] [col-id=value]")
        assert cell.locator(".low-volume").count() == (1 if low else 0), r
        if low:
            assert f"n={r['denominator']}" in cell.inner_text()
            marked += 1
    assert marked > 0  # a city's teams on one day: some have fewer than 50 calls
