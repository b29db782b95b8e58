"""Closure list files: the workbook read back cell by cell, the CSV read back with csv.

Four hand-made issues: a closed one (with its satisfaction post-evaluation), a verifying
one (3/7), an overdue one escalated to level 2 with awkward Chinese free text, and a plain
overdue P3 one.
"""

from __future__ import annotations

import csv
from datetime import date, datetime
from types import SimpleNamespace

import openpyxl
import pytest

from dagster_project.lib.remediation.closure_list import (
    COLUMN_KEYS,
    COLUMNS,
    ESCALATED_FILL,
    FIRST_DATA_ROW,
    HEADER_ROW_EN,
    HEADER_ROW_ZH,
    OVERDUE_FILL,
    SHEET_TITLE,
    ClosureListFiles,
    ClosureRow,
    Department,
    SatisfactionCells,
    closure_list_file_stem,
    write_closure_csv,
    write_closure_workbook,
    write_department_lists,
)

ACTIONS = '1. 增加"高峰"窗口, 调整排班;\n2. 培训新员工，"一次办结"'
GENERATED = datetime(2026, 11, 23, 8, 0)
DEPARTMENTS = [
    Department("CHANNEL", "渠道运营部", "Channel & store operations"),
    Department("HOTLINE", "10000号客服中心", "10000 hotline center"),
]


# 3 of 4 satisfied before, 1 of 2 after: -0.25 (binary fractions, exact in floats)
EVALUATED = SatisfactionCells(before_rate=0.75, after_rate=0.5, rate_change=-0.25,
                              status="evaluated", after_days_observed=30)
SATISFACTION_KEYS = ("satisfaction_before", "satisfaction_after", "satisfaction_change",
                     "satisfaction_status", "satisfaction_after_days")


def make_row(**overrides) -> ClosureRow:
    base = dict(
        issue_id=1, kpi_code="K01", kpi_name_zh="营业厅平均等待时长",
        kpi_name_en="Average store waiting time", region_code="GZ", region_name_zh="广州",
        region_name_en="Guangzhou", severity="P2", state="open",
        opened_at=datetime(2026, 11, 20, 9, 30), current_deadline=datetime(2026, 11, 22, 9, 30),
        days_open=3, days_overdue=0, escalation_level=0, responsible=None,
        root_cause_category=None, corrective_actions=None, target_date=None, fix_date=None,
        verification_days=None, closed_at=None, reopen_count=0,
        last_update=datetime(2026, 11, 21, 10, 0), overdue=False,
    )
    base.update(overrides)
    return ClosureRow(**base)


@pytest.fixture
def rows() -> list[ClosureRow]:
    closed = make_row(
        issue_id=3, severity="P1", state="closed", current_deadline=None, days_open=25,
        responsible="李四", root_cause_category="staffing", corrective_actions="补充人员",
        target_date=date(2026, 11, 10), fix_date=date(2026, 11, 8),
        closed_at=datetime(2026, 11, 18, 16, 45), reopen_count=1,
        last_update=datetime(2026, 11, 18, 16, 45), satisfaction=EVALUATED)
    verifying = make_row(
        issue_id=7, severity="P2", state="verifying", current_deadline=None, days_open=12,
        responsible="王五", root_cause_category="system", corrective_actions="升级叫号系统",
        target_date=date(2026, 11, 25), fix_date=date(2026, 11, 19), verification_days=3)
    escalated = make_row(
        issue_id=9, severity="P2", state="acknowledged",
        opened_at=datetime(2026, 10, 20, 8, 0), current_deadline=datetime(2026, 10, 25, 8, 0),
        days_open=34, days_overdue=29, escalation_level=2, responsible="张三",
        root_cause_category="process", corrective_actions=ACTIONS,
        target_date=date(2026, 11, 30), overdue=True)
    overdue_p3 = make_row(
        issue_id=5, severity="P3", state="open", days_open=6, days_overdue=3,
        current_deadline=datetime(2026, 11, 20, 9, 30), overdue=True)
    return [closed, verifying, escalated, overdue_p3]


# Expected order: overdue by days overdue desc (9: 29 days, 5: 3 days), then P1 (3), P2 (7).
EXPECTED_ORDER = [9, 5, 3, 7]


def col(key: str) -> int:
    return COLUMN_KEYS.index(key) + 1


def no_temp_files(folder) -> bool:
    return not [p for p in folder.iterdir() if p.name.startswith(".") or p.suffix == ".tmp"]


# --------------------------------------------------------------------------- workbook


@pytest.fixture
def sheet(rows, tmp_path):
    path = write_closure_workbook(
        rows, tmp_path / "list.xlsx", department_code="CHANNEL",
        department_name_zh="渠道运营部", department_name_en="Channel & store operations",
        generated_at=GENERATED)
    assert path == tmp_path / "list.xlsx"
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == [SHEET_TITLE]
    return wb[SHEET_TITLE]


def test_workbook_headers_bilingual_bold_filled(sheet):
    zh = [c.value for c in sheet[HEADER_ROW_ZH]]
    en = [c.value for c in sheet[HEADER_ROW_EN]]
    assert zh == [h for _, h, _ in COLUMNS]
    assert en == [h for _, _, h in COLUMNS]
    assert zh[0] == "问题编号" and en[0] == "Issue ID"
    assert "整改措施" in zh and "Corrective actions" in en
    assert "指标名称" in zh and "KPI name" in en
    for row in (HEADER_ROW_ZH, HEADER_ROW_EN):
        cell = sheet.cell(row, 1)
        assert cell.font.b is True
        assert cell.fill.fill_type == "solid"
    assert FIRST_DATA_ROW == HEADER_ROW_EN + 1 == HEADER_ROW_ZH + 2
    assert "渠道运营部" in sheet.cell(1, 1).value and "CHANNEL" in sheet.cell(1, 1).value


def test_workbook_sort_order_and_layout(sheet):
    ids = [sheet.cell(r, 1).value for r in range(FIRST_DATA_ROW, sheet.max_row + 1)]
    assert ids == EXPECTED_ORDER
    assert sheet.freeze_panes == f"B{FIRST_DATA_ROW}"
    last = openpyxl.utils.get_column_letter(len(COLUMNS))
    assert sheet.auto_filter.ref == f"A{HEADER_ROW_EN}:{last}{HEADER_ROW_EN + 4}"


def test_workbook_escalated_row_values_and_types(sheet):
    r = FIRST_DATA_ROW  # issue 9
    cell = lambda key: sheet.cell(r, col(key))  # noqa: E731
    assert cell("issue_id").value == 9 and cell("issue_id").data_type == "n"
    assert cell("kpi_code").value == "K01"
    assert cell("kpi_name_zh").value == "营业厅平均等待时长"
    assert cell("kpi_name_en").value == "Average store waiting time"
    assert (cell("region_code").value, cell("region_name_zh").value) == ("GZ", "广州")
    assert cell("severity").value == "P2" and cell("state").value == "acknowledged"
    opened = cell("opened_at")
    assert isinstance(opened.value, datetime) and opened.value == datetime(2026, 10, 20, 8, 0)
    assert opened.is_date and "yyyy-mm-dd" in opened.number_format and "hh:mm" in opened.number_format
    assert cell("current_deadline").value == datetime(2026, 10, 25, 8, 0)
    assert (cell("days_open").value, cell("days_overdue").value) == (34, 29)
    assert cell("escalation_level").value == 2
    assert cell("responsible").value == "张三"
    assert cell("root_cause_category").value == "process"
    actions = cell("corrective_actions")
    assert actions.value == ACTIONS and actions.alignment.wrap_text is True
    target = cell("target_date")
    assert target.is_date and target.value == datetime(2026, 11, 30)
    assert target.number_format == "yyyy-mm-dd"
    assert cell("fix_date").value is None
    assert cell("verification_progress").value is None
    assert cell("closed_at").value is None
    assert cell("reopen_count").value == 0
    assert cell("last_update").value == datetime(2026, 11, 21, 10, 0)


def test_workbook_verifying_and_closed_rows(sheet):
    closed, verifying = FIRST_DATA_ROW + 2, FIRST_DATA_ROW + 3
    assert sheet.cell(verifying, col("verification_progress")).value == "3/7"
    assert sheet.cell(verifying, col("fix_date")).value == datetime(2026, 11, 19)
    assert sheet.cell(verifying, col("current_deadline")).value is None
    closed_at = sheet.cell(closed, col("closed_at"))
    assert closed_at.is_date and closed_at.value == datetime(2026, 11, 18, 16, 45)
    assert sheet.cell(closed, col("state")).value == "closed"
    assert sheet.cell(closed, col("reopen_count")).value == 1


def test_workbook_fills_and_widths(sheet):
    escalated, overdue, normal = FIRST_DATA_ROW, FIRST_DATA_ROW + 1, FIRST_DATA_ROW + 3
    for c in (1, col("corrective_actions"), len(COLUMNS)):
        assert sheet.cell(escalated, c).fill.fgColor.rgb == ESCALATED_FILL
        assert sheet.cell(overdue, c).fill.fgColor.rgb == OVERDUE_FILL
        assert sheet.cell(normal, c).fill.fill_type is None
    assert ESCALATED_FILL != OVERDUE_FILL
    letter = openpyxl.utils.get_column_letter(col("corrective_actions"))
    assert sheet.column_dimensions[letter].width >= 40
    assert sheet.column_dimensions["A"].width < sheet.column_dimensions[letter].width


def test_workbook_keeps_formula_like_text_as_text(tmp_path):
    row = make_row(corrective_actions="=HYPERLINK(\"x\")\x07 ok")
    path = write_closure_workbook([row], tmp_path / "f.xlsx", department_code="C",
                                  department_name_zh="部", department_name_en="Dept",
                                  generated_at=GENERATED)
    cell = openpyxl.load_workbook(path).active.cell(FIRST_DATA_ROW, col("corrective_actions"))
    assert cell.data_type == "s" and cell.value == '=HYPERLINK("x") ok'


# --------------------------------------------------------------------------- CSV


def read_csv(path) -> tuple[bytes, list[dict[str, str]], list[str]]:
    raw = path.read_bytes()
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        return raw, list(reader), list(reader.fieldnames or [])


def test_csv_round_trip(rows, tmp_path):
    path = write_closure_csv(rows, tmp_path / "list.csv")
    raw, records, header = read_csv(path)
    assert raw.startswith(b"\xef\xbb\xbf")
    assert header == list(COLUMN_KEYS)
    assert b"\r\n" not in raw
    assert [int(r["issue_id"]) for r in records] == EXPECTED_ORDER
    escalated, overdue, closed, verifying = records
    assert escalated["corrective_actions"] == ACTIONS
    assert escalated["opened_at"] == "2026-10-20 08:00:00"
    assert escalated["target_date"] == "2026-11-30"
    assert escalated["days_overdue"] == "29" and escalated["escalation_level"] == "2"
    assert escalated["kpi_name_zh"] == "营业厅平均等待时长"
    assert escalated["fix_date"] == "" and escalated["closed_at"] == ""
    assert escalated["verification_progress"] == ""
    assert overdue["responsible"] == "" and overdue["corrective_actions"] == ""
    assert verifying["verification_progress"] == "3/7"
    assert verifying["current_deadline"] == ""
    assert closed["closed_at"] == "2026-11-18 16:45:00" and closed["reopen_count"] == "1"
    assert no_temp_files(tmp_path)


def test_csv_replaces_existing_file_atomically(rows, tmp_path):
    path = tmp_path / "list.csv"
    path.write_text("old content\n", encoding="utf-8")
    write_closure_csv(rows[:1], path)
    _, records, _ = read_csv(path)
    assert [int(r["issue_id"]) for r in records] == [3]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["list.csv"]


def test_failed_write_leaves_no_partial_file(tmp_path):
    path = tmp_path / "list.csv"
    # Sorts fine, then fails after the header and the first row are written.
    broken = SimpleNamespace(issue_id=2, overdue=False, days_overdue=0, severity="P3")
    with pytest.raises(AttributeError):
        write_closure_csv([make_row(), broken], path)  # type: ignore[list-item]
    assert list(tmp_path.iterdir()) == []


def test_invalid_severity_is_refused():
    with pytest.raises(ValueError, match="severity"):
        make_row(severity="P4")


# --------------------------------------------------------------------------- per department


def test_file_stem():
    assert closure_list_file_stem("CHANNEL", date(2026, 11, 23)) == "closure_list_CHANNEL_20261123"


def test_department_lists_counts_and_empty_department(rows, tmp_path):
    out = tmp_path / "lists"
    files = write_department_lists({"CHANNEL": rows}, DEPARTMENTS, out, GENERATED)
    assert [f.department_code for f in files] == ["CHANNEL", "HOTLINE"]
    channel, hotline = files
    assert channel == ClosureListFiles("CHANNEL", out / "closure_list_CHANNEL_20261123.xlsx",
                                       out / "closure_list_CHANNEL_20261123.csv", 4, 2, 1)
    assert (hotline.rows, hotline.overdue, hotline.escalated) == (0, 0, 0)
    assert hotline.xlsx.name == "closure_list_HOTLINE_20261123.xlsx"

    ws = openpyxl.load_workbook(hotline.xlsx)[SHEET_TITLE]
    assert ws.max_row == HEADER_ROW_EN
    assert [c.value for c in ws[HEADER_ROW_EN]] == [h for _, _, h in COLUMNS]
    assert "10000号客服中心" in ws.cell(1, 1).value
    raw, records, header = read_csv(hotline.csv)
    assert header == list(COLUMN_KEYS) and records == []
    assert raw == ("\ufeff" + ",".join(COLUMN_KEYS) + "\n").encode("utf-8")

    ws = openpyxl.load_workbook(channel.xlsx)[SHEET_TITLE]
    assert ws.max_row == FIRST_DATA_ROW + 3
    assert sorted(p.name for p in out.iterdir()) == [
        "closure_list_CHANNEL_20261123.csv", "closure_list_CHANNEL_20261123.xlsx",
        "closure_list_HOTLINE_20261123.csv", "closure_list_HOTLINE_20261123.xlsx",
    ]
    assert no_temp_files(out)


def test_department_lists_refuse_unknown_department(rows, tmp_path):
    with pytest.raises(ValueError, match="BILLING"):
        write_department_lists({"BILLING": rows}, DEPARTMENTS, tmp_path / "out", GENERATED)
    assert not (tmp_path / "out").exists()




# --------------------------------------------------------------------------- satisfaction


def test_workbook_satisfaction_cells_of_the_closed_issue_only(sheet):
    zh = [c.value for c in sheet[HEADER_ROW_ZH]]
    en = [c.value for c in sheet[HEADER_ROW_EN]]
    assert zh[col("satisfaction_before") - 1] == "开单前满意率"
    assert en[col("satisfaction_change") - 1] == "Satisfaction change"
    closed = FIRST_DATA_ROW + 2  # issue 3
    cell = lambda key: sheet.cell(closed, col(key))  # noqa: E731
    assert cell("satisfaction_before").value == 0.75
    assert cell("satisfaction_before").number_format == "0.0%"
    assert cell("satisfaction_after").value == 0.5
    assert cell("satisfaction_change").value == -0.25
    assert cell("satisfaction_change").number_format == "+0.0%;-0.0%;0.0%"
    assert cell("satisfaction_status").value == "evaluated"
    assert cell("satisfaction_after_days").value == 30
    for other in (FIRST_DATA_ROW, FIRST_DATA_ROW + 1, FIRST_DATA_ROW + 3):  # 9, 5, 7: not closed
        assert [sheet.cell(other, col(k)).value for k in SATISFACTION_KEYS] == [None] * 5


def test_csv_satisfaction_cells(rows, tmp_path):
    _, records, _ = read_csv(write_closure_csv(rows, tmp_path / "list.csv"))
    escalated, overdue, closed, verifying = records
    assert [closed[k] for k in SATISFACTION_KEYS] == ["0.75", "0.5", "-0.25", "evaluated", "30"]
    for record in (escalated, overdue, verifying):
        assert [record[k] for k in SATISFACTION_KEYS] == [""] * 5


def test_pending_satisfaction_shows_the_days_so_far_and_no_change(tmp_path):
    pending = SatisfactionCells(before_rate=0.25, after_rate=1.0, rate_change=None,
                                status="pending", after_days_observed=5)
    row = make_row(state="closed", closed_at=datetime(2026, 11, 18, 16, 45),
                   current_deadline=None, satisfaction=pending)
    _, records, _ = read_csv(write_closure_csv([row], tmp_path / "list.csv"))
    assert [records[0][k] for k in SATISFACTION_KEYS] == ["0.25", "1.0", "", "pending", "5"]


def test_satisfaction_refused_for_an_issue_that_is_not_closed():
    with pytest.raises(ValueError, match="verifying"):
        make_row(state="verifying", satisfaction=EVALUATED)


def test_unknown_satisfaction_status_is_refused():
    with pytest.raises(ValueError, match="done"):
        SatisfactionCells(before_rate=None, after_rate=None, rate_change=None, status="done",
                          after_days_observed=0)
