"""Department closure list (销项清单, closed-loop.md section 6) as an Excel workbook and a CSV.

The workbook is for people (a department owner opens it on Monday morning): two header
rows (Chinese, then English), real Excel dates, overdue rows in red, overdue issues first.
The CSV is for machines: one header row of stable snake_case keys, ISO dates, UTF-8 with a
BOM so that Excel still shows the Chinese text when someone double-clicks it; a text cell
that Excel would take for a formula gets a `'` in front (csv_cells.neutralise), while the
workbook stores every text as a text cell.

Both files are written to a temporary name in the target folder and renamed into place,
so a reader (the mailer, a file share) never sees a partial file under the final name.
Nothing here reads the issue store: the caller builds `ClosureRow`s.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from ..csv_cells import neutralise
from .reference import Department

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
SEVERITIES = ("P1", "P2", "P3")
SHEET_TITLE = "销项清单"

# Workbook layout: a two-line title, then the Chinese and the English header rows
# directly above the data. Exported so callers and tests need not guess.
HEADER_ROW_ZH = 3
HEADER_ROW_EN = 4
FIRST_DATA_ROW = 5

# Excel's own "light red" conditional-format colour for overdue rows, and a stronger red
# for issues escalated to the general manager (level 2), so they stand out among overdue.
OVERDUE_FILL = "FFFFC7CE"
ESCALATED_FILL = "FFFF8B8B"
HEADER_FILL_ZH = "FFBDD7EE"
HEADER_FILL_EN = "FFDDEBF7"
TIMESTAMP_FORMAT = "yyyy-mm-dd hh:mm"
DATE_FORMAT = "yyyy-mm-dd"
RATE_FORMAT = "0.0%"
CHANGE_FORMAT = "+0.0%;-0.0%;0.0%"
SATISFACTION_STATUSES = ("evaluated", "pending", "no_surveys")


@dataclass(frozen=True, kw_only=True)
class SatisfactionCells:
    """One closed issue's satisfaction post-evaluation, as the warehouse computed it.

    While `status` is "pending" the after window is not over: `after_rate` is the rate of
    the days seen so far (`after_days_observed` of them) and `rate_change` is None.
    """

    before_rate: float | None
    after_rate: float | None
    rate_change: float | None
    status: str
    after_days_observed: int

    def __post_init__(self) -> None:
        if self.status not in SATISFACTION_STATUSES:
            raise ValueError(f"satisfaction status {self.status!r} not in {SATISFACTION_STATUSES}")


@dataclass(frozen=True, kw_only=True)
class ClosureRow:
    """One issue on a department's closure list (timestamps naive, Asia/Shanghai).

    Keyword-only because the spec's column order puts `verification_required` (which has
    a default) in the middle, and 25 positional arguments would be error-prone anyway.
    """

    issue_id: int
    kpi_code: str
    kpi_name_zh: str
    kpi_name_en: str
    region_code: str
    region_name_zh: str
    region_name_en: str
    severity: str
    state: str
    opened_at: datetime
    current_deadline: datetime | None
    days_open: int
    days_overdue: int
    escalation_level: int
    responsible: str | None
    root_cause_category: str | None
    corrective_actions: str | None
    target_date: date | None
    fix_date: date | None
    verification_days: int | None
    verification_required: int = 7
    closed_at: datetime | None
    reopen_count: int
    last_update: datetime
    overdue: bool
    # Satisfaction post-evaluation of a closed issue (dbt mart
    # fct_issue_satisfaction_evaluation): K05 rates before the opening and after the
    # closing; None for an issue that is not closed or not evaluated yet.
    satisfaction: SatisfactionCells | None = None

    def __post_init__(self) -> None:
        # Sorting and colouring depend on these; a typo should fail here, not in Excel.
        if self.severity not in SEVERITIES:
            raise ValueError(f"issue {self.issue_id}: severity {self.severity!r} not in {SEVERITIES}")
        if self.escalation_level not in (0, 1, 2):
            raise ValueError(f"issue {self.issue_id}: escalation_level {self.escalation_level} not in 0..2")
        if self.satisfaction is not None and self.state != "closed":
            raise ValueError(f"issue {self.issue_id}: satisfaction evaluated for a {self.state} issue")

    @property
    def satisfaction_before(self) -> float | None:
        return self.satisfaction.before_rate if self.satisfaction else None

    @property
    def satisfaction_after(self) -> float | None:
        return self.satisfaction.after_rate if self.satisfaction else None

    @property
    def satisfaction_change(self) -> float | None:
        return self.satisfaction.rate_change if self.satisfaction else None

    @property
    def satisfaction_status(self) -> str | None:
        return self.satisfaction.status if self.satisfaction else None

    @property
    def satisfaction_after_days(self) -> int | None:
        return self.satisfaction.after_days_observed if self.satisfaction else None

    @property
    def verification_progress(self) -> str | None:
        """Days passed of the verification window, e.g. "3/7"; None when not verifying."""
        if self.verification_days is None:
            return None
        return f"{self.verification_days}/{self.verification_required}"


# (key, header_zh, header_en). The key is the CSV header and a ClosureRow attribute
# (verification_progress and the satisfaction_* columns are derived properties above).
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("issue_id", "问题编号", "Issue ID"),
    ("kpi_code", "指标编码", "KPI code"),
    ("kpi_name_zh", "指标名称", "KPI name (Chinese)"),
    ("kpi_name_en", "指标名称(英文)", "KPI name"),
    ("region_code", "区域编码", "Region code"),
    ("region_name_zh", "区域", "Region (Chinese)"),
    ("region_name_en", "区域(英文)", "Region"),
    ("severity", "严重程度", "Severity"),
    ("state", "状态", "State"),
    ("opened_at", "开单时间", "Opened at"),
    ("current_deadline", "当前环节时限", "Current-step deadline"),
    ("days_open", "已开天数", "Days open"),
    ("days_overdue", "逾期天数", "Days overdue"),
    ("escalation_level", "升级级别", "Escalation level"),
    ("responsible", "责任人", "Responsible"),
    ("root_cause_category", "根因类别", "Root-cause category"),
    ("corrective_actions", "整改措施", "Corrective actions"),
    ("target_date", "计划完成日期", "Target date"),
    ("fix_date", "整改完成日期", "Fix date"),
    ("verification_progress", "验证进度", "Verification progress"),
    ("closed_at", "销项时间", "Closed at"),
    ("reopen_count", "重开次数", "Reopen count"),
    ("last_update", "最后更新", "Last update"),
    # closed issues only: K05 satisfaction of the contact types the KPI
    # concerns, in the issue's region, 30 days before the opening and after the closing
    ("satisfaction_before", "开单前满意率", "Satisfaction before opening"),
    ("satisfaction_after", "销项后满意率", "Satisfaction after closing"),
    ("satisfaction_change", "满意率变化", "Satisfaction change"),
    ("satisfaction_status", "满意度后评估", "Satisfaction evaluation"),
    ("satisfaction_after_days", "销项后已观察天数", "Days observed after closing"),
)
COLUMN_KEYS: tuple[str, ...] = tuple(key for key, _, _ in COLUMNS)

# Column widths in Excel character units; free-text columns wide and wrapped.
_WIDTHS: dict[str, float] = {
    "issue_id": 9, "kpi_code": 9, "kpi_name_zh": 22, "kpi_name_en": 30,
    "region_code": 10, "region_name_zh": 10, "region_name_en": 14, "severity": 9,
    "state": 13, "opened_at": 17, "current_deadline": 17, "days_open": 9,
    "days_overdue": 9, "escalation_level": 10, "responsible": 12,
    "root_cause_category": 13, "corrective_actions": 50, "target_date": 12,
    "fix_date": 12, "verification_progress": 12, "closed_at": 17, "reopen_count": 9,
    "last_update": 17, "satisfaction_before": 12, "satisfaction_after": 12,
    "satisfaction_change": 12, "satisfaction_status": 13, "satisfaction_after_days": 11,
}
_NUMBER_FORMATS: dict[str, str] = {
    "satisfaction_before": RATE_FORMAT, "satisfaction_after": RATE_FORMAT,
    "satisfaction_change": CHANGE_FORMAT,
}
_WRAPPED = frozenset({"kpi_name_zh", "kpi_name_en", "corrective_actions"})


@dataclass(frozen=True)
class ClosureListFiles:
    department_code: str
    xlsx: Path
    csv: Path
    rows: int
    overdue: int
    escalated: int


# --------------------------------------------------------------------------- helpers


def sort_rows(rows: Sequence[ClosureRow]) -> list[ClosureRow]:
    """Overdue first (most days overdue first), then severity P1..P3, then issue id."""
    return sorted(rows, key=lambda r: (
        not r.overdue,
        -r.days_overdue if r.overdue else 0,
        SEVERITIES.index(r.severity),
        r.issue_id,
    ))


def closure_list_file_stem(department_code: str, as_of_date: date) -> str:
    return f"closure_list_{department_code}_{as_of_date:%Y%m%d}"


def _naive_local(value: datetime) -> datetime:
    """Excel has no time zones: aware values are shown in Asia/Shanghai, naive kept as is."""
    if value.tzinfo is None:
        return value
    return value.astimezone(LOCAL_TZ).replace(tzinfo=None)


def _value(row: ClosureRow, key: str) -> object:
    value = getattr(row, key)
    return _naive_local(value) if isinstance(value, datetime) else value


def _csv_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


@contextmanager
def _atomic_target(path: Path) -> Iterator[Path]:
    """Yield a temporary path next to `path`; on success fsync and rename it into place.

    The temporary name is unique (mkstemp) and hidden (leading dot), and it is removed
    when writing fails, so the folder never holds a partial file under the final name.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; the lists are shared with other readers
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


# --------------------------------------------------------------------------- CSV


def write_closure_csv(rows: Sequence[ClosureRow], path: Path) -> Path:
    """The machine-readable list: header = COLUMN_KEYS, rows in `sort_rows` order."""
    path = Path(path)
    with _atomic_target(path) as tmp:
        with open(tmp, "w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(COLUMN_KEYS)
            for row in sort_rows(rows):
                writer.writerow([_csv_text(neutralise(_value(row, key))) for key in COLUMN_KEYS])
    return path


# --------------------------------------------------------------------------- workbook


def _set_text_or_value(cell, value: object) -> None:
    """Assign a value; free text is forced to a string cell.

    openpyxl turns any string starting with "=" into a formula, and refuses control
    characters; user-typed corrective actions may contain either.
    """
    if isinstance(value, str):
        cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)
        cell.data_type = "s"
    else:
        cell.value = value
    if isinstance(value, datetime):
        cell.number_format = TIMESTAMP_FORMAT
    elif isinstance(value, date):
        cell.number_format = DATE_FORMAT


def _write_title(ws, *, department_code: str, department_name_zh: str,
                 department_name_en: str, generated_at: datetime, rows: Sequence[ClosureRow]) -> None:
    overdue = sum(r.overdue for r in rows)
    escalated = sum(r.escalation_level > 0 for r in rows)
    ws.cell(1, 1, f"销项清单 Closure list — {department_name_zh} {department_name_en} "
                  f"({department_code})").font = Font(bold=True, size=14)
    ws.cell(2, 1, f"生成时间 Generated at {_naive_local(generated_at):%Y-%m-%d %H:%M} · "
                  f"共 {len(rows)} 项 rows · 逾期 {overdue} overdue · 升级 {escalated} escalated")


def _write_headers(ws) -> None:
    thin = Side(style="thin", color="FF8EA9C1")
    for row_index, header_pos, colour in ((HEADER_ROW_ZH, 1, HEADER_FILL_ZH),
                                          (HEADER_ROW_EN, 2, HEADER_FILL_EN)):
        for col, column in enumerate(COLUMNS, start=1):
            cell = ws.cell(row_index, col, column[header_pos])
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor=colour)
            cell.alignment = Alignment(wrap_text=True, vertical="center")
            cell.border = Border(bottom=thin)


def _row_fill(row: ClosureRow) -> PatternFill | None:
    if not row.overdue:
        return None
    colour = ESCALATED_FILL if row.escalation_level >= 2 else OVERDUE_FILL
    return PatternFill("solid", fgColor=colour)


def _write_data(ws, rows: Sequence[ClosureRow]) -> None:
    top = Alignment(vertical="top")
    wrapped = Alignment(vertical="top", wrap_text=True)
    for row_index, row in enumerate(sort_rows(rows), start=FIRST_DATA_ROW):
        fill = _row_fill(row)
        for col, key in enumerate(COLUMN_KEYS, start=1):
            cell = ws.cell(row_index, col)
            _set_text_or_value(cell, _value(row, key))
            if key in _NUMBER_FORMATS:
                cell.number_format = _NUMBER_FORMATS[key]
            cell.alignment = wrapped if key in _WRAPPED else top
            if fill is not None:
                cell.fill = fill


def _format_sheet(ws, n_rows: int) -> None:
    last_col = get_column_letter(len(COLUMNS))
    for col, key in enumerate(COLUMN_KEYS, start=1):
        ws.column_dimensions[get_column_letter(col)].width = _WIDTHS[key]
    # Filter buttons sit on the English header row (the row just above the data); the
    # Chinese row above it stays outside the range so it is never filtered away.
    ws.auto_filter.ref = f"A{HEADER_ROW_EN}:{last_col}{HEADER_ROW_EN + n_rows}"
    ws.freeze_panes = f"B{FIRST_DATA_ROW}"  # headers and the issue id stay visible
    ws.print_title_rows = f"{HEADER_ROW_ZH}:{HEADER_ROW_EN}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def write_closure_workbook(rows: Sequence[ClosureRow], path: Path, *, department_code: str,
                           department_name_zh: str, department_name_en: str,
                           generated_at: datetime) -> Path:
    """The human-readable list: one sheet "销项清单", layout as in HEADER_ROW_* / FIRST_DATA_ROW."""
    path = Path(path)
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET_TITLE
    _write_title(ws, department_code=department_code, department_name_zh=department_name_zh,
                 department_name_en=department_name_en, generated_at=generated_at, rows=rows)
    _write_headers(ws)
    _write_data(ws, rows)
    _format_sheet(ws, len(rows))
    wb.properties.title = f"{SHEET_TITLE} {department_code}"
    wb.properties.creator = "QualityLoop"
    with _atomic_target(path) as tmp:
        wb.save(tmp)
    return path


# --------------------------------------------------------------------------- per department


def write_department_lists(rows_by_department: Mapping[str, Sequence[ClosureRow]],
                           departments: Sequence[Department], out_dir: Path,
                           generated_at: datetime) -> list[ClosureListFiles]:
    """Workbook + CSV for every department, in `departments` order.

    A department with no rows still gets both files (headers only): its owner must see
    "nothing open" rather than nothing. Rows filed under a department code that is not in
    `departments` are an error (raised before any file is written), not silently dropped.
    """
    known = {d.code for d in departments}
    unknown = sorted(set(rows_by_department) - known)
    if unknown:
        raise ValueError(f"closure rows for unknown department(s): {', '.join(unknown)}")
    out_dir = Path(out_dir)
    as_of = _naive_local(generated_at).date()
    results: list[ClosureListFiles] = []
    for dept in departments:
        rows = list(rows_by_department.get(dept.code, ()))
        stem = closure_list_file_stem(dept.code, as_of)
        xlsx = write_closure_workbook(
            rows, out_dir / f"{stem}.xlsx", department_code=dept.code,
            department_name_zh=dept.name_zh, department_name_en=dept.name_en,
            generated_at=generated_at)
        csv_path = write_closure_csv(rows, out_dir / f"{stem}.csv")
        results.append(ClosureListFiles(
            department_code=dept.code, xlsx=xlsx, csv=csv_path, rows=len(rows),
            overdue=sum(r.overdue for r in rows),
            escalated=sum(r.escalation_level > 0 for r in rows)))
    return results
