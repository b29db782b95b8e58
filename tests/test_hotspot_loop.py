"""Hotspots in the closed loop, without the pipeline: a quality manager promotes a hotspot
to an issue through the workflow service (shape, evidence, refusals), the issue is verified
on its series, the closure list names it, and the weekly digest (mail section, workbook
sheet) lists a department's hotspots. The warehouse is a hand-made DuckDB file holding the
hotspot marts' columns."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from openpyxl import load_workbook

from dagster_project.lib.remediation.closure_list import write_department_lists
from dagster_project.lib.remediation.hotspot_digest import (
    WeekHotspots, add_week_sheet, mail_section,
)
from dagster_project.lib.remediation.hotspots import (
    Hotspot, NoSuchHotspot, UnknownSeries, check_series, find_hotspot, hotspot_statuses,
    issue_subject, promote, read_hotspots,
)
from dagster_project.lib.remediation.mailer import closure_body
from dagster_project.lib.remediation.reference import departments
from dagster_project.lib.remediation.rules import InvalidTransition, PermissionRefused
from dagster_project.lib.remediation.store import open_store
from dagster_project.lib.remediation.warehouse_io import closure_row
from dagster_project.lib.remediation.workflow import Workflow

NOW = datetime(2026, 11, 9, 9, 0, 0)
DAY = date(2026, 11, 8)


def hotspot(**override) -> Hotspot:
    values = dict(source="complaint", category="billing", channel="hotline", region="NJ",
                  day=DAY, observed=14, expected=1.5, score=8.25, ratio=9.3333,
                  started_on=DAY, owner_department="BILLING", issue_code="HSC-BILL",
                  changes=(3,))
    values.update(override)
    return Hotspot(**values)


@pytest.fixture(scope="module")
def store_template(tmp_path_factory) -> Path:
    """A migrated store with a quality manager, a BILLING owner and a viewer (scrypt is
    slow: made once, copied per test)."""
    path = tmp_path_factory.mktemp("hotspot-store") / "issues.sqlite"
    store = open_store(f"sqlite:///{path}")
    workflow = Workflow(store, clock=lambda: NOW)
    workflow.add_user("qm", "quality_manager", "password-123")
    workflow.add_user("billing", "department_owner", "password-123", "BILLING")
    workflow.add_user("viewer", "viewer", "password-123")
    store.dispose()
    return path


@pytest.fixture
def workflow(store_template, tmp_path):
    path = tmp_path / "issues.sqlite"
    path.write_bytes(store_template.read_bytes())
    wf = Workflow(open_store(f"sqlite:///{path}"), clock=lambda: NOW)
    yield wf
    wf.store.dispose()


def test_a_promoted_hotspot_is_an_issue_of_its_category_owner(workflow):
    issue_id = promote(workflow, "qm", hotspot())
    view = workflow.issue(issue_id)
    assert (view.kpi_code, view.region_code, view.owner_department, view.severity, view.state,
            view.origin, view.updated_by) == ("HSC-BILL", "NJ", "BILLING", "P3", "open",
                                              "hotspot", "qm")
    [evidence] = workflow.evidence(issue_id)
    assert (evidence["rule"], evidence["period_type"], evidence["period_start"],
            evidence["numerator"], evidence["value"]) == ("HS", "day", DAY, 14, 1.5)
    assert "complaint billing hotline: 14 contacts, 1.5 expected, score 8.25" in evidence["detail"]
    assert "change #3" in evidence["detail"]
    # the department acts on it like on any issue
    assert workflow.allowed_actions(issue_id, "billing") == ["acknowledge", "comment"]


def test_promotion_refusals_change_nothing(workflow):
    for user in ("billing", "viewer"):
        with pytest.raises(PermissionRefused, match="promoting a hotspot needs a quality manager"):
            promote(workflow, user, hotspot())
    assert workflow.issues() == []
    issue_id = promote(workflow, "qm", hotspot())
    # the same category, region and day through another channel is the same evidence
    with pytest.raises(InvalidTransition, match=f"promoted already \\(issue {issue_id}\\)"):
        promote(workflow, "qm", hotspot(channel="online"))
    # the next day's hotspot of the category and region is evidence of the active issue
    assert promote(workflow, "qm", hotspot(day=DAY + timedelta(days=1))) == issue_id
    assert workflow.issue(issue_id).evidence_count == 2
    # another category is another issue, even in the same region and day
    other = promote(workflow, "qm", hotspot(source="call", channel=None, issue_code="HSH-BILL"))
    assert other != issue_id and len(workflow.issues()) == 2


def test_a_hotspot_issue_is_verified_on_its_series(workflow, tmp_path):
    issue_id = promote(workflow, "qm", hotspot())
    workflow.acknowledge(issue_id, "billing", "Wang Wu")
    workflow.plan(issue_id, "billing", "process", "the rollover letter was unclear",
                  "send a corrected letter", NOW.date() + timedelta(days=10))
    workflow.claim_fix(issue_id, "billing", NOW.date(), "corrected letter sent")
    fix = NOW.date()
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("""create table fct_contact_baselines (source varchar, category varchar,
        channel varchar, region_code varchar, contact_day date, observed bigint,
        expected double, expected_high double, is_hotspot boolean)""")
    # 7 days after the fix: every channel within its band, except the online channel one
    # day above its band (amber: the run starts again) -> 8 days are needed
    for i in range(1, 9):
        day = fix + timedelta(days=i)
        con.execute("insert into fct_contact_baselines values ('complaint', 'billing', "
                    "'hotline', 'NJ', ?, 2, 1.5, 4.0, false)", [day])
        con.execute("insert into fct_contact_baselines values ('complaint', 'billing', "
                    "'online', 'NJ', ?, ?, 1.0, 3.0, false)", [day, 5 if i == 1 else 1])
    statuses = hotspot_statuses(con, [("HSC-BILL", "NJ"), ("K01", "NJ")])
    assert statuses == {("HSC-BILL", "NJ"): [(fix + timedelta(days=1), "amber")] + [
        (fix + timedelta(days=i), "green") for i in range(2, 9)]}
    outcome = workflow.verify(statuses)
    assert outcome.verified == [issue_id]
    assert workflow.issue(issue_id).state == "verified"


def test_a_new_hotspot_after_the_fix_reopens(workflow, tmp_path):
    issue_id = promote(workflow, "qm", hotspot())
    workflow.acknowledge(issue_id, "qm", "Wang Wu")
    workflow.plan(issue_id, "billing", "process", "letter", "new letter",
                  NOW.date() + timedelta(days=10))
    workflow.claim_fix(issue_id, "billing", NOW.date(), "sent")
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("""create table fct_contact_baselines as select 'complaint' as source,
        'billing' as category, 'store' as channel, 'NJ' as region_code,
        date '2026-11-11' as contact_day, 20::bigint as observed, 2.0 as expected,
        5.0 as expected_high, true as is_hotspot""")
    assert workflow.verify(hotspot_statuses(con, [("HSC-BILL", "NJ")])).reopened == [issue_id]


def test_the_closure_list_names_a_hotspot_issue(workflow):
    view = workflow.issue(promote(workflow, "qm", hotspot()))
    row = closure_row(view, {"NJ": ("南京", "Nanjing")})
    assert (row.kpi_code, row.kpi_name_zh, row.kpi_name_en) == (
        "HSC-BILL", "热点：计费投诉", "Hotspot: Billing complaints")
    assert issue_subject("K01") == ("K01", "K01")


def test_series_are_checked_against_the_spec():
    check_series("call", "vip", None)
    check_series("complaint", "product", "regulator")
    for args, message in ((("sms", "billing", None), "source must be one of"),
                          (("call", "bill", None), "call category must be one of"),
                          (("call", "billing", "hotline"), "calls have no channel"),
                          (("complaint", "billing", None), "needs its channel"),
                          (("complaint", "billing", "wechat"), "needs its channel")):
        with pytest.raises(UnknownSeries, match=message):
            check_series(*args)


@pytest.fixture
def warehouse(tmp_path) -> duckdb.DuckDBPyConnection:
    """fct_hotspots and fct_hotspot_changes as the marts write them, a few rows."""
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    con.execute("""create table fct_hotspots (contact_day date, source varchar,
        category varchar, channel varchar, region_code varchar, observed bigint,
        expected double, expected_high double, ratio double, score double, day_rank bigint,
        started_on date, owner_department varchar, issue_code varchar)""")
    con.execute("""insert into fct_hotspots values
        ('2026-11-08', 'complaint', 'billing', 'hotline', 'NJ', 14, 1.5, 4.0, 9.3333, 8.25, 2,
         '2026-11-07', 'BILLING', 'HSC-BILL'),
        ('2026-11-08', 'call', 'billing', null, 'NJ', 60, 8.0, 14.0, 7.5, 20.5, 1,
         '2026-11-08', 'BILLING', 'HSH-BILL'),
        ('2026-11-07', 'complaint', 'billing', 'hotline', 'NJ', 12, 1.5, 4.0, 8.0, 6.0, 1,
         '2026-11-07', 'BILLING', 'HSC-BILL'),
        ('2026-11-02', 'call', 'mobile', null, 'CZ', 40, 3.0, 7.0, 13.3333, 15.0, 1,
         '2026-11-02', 'NETWORK', 'HSH-MOB')""")
    con.execute("""create table fct_hotspot_changes as select 'complaint' as source,
        'billing' as category, 'hotline' as channel, 'NJ' as region_code,
        date '2026-11-07' as started_on, 3::bigint as change_id""")
    return con


def test_read_and_find_hotspots(warehouse):
    found = read_hotspots(warehouse, DAY)
    assert [(h.source, h.score, h.changes) for h in found] == [("call", 20.5, ()),
                                                                ("complaint", 8.25, (3,))]
    assert found[1].as_json() == {
        "source": "complaint", "category": "billing", "channel": "hotline", "region": "NJ",
        "day": "2026-11-08", "observed": 14, "expected": 1.5, "score": 8.25, "ratio": 9.3333,
        "started_on": "2026-11-07", "owner_department": "BILLING", "issue_code": "HSC-BILL",
        "changes": [3]}
    assert find_hotspot(warehouse, "call", "billing", None, "NJ", DAY).observed == 60
    with pytest.raises(NoSuchHotspot, match="no hotspot of call billing in WX on 2026-11-08"):
        find_hotspot(warehouse, "call", "billing", None, "WX", DAY)
    assert read_hotspots(warehouse, date(2026, 11, 2), DAY, department="NETWORK")[0].region == "CZ"


def test_the_weekly_digest(warehouse, tmp_path):
    week = WeekHotspots(date(2026, 11, 2), DAY, {})
    for h in read_hotspots(warehouse, week.first, week.last):
        week.by_department.setdefault(h.owner_department, []).append(h)
    lines = mail_section(week, "BILLING")
    assert lines[0] == ("本周热点 Hotspots of the week (2026-11-02 … 2026-11-08): "
                        "2 项 series, 3 天次 hotspot days")
    # one line per series, its most surprising day, most surprising series first
    assert lines[1].startswith("  2026-11-08 NJ 计费业务来电 Billing calls: 60 (预期 expected 8.0)")
    assert lines[2] == ("  2026-11-08 NJ 计费投诉 · 热线 Billing complaints · hotline: 14 "
                        "(预期 expected 1.5), 异常分 score 8.2, 2 天 days，变更 change #3")
    assert mail_section(week, "SERVICE")[0].endswith("无 none")
    files = write_department_lists({}, list(departments().values()), tmp_path / "lists", NOW)
    billing = next(f for f in files if f.department_code == "BILLING")
    body = closure_body(billing, NOW.date(), lines)
    assert body.index("本周热点") < body.index("附件 Attachment")
    add_week_sheet(billing.xlsx, week, "BILLING")
    sheet = load_workbook(billing.xlsx)["本周热点"]
    rows = list(sheet.iter_rows(min_row=4, values_only=True))
    assert [(r[0].date(), r[1], r[3], r[4]) for r in rows] == [
        (DAY, "NJ", "Billing calls", 60), (DAY, "NJ", "Billing complaints · hotline", 14),
        (date(2026, 11, 7), "NJ", "Billing complaints · hotline", 12)]
    assert load_workbook(billing.xlsx).sheetnames == ["销项清单", "本周热点"]
